/**
 * `rondo push`: ships a store to a Prometheus remote-write endpoint, from a separate process.
 * Opens the store read-only; the drain cursor (`cursors/<name>.json`) makes it resume where it
 * stopped, across restarts, and at-least-once: a batch is committed only after it was accepted.
 */
import { parseDuration, writerActive } from 'rondo';
import { type PushEvent, startPush } from 'rondo/remote-write';
import {
  CliError,
  EXIT_FAILURE,
  execute,
  openStore,
  parseCommandArgs,
  positionals,
  usageError,
} from '../cli.js';
import type { Command } from '../main.js';

const HELP = `Usage: rondo push <store> --url URL [--tier N] [--every 10s | --once] [--label k=v]... [--name NAME]

Pushes the points of a store to a Prometheus remote-write endpoint (Prometheus with
--web.enable-remote-write-receiver, VictoriaMetrics, Mimir, Thanos receive, ...). The store is
opened read-only, so this runs beside the program that writes it. Progress is kept in a durable
cursor inside the store (cursors/<name>.json): a restarted push resumes where it stopped, and a
batch is only marked sent after the receiver accepted it. One pusher per cursor name at a time.

Only closed slots are pushed while a writer is active; at exit (or with --once) the newest,
still open slot is pushed too when no writer holds the store.

Options:
  --url URL            remote-write endpoint (required), e.g. http://127.0.0.1:9090/api/v1/write
  --tier N             tier to push (default 0)
  --every DURATION     push every DURATION until SIGINT or SIGTERM, then push what is left (default 10s)
  --once               push what is there now and exit
  --label k=v          external label added to every series without that label (repeatable)
  --name NAME          cursor name (default prometheus); use one name per destination
  --max-samples N      samples per batch (default 10000)
  --timeout DURATION   per-request timeout (default 30s)
  --verbose            print retries and stack traces

Prints one line per push: samples, series, duration. Exit codes: 0 ok, 1 runtime error
(e.g. HTTP 401/403/404, or the receiver still failing at --once), 2 usage error.

Example:
  rondo push ./metrics --url http://127.0.0.1:9090/api/v1/write --every 15s --label instance=web1
`;

const OPTIONS = {
  url: { type: 'string' },
  tier: { type: 'string' },
  every: { type: 'string' },
  once: { type: 'boolean' },
  label: { type: 'string', multiple: true },
  name: { type: 'string' },
  'max-samples': { type: 'string' },
  timeout: { type: 'string' },
} as const;

function wholeNumber(
  cmd: string,
  what: string,
  text: string | undefined,
  fallback: number,
  min: number,
): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min)
    throw usageError(cmd, `${what} must be a whole number ≥ ${min}, got ${JSON.stringify(text)}`);
  return n;
}

function duration(cmd: string, what: string, text: string | undefined, fallback: string): string {
  const value = text ?? fallback;
  try {
    parseDuration(value, what);
  } catch {
    throw usageError(cmd, `${what} must be a duration like 500ms, 10s or 1m, got ${JSON.stringify(value)}`);
  }
  return value;
}

async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs('push', args, OPTIONS);
  const [dir] = positionals('push', parsed, ['<store>']);
  const v = parsed.values as Record<string, string | boolean | string[] | undefined>;
  const url = v['url'] as string | undefined;
  if (url === undefined) throw usageError('push', 'missing --url');
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
  } catch {
    throw usageError('push', `--url must be an http(s) URL, got ${JSON.stringify(url)}`);
  }
  if (v['once'] === true && v['every'] !== undefined)
    throw usageError('push', '--every and --once exclude each other');
  const every = duration('push', '--every', v['every'] as string | undefined, '10s');
  const timeout = duration('push', '--timeout', v['timeout'] as string | undefined, '30s');
  const tier = wholeNumber('push', '--tier', v['tier'] as string | undefined, 0, 0);
  const maxSamples = wholeNumber('push', '--max-samples', v['max-samples'] as string | undefined, 10_000, 1);
  const name = (v['name'] as string | undefined) ?? 'prometheus';
  const externalLabels: Record<string, string> = {};
  for (const pair of (v['label'] as string[] | undefined) ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw usageError('push', `--label must be k=v, got ${JSON.stringify(pair)}`);
    externalLabels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const verbose = v['verbose'] === true;

  const store = openStore(dir!);
  let fatal: Error | null = null;
  let wake: (() => void) | null = null;
  const onEvent = (e: PushEvent): void => {
    switch (e.type) {
      case 'pushed':
        process.stdout.write(
          `pushed ${e.samples} samples, ${e.series} series in ${Math.round(e.durationMs)} ms${e.final ? ' (final)' : ''}\n`,
        );
        break;
      case 'gap':
        process.stderr.write(
          `rondo push: ${e.slots} series-slots of ${e.series} series left the ring before they were pushed\n`,
        );
        break;
      case 'dropped':
        process.stderr.write(
          `rondo push: the receiver refused ${e.samples} samples (HTTP ${e.status}): ${e.message}\n`,
        );
        break;
      case 'retry':
        if (verbose)
          process.stderr.write(
            `rondo push: retry ${e.attempt} in ${Math.round(e.delayMs)} ms: ${e.status ?? e.message}\n`,
          );
        break;
      case 'error':
        process.stderr.write(`rondo push: push failed, will retry: ${e.error.message}\n`);
        break;
      case 'fatal':
        fatal = e.error;
        wake?.();
        break;
    }
  };
  try {
    const pusher = startPush(store, {
      url,
      every,
      tier,
      name,
      maxSamples,
      timeout,
      externalLabels,
      onEvent,
      // A writer may still record into the newest slot: leave it for a later push.
      includeOpenOnStop: () => !writerActive(store.dir),
    });
    if (v['once'] !== true) {
      // The pusher's timer is unreferenced: keep the process alive until a signal or a fatal error.
      const keepAlive = setInterval(() => {}, 1 << 30);
      await new Promise<void>((resolve) => {
        wake = resolve;
        if (fatal !== null) resolve();
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      clearInterval(keepAlive);
    }
    try {
      await pusher.stop();
    } catch (err) {
      throw new CliError(
        (err as { code?: string }).code ?? 'ERR_RONDO_PUSH',
        (err as Error).message,
        EXIT_FAILURE,
      );
    }
    return 0;
  } finally {
    store.close();
  }
}

/** The `rondo push` command. */
export const command: Command = {
  summary: 'push a store to a Prometheus remote-write endpoint (resumable, at-least-once)',
  help: HELP,
  run: (args) => execute(HELP, args, () => run(args)),
};
