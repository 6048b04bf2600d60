import { validateCursorName } from '../cursors.js';
import type { DrainBatch } from '../drain.js';
import { type Duration, parseTimerDuration } from '../duration.js';
import { isRondoError, RondoError } from '../errors.js';
import type { Store } from '../store.js';
import { PushError, RemoteWriter, type RemoteWriterOptions } from './writer.js';

/** Options of {@link startPush}: where and how often, plus every {@link RemoteWriterOptions}. */
export interface PushOptions extends RemoteWriterOptions {
  /** Interval between pushes; default '10s'. */
  every?: Duration;
  /** Tier to push; default 0. */
  tier?: number;
  /** Cursor name; default 'prometheus'. */
  name?: string;
  /** Samples per drained batch; default 10 000. */
  maxSamples?: number;
  /**
   * Whether stop() also pushes the newest (open) slot; default true. Pass false (or a function
   * deciding at stop time) when a writer in another process keeps recording into that slot.
   */
  includeOpenOnStop?: boolean | (() => boolean);
  /**
   * Longest time stop() takes; default '10s'. stop() cancels a push under way (its waits and
   * requests) at once, then makes one final push cut off after this long.
   */
  stopTimeout?: Duration;
}

/** Counters of a {@link Pusher}. */
export interface PushStats {
  /**
   * Pushes that drained at least one sample: delivered, or refused by the receiver with a 400
   * (a push that found nothing new is not counted).
   */
  pushes: number;
  /** Batches pushed and committed. */
  batches: number;
  /** Samples accepted by the receiver. */
  samples: number;
  /** Retries of requests (5xx, 429, timeouts, network errors). */
  retries: number;
  /** Samples dropped because the receiver answered 400. */
  dropped400: number;
  /** Series-slots lost to the ring before they were drained (see DrainBatch.gap). */
  gap: number;
  /** Pushes that failed (the data is kept and sent again). */
  errors: number;
  /** The last error, or null. */
  lastError: Error | null;
}

/** What {@link startPush} returns. */
export interface Pusher {
  /** Counters, live. */
  readonly stats: PushStats;
  /** The writer used (its own counters are in `writer.stats`). */
  readonly writer: RemoteWriter;
  /** Pushes now (after any push under way); resolves with the samples pushed. */
  pushNow(): Promise<number>;
  /**
   * Stops the timer, cancels a push under way, then pushes what is left, for at most
   * `stopTimeout` in all. Rejects with ERR_RONDO_PUSH when the final push did not deliver
   * everything: the rest stays uncommitted in the store, for the next pusher. Idempotent.
   */
  stop(): Promise<void>;
}

// A push drains at most this many batches before yielding to the next tick.
const MAX_BATCHES_PER_PUSH = 1000;

/**
 * Drains `store` (tier, cursor name) and pushes to a remote-write endpoint every `every`, on an
 * unreferenced timer: record() is never blocked by the network and one push runs at a time.
 * A batch is committed only after the receiver accepted it (or dropped it with a 400).
 */
