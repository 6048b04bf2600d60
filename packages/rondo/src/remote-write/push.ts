/**
 * The pusher: drains a store (one tier, one cursor) and pushes it with a {@link RemoteWriter}
 * on an unreferenced timer, committing each batch only once the receiver took it.
 * Uses only rondo's public API (plus validateCursorName, which rondo/remote-write re-exports).
 */
import { validateCursorName } from '../cursors.js';
import {
  type DrainBatch,
  type Duration,
  isRondoError,
  parseTimerDuration,
  RondoError,
  type Store,
} from '../index.js';
import { PushError, type PushEvent, RemoteWriter, type RemoteWriterOptions } from './writer.js';

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
  /**
   * What to do with a batch the receiver refused entirely (every sample dropped with a 400 or
   * 413, none accepted): `'commit'` (default) commits it like any batch, so it is never sent
   * again; `'fail'` leaves it uncommitted and fails the push with a non-retryable
   * {@link PushError} (the refusal's status, 400 or 413), which stops the pusher (`fatal`): a
   * receiver that takes nothing is usually misconfigured, and the data stays for a run once that
   * is fixed. The batch's `dropped` events have fired all the same, but the drop counters
   * (`stats.dropped400`, the writer's `dropped400` and `droppedTooLarge`) do not count it.
   */
  onAllRefused?: 'commit' | 'fail';
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

// A push drains at most this many batches before yielding to the next tick.
const MAX_BATCHES_PER_PUSH = 1000;

/** What one push did, for its `pushed` or `nothing` event. */
interface PushTally {
  drained: number;
  batches: number;
  series: Set<number>;
}

/** The drop counters before a batch was pushed, restored when onAllRefused: 'fail' keeps it. */
interface DroppedCounts {
  pusher400: number;
  writer400: number;
  writerTooLarge: number;
}

/** The options of a {@link Pusher}, checked and with their defaults. */
interface PusherSettings {
  every: number;
  tier: number;
  name: string;
  maxSamples: number;
  stopTimeout: number;
  includeOpenOnStop: boolean | (() => boolean);
  onAllRefused: 'commit' | 'fail';
}

/** Checks the pusher's own options against `store`; RondoErrors name the bad one. */
function settingsOf(store: Store, options: PushOptions): PusherSettings {
  const tier = options.tier ?? 0;
  const name = options.name ?? 'prometheus';
  const maxSamples = options.maxSamples ?? 10_000;
  const onAllRefused = options.onAllRefused ?? 'commit';
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
  if (onAllRefused !== 'commit' && onAllRefused !== 'fail')
    throw new RondoError(
      'ERR_RONDO_INVALID_ARGUMENT',
      `startPush: onAllRefused must be 'commit' or 'fail', got ${JSON.stringify(onAllRefused)}`,
    );
  return {
    every: parseTimerDuration(options.every ?? '10s', 'startPush every'),
    tier,
    name,
    maxSamples,
    stopTimeout: parseTimerDuration(options.stopTimeout ?? '10s', 'startPush stopTimeout'),
    includeOpenOnStop: options.includeOpenOnStop ?? true,
    onAllRefused,
  };
}

/**
 * Drains a store (tier, cursor name) and pushes it to a remote-write endpoint every `every`, on
 * an unreferenced timer: record() is never blocked by the network and one push runs at a time.
 * A batch is committed only after the receiver accepted it (or dropped it with a 400). Made by
 * {@link startPush}.
 */
export class Pusher {
  /** Counters, live. */
  readonly stats: PushStats = {
    pushes: 0,
    batches: 0,
    samples: 0,
    retries: 0,
    dropped400: 0,
    gap: 0,
    errors: 0,
    lastError: null,
  };
  /** The writer used (its own counters are in `writer.stats`). */
  readonly writer: RemoteWriter;
  private readonly settings: PusherSettings;
  private readonly emit: (event: PushEvent) => void;
  private timer: NodeJS.Timeout | null = null;
  /** Set by start(): the timer is null while a periodic push runs, so it cannot tell. */
  private started = false;
  private running: Promise<number> | null = null;
  private stopped = false;
  private fatal: Error | null = null;
  private stopping: Promise<void> | null = null;
  /** The receiver's message of the latest refused (dropped) samples, for the 'fail' error. */
  private lastRefusal = '';
  /** The HTTP status of the latest refused samples (400 or 413), for the 'fail' error. */
  private lastRefusalStatus = 400;
  /** Aborted by stop(): cancels the backoff waits and requests of periodic pushes and pushNow(). */
  private readonly periodic = new AbortController();

