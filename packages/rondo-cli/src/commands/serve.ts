/**
 * `rondo serve`: serves a store over HTTP from a separate process (the dashboard, Prometheus'
 * query API for selectors, remote read, /metrics) until SIGINT or SIGTERM. Opens the store
 * read-only, so it runs beside the program that writes it. Thin: the server is rondo/server.
 */
import { isRondoError } from 'rondo';
import { checkServeOptions, type ServeOptions, serve } from 'rondo/server';
import { execute, openStore, parseCommandArgs, positionals, usageError } from '../cli.js';
import type { Command } from '../command.js';

const HELP = `Usage: rondo serve <store> [--listen HOST:PORT] [--token TOKEN] [--verbose]

Serves a store over HTTP until SIGINT or SIGTERM. The store is opened read-only, so this runs
beside the program that writes it, and sees its new series and points as they arrive.

  /                      the dashboard: series, charts, time range, live follow, store info
  /api/v1/query_range    Prometheus' HTTP API for plain selectors (also /query, /series,
  /api/v1/query          /labels, /label/<name>/values), in Prometheus' JSON shapes
  /api/v1/read           Prometheus remote read: point a Prometheus at it for full PromQL
  /metrics               the newest value of each series, for a Prometheus to scrape

Options:
  --listen HOST:PORT   address to listen on (default 127.0.0.1:9464; [::1]:9464 for IPv6).
                       Anything but loopback needs a token.
  --token TOKEN        require "Authorization: Bearer TOKEN" on every API request (the page
                       asks for it once). Default: the RONDO_SERVE_TOKEN environment variable,
                       which keeps it out of the process list.
  --verbose            print stack traces of errors
  -h, --help           show this help

Prints one line with the address once it is listening. Exit codes: 0 after SIGINT/SIGTERM,
1 runtime error (e.g. the port is in use), 2 usage error. See docs/serve.md.

Example:
  rondo serve ./metrics --listen 127.0.0.1:9464
`;

const OPTIONS = {
  listen: { type: 'string' },
  token: { type: 'string' },
} as const;

/** Parses and checks the command line before the store is opened (errors exit 2). */
function parseRequest(args: string[]): { dir: string; options: ServeOptions } {
  const parsed = parseCommandArgs('serve', args, OPTIONS);
  const [dir] = positionals('serve', parsed, ['<store>']);
  const v = parsed.values as Record<string, string | undefined>;
  const token = v['token'] ?? (process.env['RONDO_SERVE_TOKEN'] || undefined);
  const options: ServeOptions = {
    listen: v['listen'] ?? '127.0.0.1:9464',
    ...(token === undefined ? {} : { token }),
  };
  try {
    checkServeOptions(options);
  } catch (err) {
    if (!isRondoError(err)) throw err;
    throw usageError('serve', err.message.replace(/^serve: /, '').replace(/^listen /, '--listen '));
  }
  return { dir: dir!, options };
}

async function run(args: string[]): Promise<number> {
  const req = parseRequest(args);
  const store = openStore(req.dir);
  try {
    const server = await serve(store, req.options);
    process.stdout.write(
      `serving ${req.dir} at ${server.url}${req.options.token ? ' (token required)' : ''}\n`,
    );
    await new Promise<void>((resolve) => {
      const done = (): void => {
        process.off('SIGINT', done);
        process.off('SIGTERM', done);
        resolve();
      };
      process.on('SIGINT', done);
      process.on('SIGTERM', done);
    });
    await server.close();
    return 0;
  } finally {
    store.close();
  }
}

/** The `rondo serve` command. */
export const command: Command = {
  summary: 'serve a store over HTTP: dashboard, Prometheus query API, remote read, /metrics',
  help: HELP,
  run: (args) =>
    execute(HELP, args, () => run(args), {
      ERR_RONDO_IO: 'is another server on that port? pick another with --listen HOST:PORT',
    }),
};
