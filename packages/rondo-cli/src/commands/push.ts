/**
 * `rondo push`: ships a store to a Prometheus remote-write endpoint, from a separate process.
 * Opens the store read-only; the drain cursor (`cursors/<name>.json`) makes it resume where it
 * stopped, across restarts, and at-least-once: a batch is committed only after it was accepted.
 */
import { constants } from 'node:os';
import { isRondoError, MAX_TIMER_MS, type Store, writerActive } from 'rondo';
import {
  PushError,
  type PushEvent,
  type Pusher,
  RemoteWriter,
  startPush,
  validateCursorName,
} from 'rondo/remote-write';
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
import type { Command } from '../command.js';
import { plural } from '../text.js';
import { durationOption } from '../time.js';

const HELP = `Usage: rondo push <store> --url URL [--tier N] [--every 10s | --once] [--label k=v]... [--name NAME]
                  [--max-samples N] [--timeout 30s] [--stop-timeout 10s] [--drop-refused] [--verbose]

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
  --max-samples N      samples per batch (default 10000, at most 10000000)
  --timeout DURATION   per-request timeout (default 30s)
  --stop-timeout D     longest the final push may take: the one at SIGINT/SIGTERM (default 10s),
                       or all of --once (default: no limit); what is left stays for the next run
  --drop-refused       when the receiver refuses every sample of a batch (HTTP 400, e.g. samples
                       older than its time window), drop the batch and go on (a run in which
                       the receiver took no sample at all still exits 1); without it the push
                       stops with exit 1 and keeps the batch for a later run
  --verbose            print each retry, pushes that found nothing new, and stack traces
  -h, --help           show this help

Durations take a unit: 500ms, 30s, 10m, 1h (at most about 24.8 days).

Prints one line per push on stdout: samples, distinct series, duration, and how many samples
the receiver refused (HTTP 400) if any; the refusals of a push are summed up in one line on
stderr, with the receiver's first message. A push that finds nothing new prints "nothing new
to push": always with --once, and with --every only under --verbose (an idle store stays
quiet). When the receiver does not answer, one line on stderr says the push is retrying (up to
10 retries with growing delays, about 15 s); gaps and failed pushes go to stderr too.
A second SIGINT or SIGTERM during the final push ends it at once (exit 130 or 143); what it did
not deliver stays for the next run.

Exit codes: 0 ok; 1 runtime error: HTTP 401/403/404, the receiver refusing every sample of a
batch (with --drop-refused: every sample of the run), or still failing at --once or at exit
(nothing is lost: the next run resumes); 2 usage error.

Example:
  rondo push ./metrics --url http://127.0.0.1:9090/api/v1/write --every 15s --label instance=web1
  rondo push ./metrics --url http://127.0.0.1:8428/api/v1/write --once --name vm
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
  'drop-refused': { type: 'boolean' },
} as const;

/** Everything the command line asks for, checked before the store is opened. */
interface Request {
  dir: string;
  url: string;
  every: number;
  timeout: number;
  stopTimeout: number;
  tier: number;
  maxSamples: number;
  name: string;
  externalLabels: Record<string, string>;
  once: boolean;
  dropRefused: boolean;
  verbose: boolean;
}

/** The most samples a batch may have: a drained batch is held in memory whole. */
const MAX_SAMPLES = 10_000_000;

/** Hints that differ from the shared ones: push has no tier 'auto'. */
const PUSH_HINTS = {
  ERR_RONDO_INVALID_TIER: 'pick one of the tiers `rondo info` lists',
};

/** `--label k=v` pairs as an object; a usage error for one without `=` or a key. */
function externalLabels(pairs: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw usageError('push', `--label must be k=v, got ${JSON.stringify(pair)}`);
    if (eq === pair.length - 1)
      throw usageError(
        'push',
        `--label ${pair}: the value is empty (Prometheus drops labels with empty values)`,
      );
    labels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return labels;
}

/** --url, --timeout and the labels are checked by the writer itself, so the rules agree. */
function checkWriterOptions(req: Request): void {
  try {
    new RemoteWriter({ url: req.url, timeout: req.timeout, externalLabels: req.externalLabels });
  } catch (err) {
    if (!isRondoError(err)) throw err;
    const message = err.message
      .replace(/^RemoteWriter: url/, '--url')
      .replace(/^RemoteWriter: external label/, '--label: external label')
      .replace(/^RemoteWriter: /, '');
    throw usageError('push', message);
  }
}

/** Parses and checks the whole command line before the store is opened (errors exit 2). */
function parseRequest(args: string[]): Request {
  const parsed = parseCommandArgs('push', args, OPTIONS);
  const [dir = ''] = positionals('push', parsed, ['<store>']);
  const v = parsed.values as Record<string, string | boolean | string[] | undefined>;
  const text = (key: string): string | undefined => v[key] as string | undefined;
  const url = text('url');
  const once = v['once'] === true;
  if (url === undefined) throw usageError('push', 'missing --url');
  if (once && v['every'] !== undefined) throw usageError('push', '--every and --once exclude each other');
  const name = text('name') ?? 'prometheus';
  try {
    validateCursorName(name);
  } catch (err) {
    if (!isRondoError(err)) throw err;
    throw usageError('push', `--name: ${err.message}`);
  }
  const stopText = text('stop-timeout');
  const req: Request = {
    dir,
    url,
    every: durationOption('push', '--every', text('every'), 10_000),
    timeout: durationOption('push', '--timeout', text('timeout'), 30_000),
    // All of --once may take as long as it needs: "no limit" is the longest a timer waits.
    stopTimeout: durationOption('push', '--stop-timeout', stopText, once ? MAX_TIMER_MS : 10_000),
    tier: countOption('push', '--tier', text('tier'), 0, 0),
    maxSamples: countOption('push', '--max-samples', text('max-samples'), 10_000, 1, MAX_SAMPLES),
    name,
    externalLabels: externalLabels((v['label'] as string[] | undefined) ?? []),
    once,
    dropRefused: v['drop-refused'] === true,
    verbose: v['verbose'] === true,
  };
  checkWriterOptions(req);
  return req;
}

/** The one-line error of a failed push, with what to do; nothing is lost either way. */
function pushFailure(err: PushError): CliError {
  const resume = 'nothing was lost: run rondo push again once that is fixed, it resumes where it stopped';
  const hint =
    err.status === 401 || err.status === 403
      ? `rondo push sends no credentials, so use a receiver (or a path) that needs none; ${resume}`
      : err.status === 404
        ? `fix --url (Prometheus needs --web.enable-remote-write-receiver); ${resume}`
        : err.status === 400
          ? 'the receiver takes none of these samples (too old for its time window, out of order, or over a limit); nothing was lost: run rondo push again once it takes them, or pass --drop-refused to drop what it refuses'
          : err.status === null
            ? `the receiver did not answer: check --url and that it is running; ${resume}`
            : err.retryable
              ? `the receiver is down or overloaded; ${resume}`
              : resume;
  return new CliError(err.code, err.message, EXIT_FAILURE, hint);
}

/**
 * Turns the pusher's events into what `rondo push` prints: one stdout line per push, one stderr
 * line for its refusals, one when it starts retrying; and remembers a fatal error for the exit.
 */
class PushReport {
  /** The pusher failed in a way retrying cannot fix (set by a 'fatal' event). */
  fatal: Error | null = null;
  /** Called on a fatal error (ends the wait for a signal). */
  onFatal: () => void = () => {};
  /** Set once the final push may be under way: its errors are reported by the exit, once. */
  final: boolean;
  /** Samples the receiver accepted over the whole run. */
  accepted = 0;
  /** Samples the receiver refused (and were dropped) over the whole run. */
  refusedTotal = 0;
  private refused = 0;
  private refusal = '';
  private retryNoticed = false;

  constructor(private readonly req: Request) {
    this.final = req.once;
  }

  /** Handles one event of the pusher. */
  readonly onEvent = (e: PushEvent): void => {
    switch (e.type) {
      case 'nothing':
        this.retryNoticed = false;
        if (this.req.once || this.req.verbose)
          this.out(`nothing new to push${e.final && !this.req.once ? ' (final)' : ''}`);
        break;
      case 'pushed':
        this.pushed(e);
        break;
      case 'gap':
        this.err(
          `${plural(e.slots, 'series-slot')} of ${plural(e.series, 'series', 'series')} left the ring before they were pushed`,
        );
        break;
      case 'dropped':
        if (this.refused === 0) this.refusal = `HTTP ${e.status}${e.message ? `: ${e.message}` : ''}`;
        this.refused += e.samples;
        break;
      case 'retry':
        this.retry(e);
        break;
      case 'error':
        this.endPush();
        if (!this.final) this.err(`push failed, will retry at the next push: ${e.error.message}`);
        break;
      case 'fatal':
        this.endPush();
        this.fatal = e.error;
        this.onFatal();
        break;
    }
  };

  private pushed(e: Extract<PushEvent, { type: 'pushed' }>): void {
    this.accepted += e.samples;
    this.refusedTotal += this.refused;
    const ms = `in ${Math.round(e.durationMs)} ms${e.final ? ' (final)' : ''}`;
    const series = plural(e.series, 'series', 'series');
    if (e.samples === 0 && this.refused > 0)
      this.out(
        `pushed nothing: the receiver refused all ${plural(this.refused, 'sample')} of ${series} ${ms}`,
      );
    else
      this.out(
        `pushed ${plural(e.samples, 'sample')}, ${series} ${ms}${this.refused > 0 ? `; ${this.refused} refused` : ''}`,
      );
    if (this.refused > 0)
      this.err(`the receiver refused ${plural(this.refused, 'sample')} (${this.refusal}); they were dropped`);
    this.endPush();
  }

  private retry(e: Extract<PushEvent, { type: 'retry' }>): void {
    const why = e.status === null ? e.message : `HTTP ${e.status}${e.message ? `: ${e.message}` : ''}`;
    if (this.req.verbose) this.err(`retry ${e.attempt} in ${Math.round(e.delayMs)} ms: ${why}`);
    else if (!this.retryNoticed)
      this.err(
        `${this.req.url} did not take the push (${why}); retrying up to 10 times with growing delays (--verbose shows each)`,
      );
    this.retryNoticed = true;
  }

  /** Forgets what one push counted (a push ended, or failed). */
  private endPush(): void {
    this.refused = 0;
    this.refusal = '';
  }

  private out(line: string): void {
    this.retryNoticed = false;
    process.stdout.write(`${line}\n`);
  }

  private err(line: string): void {
    process.stderr.write(`rondo push: ${line}\n`);
  }
}

/** Resolves on SIGINT, SIGTERM or a fatal error of the pusher, whichever comes first. */
async function untilStopped(report: PushReport): Promise<void> {
  // The pusher's timer is unreferenced: keep the process alive until then.
  const keepAlive = setInterval(() => {}, 1 << 30);
  await new Promise<void>((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    report.onFatal = done;
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
    if (report.fatal !== null) done();
  });
  clearInterval(keepAlive);
}

/**
 * The final push (pusher.stop()). After --every, a second signal ends it at once: what it did not
 * deliver (and commit) stays in the store for the next run.
 */
async function finalPush(pusher: Pusher, once: boolean): Promise<void> {
  const interrupt = (signal: NodeJS.Signals): void => {
    process.stderr.write(
      `rondo push: ${signal} during the final push: exiting now; what was not delivered stays for the next run\n`,
    );
    process.exit(128 + constants.signals[signal]);
  };
  if (!once) {
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
}

function start(store: Store, req: Request, report: PushReport): Pusher {
  return startPush(store, {
    url: req.url,
    every: req.every,
    tier: req.tier,
    name: req.name,
    maxSamples: req.maxSamples,
    timeout: req.timeout,
    stopTimeout: req.stopTimeout,
    externalLabels: req.externalLabels,
    onAllRefused: req.dropRefused ? 'commit' : 'fail',
    onEvent: report.onEvent,
    // A writer may still record into the newest slot: leave it for a later push.
    includeOpenOnStop: () => !writerActive(store.dir),
  });
}

async function run(args: string[]): Promise<number> {
  const req = parseRequest(args);
  const store = openStore(req.dir);
  try {
    const report = new PushReport(req);
    const pusher = start(store, req, report);
    if (!req.once) await untilStopped(report);
    report.final = true;
    await finalPush(pusher, req.once);
    // With --drop-refused the push goes on past refusals, but a run that got nothing in failed.
    return report.accepted === 0 && report.refusedTotal > 0 ? EXIT_FAILURE : 0;
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
