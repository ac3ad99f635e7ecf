/**
 * The `trit` command: dispatches to one module per subcommand, each loaded on first use. Errors
 * print as one line, `trit <command>: <message>`. A `UsageError` exits with code 2, and any other
 * failure with code 1.
 */
import { UsageError, nearest } from './args.ts';

export interface Subcommand {
  summary: string;
  help: string;
  /** Runs with the arguments after the subcommand name; returns the exit code. */
  run(args: string[]): Promise<number>;
}

const subcommands: Record<string, () => Promise<Subcommand>> = {
  convert: async () => (await import('./convert.ts')).command,
  generate: async () => (await import('./generate.ts')).command,
  bench: async () => (await import('./bench.ts')).command,
  'make-checkpoint': async () => (await import('./make-checkpoint.ts')).command,
};

async function usage(): Promise<string> {
  const lines = ['Usage: trit <command> [options]', '', 'Commands:'];
  for (const [name, load] of Object.entries(subcommands)) {
    try {
      lines.push(`  ${name.padEnd(16)} ${(await load()).summary}`);
    } catch {
      lines.push(`  ${name.padEnd(16)} (not available in this build)`);
    }
  }
  lines.push('', 'Run `trit <command> --help` for the options of a command.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    console.log(await usage());
    return 0;
  }
  if (!name) {
    console.error(await usage());
    return 2;
  }
  const load = subcommands[name];
  if (!load) {
    const names = Object.keys(subcommands);
    const guess = nearest(name, names);
    const hint = guess ? `Did you mean ${guess}?` : `The commands are ${names.join(', ')}.`;
    console.error(`trit: Unknown command "${name}". ${hint}`);
    return 2;
  }
  const command = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.help);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`trit ${name}: ${message}`);
    if (process.env.TRIT_DEBUG) console.error(error);
    return error instanceof UsageError ? 2 : 1;
  }
}
