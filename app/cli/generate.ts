import type { Subcommand } from './main.ts';

// TODO: placeholder until this command is built.
export const command: Subcommand = {
  summary: 'not built yet',
  help: 'trit generate: not built yet.',
  async run() {
    console.error('trit generate is not built yet.');
    return 1;
  },
};
