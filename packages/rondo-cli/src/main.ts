/**
 * The `rondo` command line: parses the command name and hands the rest to its module.
 * Exit codes: 0 success, 1 runtime error, 2 usage error.
 */
import { readFileSync } from 'node:fs';
import { formatError, usageError } from './cli.js';
import type { Command } from './command.js';

/** Each command lives in src/commands/<name>.ts and exports `command`; loaded only when used. */
const commands: Record<string, () => Promise<Command>> = {
  info: async () => (await import('./commands/info.js')).command,
  query: async () => (await import('./commands/query.js')).command,
  bench: async () => (await import('./commands/bench.js')).command,
  push: async () => (await import('./commands/push.js')).command,
  migrate: async () => (await import('./commands/migrate.js')).command,
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

/** `rondo <version> (node <version>)`, from the package's own package.json. */
export function versionLine(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return `rondo ${pkg.version} (node ${process.version})`;
}

async function topLevelHelp(): Promise<string> {
  const lines = ['Usage: rondo <command> [options]', '', 'Commands:'];
  for (const [cmd, load] of Object.entries(commands))
    lines.push(`  ${cmd.padEnd(8)} ${(await load()).summary}`);
  lines.push(
    '',
    "Run `rondo <command> --help` (or `rondo help <command>`) for a command's options and an example.",
    '`rondo --version` prints the version.',
  );
  return `${lines.join('\n')}\n`;
}

/** Reports a usage error found before any command runs; returns its exit code. */
function refuse(message: string): number {
  const err = usageError(null, message);
  process.stderr.write(`${formatError(err)}\n`);
  return err.exitCode;
}

function unknownCommand(name: string): string {
  return `unknown command ${JSON.stringify(name)} (commands: ${Object.keys(commands).join(', ')})`;
}

/** Runs the CLI with `argv` (without node and script) and resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  endQuietlyOnClosedStdout();
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') {
    if (rest.length > 0) return refuse(`${name} takes no arguments`);
    process.stdout.write(`${versionLine()}\n`);
    return 0;
  }
  if (name === 'help' && rest.length > 0) {
    // `rondo help query` is `rondo query --help`.
    const [topic, ...extra] = rest;
    if (extra.length > 0) return refuse(`help takes one command name, got ${rest.length}`);
    const load = topic === undefined ? undefined : commands[topic];
    if (load === undefined) return refuse(unknownCommand(topic ?? ''));
    return (await load()).run(['--help']);
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    // Asked for (--help): stdout, exit 0. No command at all is a usage error: stderr, exit 2.
    const text = await topLevelHelp();
    if (name === undefined) {
      process.stderr.write(text);
      return 2;
    }
    process.stdout.write(text);
    return 0;
  }
  const load = commands[name];
  if (!load) return refuse(unknownCommand(name));
  return (await load()).run(rest);
}