  /** Checks the options (RondoErrors up front, not on the first tick); {@link start} starts the timer. */
  constructor(
    private readonly store: Store,
    options: PushOptions,
  ) {
    if (options === null || typeof options !== 'object')
      throw new RondoError('ERR_RONDO_INVALID_ARGUMENT', 'startPush: options must be an object');
    this.emit = options.onEvent ?? (() => {});
    this.writer = new RemoteWriter({ ...options, onEvent: (e) => this.onWriterEvent(e) });
    this.settings = settingsOf(store, options);
  }

  /** Starts the periodic pushes (the first after `every`); returns this. Idempotent. */
  start(): this {
    if (this.started || this.stopped) return this;
    this.started = true;
    this.schedule();
    return this;
  }

  /** Pushes now (after any push under way); resolves with the samples the receiver accepted. */
  pushNow(): Promise<number> {
    return this.run(false, false, this.periodic.signal);
  }

  /**
   * Stops the timer, cancels a push under way, then pushes what is left, for at most
   * `stopTimeout` in all. Rejects with ERR_RONDO_PUSH when the final push did not deliver
   * everything: the rest stays uncommitted in the store, for the next pusher. Idempotent.
   */
  stop(): Promise<void> {
    if (this.stopping !== null) return this.stopping;
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    // Waiting out a push that is retrying against a dead receiver could take minutes, and the
    // final push sends the same (uncommitted, replayed) data anyway: cancel it.
    this.periodic.abort(new Error('the pusher is stopping'));
    this.stopping = this.finalPush();
    return this.stopping;
  }

  private onWriterEvent(e: PushEvent): void {
    if (e.type === 'retry') this.stats.retries++;
    else if (e.type === 'dropped') {
      if (e.status === 400) this.stats.dropped400 += e.samples;
      this.lastRefusalStatus = e.status;
      this.lastRefusal = `HTTP ${e.status}${e.message ? `: ${e.message}` : ''}`;
    } else if (e.type === 'sent') this.stats.samples += e.samples;
    this.emit(e);
  }

