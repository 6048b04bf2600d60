import {
  type CursorDoc,
  type CursorLocks,
  type PendingBatch,
  readCursor,
  type TierCursor,
  validateCursorName,
  writeCursor,
} from './cursors.js';
import { RondoError } from './errors.js';
import type { SeriesRecord } from './metadata.js';
import type { TierSet } from './tiers.js';

/** Options of `Store.drain`. */
export interface DrainOptions {
  /** Tier to drain (default 0); schemas without this tier are skipped. */
  tier?: number;
  /** Upper bound on the samples of the batch (default 10 000); the next drain resumes where it stopped. */
  maxSamples?: number;
  /**
   * Include the newest (still open) slot of the tier; meant for a final drain at shutdown. The
   * cursor moves past it on commit, so a value recorded into that slot later is not drained.
   */
  includeOpen?: boolean;
}

/** The points of one series in a {@link DrainBatch}, oldest first. */
export interface DrainedSeries {
  /** Series handle. */
  handle: number;
  /** Metric name. */
  name: string;
  /** Labels, sorted by key. */
  labels: Record<string, string>;
  /** Schema of the series. */
  schema: string;
  /** Tier the points come from. */
  tier: number;
  /** Slot start times, ms. */
  timestamps: Float64Array;
  /** Values (never NaN). */
  values: Float64Array;
}

/** Slots of one series that left the ring before they were drained. */
export interface DrainGap {
  /** Series handle. */
  handle: number;
  /** Metric name. */
  name: string;
  /** Schema of the series. */
  schema: string;
  /** First lost slot's start, ms. */
  from: number;
  /** End of the lost range (start of the ring's oldest slot), ms, exclusive. */
  to: number;
  /** Slots lost (each may or may not have held a point). */
  slots: number;
}

/** What `Store.drain` returns: points to export, and commit() to advance the cursor past them. */
export interface DrainBatch {
  /** Cursor name. */
  readonly name: string;
  /** Tier drained. */
  readonly tier: number;
  /** Series with at least one point, in handle order. */
  readonly series: DrainedSeries[];
  /** Points in `series`. */
  readonly samples: number;
  /** Series-slots lost to the ring before they could be drained (sum of `gaps[i].slots`). */
  readonly gap: number;
  /** Details of `gap`, one entry per series that lost slots. */
  readonly gaps: DrainGap[];
  /** True when maxSamples cut the batch short: drain again (after commit) for the rest. */
  readonly more: boolean;
  /** True when this batch replays the range of a batch drained earlier and never committed. */
  readonly replay: boolean;
  /** True after commit(). */
  readonly committed: boolean;
  /**
   * Advances the cursor past this batch, durably (a synchronous fsync). ERR_RONDO_CURSOR when
   * committed twice or stale; an empty batch is never stale: once a newer batch was drained or
   * committed, its commit does nothing.
   */
  commit(): void;
}

/** What drainStore needs from a Store. */
export interface DrainSource {
  /** Store directory. */
  dir: string;
  /** Reader or writer: a reader reads each ring's newest slot from its header. */
  readOnly: boolean;
  /** Tier sets, in schema order. */
  sets: readonly TierSet[];
  /** Series records, by handle. */
  records: readonly SeriesRecord[];
  /** The Store's cursor locks. */
  locks: CursorLocks;
}

const DEFAULT_MAX_SAMPLES = 10_000;

function emptyTier(): TierCursor {
  return { generation: 0, pending: null, schemas: {} };
}

