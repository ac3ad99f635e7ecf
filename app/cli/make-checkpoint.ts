import type { Subcommand } from './main.ts';

// TODO: placeholder until this command is built.
export const command: Subcommand = {
  summary: 'not built yet',
  help: 'trit make-checkpoint: not built yet.',
  async run() {
    console.error('trit make-checkpoint is not built yet.');
    return 1;
  },
};