  private schedule(): void {
    if (this.stopped || this.fatal !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.run(false, false, this.periodic.signal)
        .catch(() => {})
        .finally(() => this.schedule());
    }, this.settings.every);
    this.timer.unref();
  }

  /** The push at stop(): after the one under way, cut off after stopTimeout. */
  private async finalPush(): Promise<void> {
    const { stopTimeout, includeOpenOnStop } = this.settings;
    const deadline = new AbortController();
    const cutoff = setTimeout(
      () => deadline.abort(new Error(`stopTimeout (${stopTimeout} ms) elapsed; the rest stays in the store`)),
      stopTimeout,
    );
    try {
      if (this.running !== null) await this.running.catch(() => {});
      if (this.fatal !== null) throw this.fatal;
      if (this.store.isClosed) throw new RondoError('ERR_RONDO_CLOSED', `store ${this.store.dir} is closed`);
      const includeOpen = typeof includeOpenOnStop === 'function' ? includeOpenOnStop() : includeOpenOnStop;
      await this.run(true, includeOpen, deadline.signal);
    } finally {
      clearTimeout(cutoff);
    }
  }

  /** Runs one push after the one under way (pushes never overlap); failures become events. */
  private run(final: boolean, includeOpen: boolean, signal: AbortSignal): Promise<number> {
    const previous = this.running ?? Promise.resolve(0);
    const next = previous
      .catch(() => 0)
      .then(() => this.pushAll(final, includeOpen, signal))
      .catch((err: unknown) => this.failed(err, final));
    this.running = next;
    next
      .catch(() => {})
      .finally(() => {
        if (this.running === next) this.running = null;
      });
    return next;
  }

  /** Records a failed push as an `error` or, when retrying cannot help, `fatal` event; rethrows. */
  private failed(err: unknown, final: boolean): never {
    // A push cancelled by stop() is not a failure: stop() pushes the same data right after.
    if (!final && this.periodic.signal.aborted) throw err;
    const error = err instanceof Error ? err : new Error(String(err));
    this.stats.errors++;
    this.stats.lastError = error;
    // A refused push (401, 404, ...) fails again unchanged, and a closed store stays closed.
    if ((err instanceof PushError && !err.retryable) || isRondoError(err, 'ERR_RONDO_CLOSED')) {
      this.fatal = error;
      if (this.timer !== null) clearTimeout(this.timer);
      this.emit({ type: 'fatal', error });
    } else this.emit({ type: 'error', error });
    throw err;
  }

  /** Drains and pushes batches until nothing is left (or MAX_BATCHES_PER_PUSH); returns samples accepted. */
  private async pushAll(final: boolean, includeOpen: boolean, signal: AbortSignal): Promise<number> {
    const started = performance.now();
    const acceptedBefore = this.writer.stats.samples;
    const tally: PushTally = { drained: 0, batches: 0, series: new Set() };
    for (let i = 0; i < MAX_BATCHES_PER_PUSH; i++) {
      if (!(await this.pushBatch(includeOpen, signal, tally))) break;
    }
    // Samples the receiver accepted (a 400 drop is drained and committed, but not pushed).
    const samples = this.writer.stats.samples - acceptedBefore;
    const durationMs = performance.now() - started;
    if (tally.drained > 0) {
      this.stats.pushes++;
      this.emit({
        type: 'pushed',
        samples,
        series: tally.series.size,
        batches: tally.batches,
        durationMs,
        final,
      });
    } else this.emit({ type: 'nothing', durationMs, final });
    return samples;
  }

  /** The drop counters that a batch kept by onAllRefused: 'fail' must not move. */
  private droppedCounts(): DroppedCounts {
    const { dropped400, droppedTooLarge } = this.writer.stats;
    return { pusher400: this.stats.dropped400, writer400: dropped400, writerTooLarge: droppedTooLarge };
  }

  /**
   * Fails a batch the receiver refused entirely (onAllRefused: 'fail'): its samples are kept, not
   * dropped, so the drop counters the writer's bisection moved are put back (its `dropped` events
   * have fired all the same).
   */
  private keepRefused(samples: number, before: DroppedCounts): never {
    this.stats.dropped400 = before.pusher400;
    this.writer.stats.dropped400 = before.writer400;
    this.writer.stats.droppedTooLarge = before.writerTooLarge;
    throw new PushError(
      `the receiver refused all ${samples} sample${samples === 1 ? '' : 's'} of a batch (${this.lastRefusal}); nothing of it was committed`,
      this.lastRefusalStatus,
      false,
    );
  }

  /** Drains one batch, pushes and commits it; false when there was nothing left to drain. */
  private async pushBatch(includeOpen: boolean, signal: AbortSignal, tally: PushTally): Promise<boolean> {
    const { name, tier, maxSamples } = this.settings;
    const batch: DrainBatch = this.store.drain(name, { tier, maxSamples, includeOpen });
    if (batch.gap > 0) {
      this.stats.gap += batch.gap;
      this.emit({ type: 'gap', slots: batch.gap, series: batch.gaps.length });
    }
    if (batch.samples === 0) {
      batch.commit();
      return false;
    }
    const acceptedBefore = this.writer.stats.samples;
    const droppedBefore = this.droppedCounts();
    await this.writer.push(batch, { signal });
    if (this.writer.stats.samples === acceptedBefore && this.settings.onAllRefused === 'fail')
      this.keepRefused(batch.samples, droppedBefore);
    batch.commit();
    this.stats.batches++;
    tally.batches++;
    tally.drained += batch.samples;
    for (const s of batch.series) tally.series.add(s.handle);
    return true;
  }
}

/**
 * Drains `store` (tier, cursor name) and pushes to a remote-write endpoint every `every`, on an
 * unreferenced timer: record() is never blocked by the network and one push runs at a time.
 * A batch is committed only after the receiver accepted it (or dropped it with a 400).
 */
export function startPush(store: Store, options: PushOptions): Pusher {
  return new Pusher(store, options).start();
}
