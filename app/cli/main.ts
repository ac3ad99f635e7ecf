/** The `trit` command: dispatches to one module per subcommand, each loaded on first use. */

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
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(await usage());
    return name ? 0 : 2;
  }
  const load = subcommands[name];
  if (!load) {
    console.error(`Unknown command "${name}".\n\n${await usage()}`);
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
    return 1;
  }
}
