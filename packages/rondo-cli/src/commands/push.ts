/**
 * `rondo push`: ships a store to a Prometheus remote-write endpoint, from a separate process.
 * Opens the store read-only; the drain cursor (`cursors/<name>.json`) makes it resume where it
 * stopped, across restarts, and at-least-once: a batch is committed only after it was accepted.
 */
import { constants } from 'node:os';
import { isRondoError, MAX_TIMER_MS, parseTimerDuration, writerActive } from 'rondo';
import { PushError, type PushEvent, RemoteWriter, startPush, validateCursorName } from 'rondo/remote-write';
import {
  CliError,
  countOption,
  EXIT_FAILURE,
  execute,
  openStore,
  parseCommandArgs,
  positionals,
  usageError,
} from '../cli.js';
import type { Command } from '../main.js';

const HELP = `Usage: rondo push <store> --url URL [--tier N] [--every 10s | --once] [--label k=v]... [--name NAME]
                  [--max-samples N] [--timeout 30s] [--stop-timeout 10s] [--verbose]

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
  --stop-timeout D     longest the final push may take: the one at SIGINT/SIGTERM (default 10s),
                       or all of --once (default: no limit); what is left stays for the next run
  --verbose            print retries, pushes that found nothing new, and stack traces
  -h, --help           show this help

Prints one line per push on stdout: samples, distinct series, duration, and how many samples
the receiver refused (HTTP 400) if any. A push that finds nothing new prints "nothing new to
push": always with --once, and with --every only under --verbose (an idle store stays quiet).
Refused samples, gaps and errors go to stderr. A second SIGINT or SIGTERM during the final push
ends it at once (exit 130 or 143); what it did not deliver stays for the next run. Exit codes:
0 ok, 1 runtime error (e.g. HTTP 401/403/404, or the receiver still failing at --once or at
exit), 2 usage error.

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
  'stop-timeout': { type: 'string' },
} as const;

/** A duration option that becomes a timer delay, in ms; a usage error naming it when bad. */
function timerDuration(what: string, text: string | undefined, fallback: string): number {
  try {
    return parseTimerDuration(text ?? fallback, what);
  } catch (err) {
    if (!isRondoError(err)) throw err;
    throw usageError('push', err.message);
  }
}

/** A RemoteWriter's complaint about --url, --timeout or a --label, as a usage error naming the option. */
function writerUsageError(err: Error): CliError {
  const message = err.message
    .replace(/^RemoteWriter timeout:/, '--timeout:')
    .replace(/^RemoteWriter: url/, '--url')
    .replace(/^RemoteWriter: external label/, '--label: external label')
    .replace(/^RemoteWriter: /, '');
  return usageError('push', message);
}

/** Hints that differ from the shared ones: push has no tier 'auto'. */
const PUSH_HINTS = {
  ERR_RONDO_INVALID_TIER: 'pick one of the tiers `rondo info` lists',
};

/** Parses and checks the whole command line before the store is opened (errors exit 2). */
function parseRequest(args: string[]) {
  const parsed = parseCommandArgs('push', args, OPTIONS);
  const [dir] = positionals('push', parsed, ['<store>']);
  const v = parsed.values as Record<string, string | boolean | string[] | undefined>;
  const url = v['url'] as string | undefined;
  if (url === undefined) throw usageError('push', 'missing --url');
  if (v['once'] === true && v['every'] !== undefined)
    throw usageError('push', '--every and --once exclude each other');
  const every = timerDuration('--every', v['every'] as string | undefined, '10s');
  const stopText = v['stop-timeout'] as string | undefined;
  // All of --once may take as long as it needs: "no limit" is the longest a timer waits.
  const stopTimeout =
    stopText === undefined && v['once'] === true
      ? MAX_TIMER_MS
      : timerDuration('--stop-timeout', stopText, '10s');
  const tier = countOption('push', '--tier', v['tier'] as string | undefined, 0, 0);
  const maxSamples = countOption('push', '--max-samples', v['max-samples'] as string | undefined, 10_000, 1);
  const name = (v['name'] as string | undefined) ?? 'prometheus';
  try {
    validateCursorName(name);
  } catch (err) {
    if (!isRondoError(err)) throw err;
    throw usageError('push', `--name: ${err.message}`);
  }
  const externalLabels: Record<string, string> = {};
  for (const pair of (v['label'] as string[] | undefined) ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw usageError('push', `--label must be k=v, got ${JSON.stringify(pair)}`);
    externalLabels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  // --url, --timeout and the labels are checked by the writer itself, so the rules agree.
  const timeout = (v['timeout'] as string | undefined) ?? '30s';
  try {
    new RemoteWriter({ url, timeout, externalLabels });
  } catch (err) {
    if (!isRondoError(err)) throw err;
    throw writerUsageError(err);
  }
  return {
    dir: dir!,
    url,
    every,
    timeout,
    stopTimeout,
    tier,
    maxSamples,
    name,
    externalLabels,
    once: v['once'] === true,
    verbose: v['verbose'] === true,
  };
}

/** The one-line error of a failed push, with what to do; nothing is lost either way. */
function pushFailure(err: PushError): CliError {
  const resume = 'nothing was lost: run rondo push again once that is fixed, it resumes where it stopped';
  const hint =
    err.status === 401 || err.status === 403
      ? `rondo push sends no credentials, so use a receiver (or a path) that needs none; ${resume}`
      : err.status === 404
        ? `fix --url (Prometheus needs --web.enable-remote-write-receiver); ${resume}`
        : err.retryable
          ? `the receiver is down or overloaded; ${resume}`
          : resume;
  return new CliError(err.code, err.message, EXIT_FAILURE, hint);
}

async function run(args: string[]): Promise<number> {
  const req = parseRequest(args);
  const store = openStore(req.dir);
  try {
    let fatal: Error | null = null;
    let wake: (() => void) | null = null;
    // Set once the final push (all of --once, or the one at exit) may be under way: its errors
    // are reported once, by the exit, not as "will retry".
    let final = req.once;
    let refused = 0;
    const say = (line: string): void => {
      process.stdout.write(`${line}\n`);
    };
    const onEvent = (e: PushEvent): void => {
      switch (e.type) {
        case 'nothing':
          if (req.once || req.verbose) say(`nothing new to push${e.final && !req.once ? ' (final)' : ''}`);
          break;
        case 'pushed': {
          const { series } = e;
          const ms = `in ${Math.round(e.durationMs)} ms${e.final ? ' (final)' : ''}`;
          if (e.samples === 0 && refused > 0)
            say(`pushed nothing: the receiver refused all ${refused} samples of ${series} series ${ms}`);
          else
            say(
              `pushed ${e.samples} samples, ${series} series ${ms}${refused > 0 ? `; ${refused} refused` : ''}`,
            );
          refused = 0;
          break;
        }
        case 'gap':
          process.stderr.write(
            `rondo push: ${e.slots} series-slots of ${e.series} series left the ring before they were pushed\n`,
          );
          break;
        case 'dropped':
          refused += e.samples;
          process.stderr.write(
            `rondo push: the receiver refused ${e.samples} samples (HTTP ${e.status}): ${e.message}\n`,
          );
          break;
        case 'retry':
          if (req.verbose)
            process.stderr.write(
              `rondo push: retry ${e.attempt} in ${Math.round(e.delayMs)} ms: ${e.status ?? e.message}\n`,
            );
          break;
        case 'error':
          refused = 0;
          if (!final) process.stderr.write(`rondo push: push failed, will retry: ${e.error.message}\n`);
          break;
        case 'fatal':
          refused = 0;
          fatal = e.error;
          wake?.();
          break;
      }
    };
    const pusher = startPush(store, {
      url: req.url,
      every: req.every,
      tier: req.tier,
      name: req.name,
      maxSamples: req.maxSamples,
      timeout: req.timeout,
      stopTimeout: req.stopTimeout,
      externalLabels: req.externalLabels,
      onEvent,
      // A writer may still record into the newest slot: leave it for a later push.
      includeOpenOnStop: () => !writerActive(store.dir),
    });
    if (!req.once) {
      // The pusher's timer is unreferenced: keep the process alive until a signal or a fatal error.
      const keepAlive = setInterval(() => {}, 1 << 30);
      await new Promise<void>((resolve) => {
        const done = (): void => {
          process.off('SIGINT', done);
          process.off('SIGTERM', done);
          resolve();
        };
        wake = done;
        process.on('SIGINT', done);
        process.on('SIGTERM', done);
        if (fatal !== null) done();
      });
      clearInterval(keepAlive);
    }
    final = true;
    // A second signal during the final push ends it at once: what it did not deliver (and commit)
    // stays in the store for the next run.
    const interrupt = (signal: NodeJS.Signals): void => {
      process.stderr.write(
        `rondo push: ${signal} during the final push: exiting now; what was not delivered stays for the next run\n`,
      );
      process.exit(128 + constants.signals[signal]);
    };
    if (!req.once) {
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
    }
    try {
      await pusher.stop();
    } catch (err) {
      throw err instanceof PushError ? pushFailure(err) : err;
    } finally {
      process.off('SIGINT', interrupt);
      process.off('SIGTERM', interrupt);
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
  run: (args) => execute(HELP, args, () => run(args), PUSH_HINTS),
};
