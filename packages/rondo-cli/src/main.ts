/**
 * The `rondo` command line: parses the command name and hands the rest to its module.
 * Exit codes: 0 success, 1 runtime error, 2 usage error.
 */

import { formatError, usageError } from './cli.js';

/** A subcommand: its one-line summary, its --help text, and its runner (returns the exit code). */
export interface Command {
  /** One line for the top-level help. */
  summary: string;
  /** Full --help text, with an example. */
  help: string;
  /** Runs the command with the arguments after its name. */
  run(args: string[]): Promise<number>;
}

const commands: Record<string, () => Promise<Command>> = {
  // Each command lives in src/commands/<name>.ts and exports `command`; loaded only when used.
  info: async () => (await import('./commands/info.js')).command,
  query: async () => (await import('./commands/query.js')).command,
  bench: async () => (await import('./commands/bench.js')).command,
  push: async () => (await import('./commands/push.js')).command,
  serve: async () => (await import('./commands/serve.js')).command,
};

/**
 * A reader that goes away early (`rondo query … | head -1`) is not an error: end quietly.
 * Node ignores SIGPIPE, so the closed pipe arrives as an EPIPE 'error' event on stdout.
 */
function endQuietlyOnClosedStdout(): void {
  if (process.stdout.listenerCount('error') > 0) return;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') process.exit(0);
    process.stderr.write(`rondo: ${err.code ?? 'ERR_RONDO_IO'}: cannot write output: ${err.message}\n`);
    process.exit(1);
  });
}

/** Runs the CLI with `argv` (without node and script) and resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  endQuietlyOnClosedStdout();
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const lines = ['Usage: rondo <command> [options]', '', 'Commands:'];
    for (const [cmd, load] of Object.entries(commands))
      lines.push(`  ${cmd.padEnd(8)} ${(await load()).summary}`);
    lines.push('', "Run `rondo <command> --help` for a command's options and an example.");
    // Asked for (--help): stdout, exit 0. No command at all is a usage error: stderr, exit 2.
    if (name === undefined) {
      process.stderr.write(`${lines.join('\n')}\n`);
      return 2;
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  }
  const load = commands[name];
  if (!load) {
    const err = usageError(
      null,
      `unknown command ${JSON.stringify(name)} (commands: ${Object.keys(commands).join(', ')})`,
    );
    process.stderr.write(`${formatError(err)}\n`);
    return err.exitCode;
  }
  return (await load()).run(rest);
}