/** Drains cursor `name` of a store; see `Store.drain` and docs/export.md. */
export function drainStore(src: DrainSource, name: string, options: DrainOptions = {}): DrainBatch {
  validateCursorName(name);
  if (options === null || typeof options !== 'object') {
    throw new RondoError('ERR_RONDO_INVALID_ARGUMENT', 'drain: options must be an object');
  }
  const tier = options.tier ?? 0;
  const maxSamples = options.maxSamples ?? DEFAULT_MAX_SAMPLES;
  if (!Number.isInteger(tier) || tier < 0 || !src.sets.some((s) => tier < s.rings.length)) {
    throw new RondoError('ERR_RONDO_INVALID_TIER', `drain: no schema has tier ${String(tier)}`);
  }
  if (!(maxSamples >= 1) || (Number.isFinite(maxSamples) && !Number.isInteger(maxSamples))) {
    throw new RondoError(
      'ERR_RONDO_INVALID_ARGUMENT',
      `drain: maxSamples must be a whole number ≥ 1, got ${String(maxSamples)}`,
    );
  }
  src.locks.acquire(src.dir, name);
  const doc = readCursor(src.dir, name);
  const tc = doc.tiers[tier] ?? emptyTier();
  const pending = tc.pending !== null && tc.pending.base === tc.generation ? tc.pending : null;
  const base = tc.generation;

  const series: DrainedSeries[] = [];
  const gaps: DrainGap[] = [];
  const updates: Record<string, Record<string, number>> = {};
  let samples = 0;
  let gap = 0;
  // Set when maxSamples cut the batch short: points are left, in this schema or a later one.
  let more = false;

  for (const set of src.sets) {
    if (tier >= set.rings.length) continue;
    const schema = set.schema.name;
    const ring = set.rings[tier]!;
    const stored = tc.schemas[schema];
    if (stored !== undefined && stored.interval !== ring.intervalMs) {
      throw new RondoError(
        'ERR_RONDO_CURSOR',
        `cursor ${name}: tier ${tier} of schema ${schema} had a ${stored.interval} ms interval, the store has ${ring.intervalMs} ms (was the store recreated? remove ${src.dir}/cursors/${name}.json)`,
      );
    }
    const newest = src.readOnly ? ring.refreshNewest() : ring.newest;
    if (newest === 0) continue;
    if (more) break;
    const oldest = ring.oldest(newest);
    const last = options.includeOpen === true ? newest : newest - 1;
    const upd: Record<string, number> = {};
    updates[schema] = upd;
    for (let h = 0; h < src.records.length; h++) {
      const rec = src.records[h]!;
      if (rec.schema !== schema) continue;
      if (samples >= maxSamples) {
        more = true;
        break;
      }
      const key = String(h);
      const next = stored?.next[key] ?? oldest;
      let from = next;
      if (from < oldest) {
        gaps.push({
          handle: h,
          name: rec.name,
          schema,
          from: from * ring.intervalMs,
          to: oldest * ring.intervalMs,
          slots: oldest - from,
        });
        gap += oldest - from;
        from = oldest;
      }
      // A replay stops where the uncommitted batch stopped; series it did not reach get nothing.
      const to = pending === null ? last : Math.min(last, (pending.ends[schema]?.[key] ?? next) - 1);
      let newNext = Math.max(from, to + 1);
      if (from <= to) {
        // A reader reads beside a writer that may reuse positions; a writer's own rings are still.
        let { timestamps, values } = ring.read(rec.column, from, to, newest, src.readOnly);
        if (samples + timestamps.length > maxSamples) {
          const keep = maxSamples - samples;
          timestamps = timestamps.slice(0, keep);
          values = values.slice(0, keep);
          newNext = timestamps[keep - 1]! / ring.intervalMs + 1;
          more = true;
        }
        if (timestamps.length > 0) {
          series.push({ handle: h, name: rec.name, labels: rec.labels, schema, tier, timestamps, values });
          samples += timestamps.length;
        }
      }
      if (newNext !== next) upd[key] = newNext;
      if (more) break;
    }
  }

  // Remember the range before anyone pushes it: after a crash the same range is replayed alone.
  if (samples > 0 && pending === null) {
    const ends: PendingBatch['ends'] = {};
    for (const [schema, upd] of Object.entries(updates)) {
      const stored = tc.schemas[schema]?.next ?? {};
      const e: Record<string, number> = {};
      for (const key of Object.keys(stored)) e[key] = stored[key]!;
      Object.assign(e, upd);
      ends[schema] = e;
    }
    const fresh = readCursor(src.dir, name);
    const ftc = fresh.tiers[tier] ?? emptyTier();
    if (ftc.generation === base) {
      ftc.pending = { base, ends };
      fresh.tiers[tier] = ftc;
      writeCursor(src.dir, fresh);
    }
  }

  const intervals: Record<string, number> = {};
  for (const set of src.sets)
    if (tier < set.rings.length) intervals[set.schema.name] = set.rings[tier]!.intervalMs;

  let committed = false;
  return {
    name,
    tier,
    series,
    samples,
    gap,
    gaps,
    more,
    replay: pending !== null,
    get committed() {
      return committed;
    },
    commit(): void {
      if (committed)
        throw new RondoError('ERR_RONDO_CURSOR', `cursor ${name}: this batch was already committed`);
      if (!src.locks.holds(name)) throw new RondoError('ERR_RONDO_CLOSED', `store ${src.dir} is closed`);
      const fresh: CursorDoc = readCursor(src.dir, name);
      const ftc = fresh.tiers[tier] ?? emptyTier();
      if (samples === 0 && pending === null) {
        // An empty batch delivered nothing, so it may not undo what happened since it was drained:
        // a newer batch drained (its pending range must still be replayed) or committed. Then its
        // commit does nothing; the empty slots it would skip are simply walked again.
        const newerPending = ftc.pending !== null && ftc.pending.base === ftc.generation;
        if (ftc.generation !== base || newerPending) {
          committed = true;
          return;
        }
      }
      if (ftc.generation !== base) {
        throw new RondoError(
          'ERR_RONDO_CURSOR',
          `cursor ${name}: stale batch (drained at generation ${base}, the cursor is at ${ftc.generation}: a newer batch was committed)`,
        );
      }
      const changed = ftc.pending !== null || Object.values(updates).some((u) => Object.keys(u).length > 0);
      committed = true;
      if (!changed) return;
      for (const [schema, upd] of Object.entries(updates)) {
        const sc = ftc.schemas[schema] ?? { interval: intervals[schema]!, next: {} };
        Object.assign(sc.next, upd);
        ftc.schemas[schema] = sc;
      }
      ftc.generation = base + 1;
      ftc.pending = null;
      fresh.tiers[tier] = ftc;
      writeCursor(src.dir, fresh);
    },
  };
}
