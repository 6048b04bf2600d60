/**
 * The `rondo-vmm` command line: parses the command name and hands the rest to its module.
 * Exit codes: 0 success, 1 failure, 2 usage error, 128 + n after signal n.
 */
import { type Command, formatError } from './cli.js';
import { VmmError } from './errors.js';

const commands: Record<string, () => Promise<Command>> = {
  // Each command lives in src/commands/<name>.ts and exports `command`; loaded only when used.
  run: async () => (await import('./commands/run.js')).command,
  compare: async () => (await import('./commands/compare.js')).command,
  'build-guest': async () => (await import('./commands/build-guest.js')).command,
};

/** Runs the CLI with `argv` (without node and script) and resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const lines = ['Usage: rondo-vmm <command> [options]', '', 'Commands:'];
    for (const [cmd, load] of Object.entries(commands))
      lines.push(`  ${cmd.padEnd(12)} ${(await load()).summary}`);
    lines.push('', "Run `rondo-vmm <command> --help` for a command's options and an example.");
    (name === undefined ? process.stderr : process.stdout).write(`${lines.join('\n')}\n`);
    return name === undefined ? 2 : 0;
  }
  const load = commands[name];
  if (!load) {
    const known = Object.keys(commands).join(', ');
    const err = new VmmError(
      'ERR_VMM_USAGE',
      `unknown command ${JSON.stringify(name)} (commands: ${known}) — see rondo-vmm --help`,
    );
    process.stderr.write(`${formatError(err)}\n`);
    return 2;
  }
  return (await load()).run(rest);
}
