import type { Subcommand } from './main.ts';

// TODO: placeholder until this command is built.
export const command: Subcommand = {
  summary: 'not built yet',
  help: 'trit convert: not built yet.',
  async run() {
    console.error('trit convert is not built yet.');
    return 1;
  },
};