export function startPush(store: Store, options: PushOptions): Pusher {
  if (options === null || typeof options !== 'object')
    throw new RondoError('ERR_RONDO_INVALID_ARGUMENT', 'startPush: options must be an object');
  const every = parseTimerDuration(options.every ?? '10s', 'startPush every');
  const tier = options.tier ?? 0;
  const name = options.name ?? 'prometheus';
  const maxSamples = options.maxSamples ?? 10_000;
  const stopTimeout = parseTimerDuration(options.stopTimeout ?? '10s', 'startPush stopTimeout');
  const userEvent = options.onEvent ?? (() => {});
  const stats: PushStats = {
    pushes: 0,
    batches: 0,
    samples: 0,
    retries: 0,
    dropped400: 0,
    gap: 0,
    errors: 0,
    lastError: null,
  };
  const writer = new RemoteWriter({
    ...options,
    onEvent: (e) => {
      if (e.type === 'retry') stats.retries++;
      else if (e.type === 'dropped' && e.status === 400) stats.dropped400 += e.samples;
      else if (e.type === 'sent') stats.samples += e.samples;
      userEvent(e);
    },
  });
  // Fail early on a bad name, tier or maxSamples, not on the first tick.
  validateCursorName(name);
  const tierCounts = store.schemaList().map((s) => s.tiers.length);
  if (!Number.isInteger(tier) || !tierCounts.some((n) => tier >= 0 && tier < n)) {
    const most = Math.max(0, ...tierCounts);
    throw new RondoError(
      'ERR_RONDO_INVALID_TIER',
      `startPush: no schema of ${store.dir} has tier ${String(tier)} (its schemas have tiers 0${most > 1 ? `…${most - 1}` : ''})`,
    );
  }
  if (!Number.isSafeInteger(maxSamples) || maxSamples < 1)
    throw new RondoError(
      'ERR_RONDO_INVALID_ARGUMENT',
      `startPush: maxSamples must be a whole number ≥ 1, got ${String(maxSamples)}`,
    );

  let timer: NodeJS.Timeout | null = null;
  let running: Promise<number> | null = null;
  let stopped = false;
  let fatal: Error | null = null;
  let stopping: Promise<void> | null = null;
  // Aborted by stop(): cancels the backoff waits and requests of the periodic pushes and pushNow().
  const periodic = new AbortController();

  async function pushAll(final: boolean, includeOpen: boolean, signal: AbortSignal): Promise<number> {
    const started = performance.now();
    const acceptedBefore = writer.stats.samples;
    let drained = 0;
    const series = new Set<number>();
    let batches = 0;
    for (let i = 0; i < MAX_BATCHES_PER_PUSH; i++) {
      const batch: DrainBatch = store.drain(name, { tier, maxSamples, includeOpen });
      if (batch.gap > 0) {
        stats.gap += batch.gap;
        userEvent({ type: 'gap', slots: batch.gap, series: batch.gaps.length });
      }
      if (batch.samples === 0) {
        batch.commit();
        break;
      }
      await writer.push(batch, { signal });
      batch.commit();
      stats.batches++;
      batches++;
      drained += batch.samples;
      for (const s of batch.series) series.add(s.handle);
    }
    // Samples the receiver accepted (a 400 drop is drained and committed, but not pushed).
    const samples = writer.stats.samples - acceptedBefore;
    const durationMs = performance.now() - started;
    if (drained > 0) {
      stats.pushes++;
      userEvent({ type: 'pushed', samples, series: series.size, batches, durationMs, final });
    } else userEvent({ type: 'nothing', durationMs, final });
    return samples;
  }

  function run(final: boolean, includeOpen: boolean, signal: AbortSignal): Promise<number> {
    const previous = running ?? Promise.resolve(0);
    const next = previous
      .catch(() => 0)
      .then(() => pushAll(final, includeOpen, signal))
      .catch((err: unknown) => {
        // A push cancelled by stop() is not a failure: stop() pushes the same data right after.
        if (!final && periodic.signal.aborted) throw err;
        stats.errors++;
        stats.lastError = err as Error;
        // A refused push (401, 404, ...) fails again unchanged, and a closed store stays closed.
        if (
          (err instanceof PushError && !err.retryable) ||
          (isRondoError(err) && err.code === 'ERR_RONDO_CLOSED')
        ) {
          fatal = err as Error;
          if (timer !== null) clearTimeout(timer);
          userEvent({ type: 'fatal', error: err });
        } else userEvent({ type: 'error', error: err as Error });
        throw err;
      });
    running = next;
    next
      .catch(() => {})
      .finally(() => {
        if (running === next) running = null;
      });
    return next;
  }

  function schedule(): void {
    if (stopped || fatal !== null) return;
    timer = setTimeout(() => {
      timer = null;
      run(false, false, periodic.signal)
        .catch(() => {})
        .finally(schedule);
    }, every);
    timer.unref();
  }
  schedule();

  return {
    stats,
    writer,
    pushNow: () => run(false, false, periodic.signal),
    stop(): Promise<void> {
      if (stopping !== null) return stopping;
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      // Waiting out a push that is retrying against a dead receiver could take minutes, and the
      // final push below sends the same (uncommitted, replayed) data anyway: cancel it.
      periodic.abort(new Error('the pusher is stopping'));
      const deadline = new AbortController();
      const cutoff = setTimeout(
        () =>
          deadline.abort(new Error(`stopTimeout (${stopTimeout} ms) elapsed; the rest stays in the store`)),
        stopTimeout,
      );
      stopping = (async () => {
        try {
          if (running !== null) await running.catch(() => {});
          if (fatal !== null) throw fatal;
          if (store.isClosed) throw new RondoError('ERR_RONDO_CLOSED', `store ${store.dir} is closed`);
          const inc = options.includeOpenOnStop ?? true;
          await run(true, typeof inc === 'function' ? inc() : inc, deadline.signal);
        } finally {
          clearTimeout(cutoff);
        }
      })();
      return stopping;
    },
  };
}
