import type { SeriesEntry } from './catalog/catalog.js';
import {
  type CursorLocks,
  dict,
  type PendingBatch,
  readCursor,
  type SchemaCursor,
  type TierCursor,
  validateCursorName,
  writeCursor,
} from './cursors.js';
import { closed, RondoError } from './errors.js';
import type { Ring } from './ring.js';
import type { TierSet } from './tiers.js';
import { checkMaxSamples, checkOptions, checkTier } from './validate.js';

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
  /** Tier sets, in schema order (a reader's rings read the newest slot from the header). */
  sets: readonly TierSet[];
  /** The series (live, and retired with data left), in handle order. */
  series: readonly SeriesEntry[];
  /**
   * Called after the points are read: a reader looks at the catalogue again, so that a series
   * retired meanwhile (and its column given to another) has the other's points cut off.
   */
  afterRead: () => void;
  /**
   * After afterRead(): when series e's points stop being its own as the catalogue knows now
   * (its retirement; -Infinity for a series forgotten meanwhile that still looked live).
   */
  lifeEnd: (e: SeriesEntry) => number;
  /** The Store's cursor locks. */
  locks: CursorLocks;
}

/** Schema name → series handle (as a string) → next slot to drain. */
type Positions = Record<string, Record<string, number>>;

function emptyTier(): TierCursor {
  return { generation: 0, pending: null, schemas: dict() };
}

/** Drains cursor `name` of a store; see `Store.drain` and docs/export.md. */
export function drainStore(src: DrainSource, name: string, options: DrainOptions = {}): DrainBatch {
  validateCursorName(name);
  checkOptions('drain', options, ['tier', 'maxSamples', 'includeOpen']);
  const tier = checkTier(
    'drain',
    options.tier ?? 0,
    (t) => src.sets.some((s) => t < s.rings.length),
    'no schema has it',
  );
  const maxSamples = checkMaxSamples('drain', options.maxSamples);
  src.locks.acquire(src.dir, name);
  const tc = readCursor(src.dir, name).tiers[tier] ?? emptyTier();
  const batch = new Batch(src, name, tier, tc);
  batch.collect(maxSamples, options.includeOpen === true);
  batch.savePending();
  return batch;
}

/** One drained batch: collects the points after the cursor, then commits the new positions. */
class Batch implements DrainBatch {
  readonly series: DrainedSeries[] = [];
  readonly gaps: DrainGap[] = [];
  samples = 0;
  gap = 0;
  more = false;
  readonly replay: boolean;
  private done = false;
  /** The generation of the tier cursor this batch was drained at. */
  private readonly base: number;
  /** The range of an uncommitted earlier batch to replay, or null. */
  private readonly pending: PendingBatch | null;
  /** The positions this batch moves the cursor to (only the series that move). */
  private readonly updates: Positions = dict();

  constructor(
    private readonly src: DrainSource,
    readonly name: string,
    readonly tier: number,
    private readonly tc: TierCursor,
  ) {
    this.base = tc.generation;
    this.pending = tc.pending !== null && tc.pending.base === tc.generation ? tc.pending : null;
    this.replay = this.pending !== null;
  }

  get committed(): boolean {
    return this.done;
  }

  /** Reads the points of every schema with this tier, in schema then handle order, up to maxSamples. */
  collect(maxSamples: number, includeOpen: boolean): void {
    for (const [s, set] of this.src.sets.entries()) {
      if (this.more) break;
      if (this.tier < set.rings.length) this.collectSchema(s, set, maxSamples, includeOpen);
    }
    this.src.afterRead();
    this.trimRetired();
  }

  /** collect() for schema `s`: its series in handle order. */
  private collectSchema(s: number, set: TierSet, maxSamples: number, includeOpen: boolean): void {
    const ring = set.rings[this.tier]!;
    const stored = this.storedSchema(set.schema.name, ring);
    const newest = ring.currentNewest();
    if (newest === 0) return;
    const last = includeOpen ? newest : newest - 1;
    this.updates[set.schema.name] = dict();
    for (const e of this.src.series) {
      if (this.more) break;
      // A column at or above the published count was never cleared (see Store.query): no points yet.
      if (e.schema !== s || e.column >= set.columns) continue;
      if (this.samples >= maxSamples) this.more = true;
      else this.collectSeries(e, set.schema.name, ring, newest, last, stored, maxSamples);
    }
  }

  /** Cuts the points at or after each series' retirement (see DrainSource.afterRead). */
  private trimRetired(): void {
    if (this.series.length === 0) return;
    // By handle once: a find() per drained series would make a drain O(batch × series).
    const byHandle = new Map(this.src.series.map((e) => [e.handle, e]));
    for (const [i, d] of this.series.entries()) {
      const end = this.src.lifeEnd(byHandle.get(d.handle)!);
      const n = d.timestamps.findIndex((t) => t >= end);
      if (n < 0) continue;
      this.samples -= d.timestamps.length - n;
      this.series[i] = { ...d, timestamps: d.timestamps.slice(0, n), values: d.values.slice(0, n) };
    }
  }

  /** The cursor's positions of schema `schema`; ERR_RONDO_CURSOR when they belong to another store. */
  private storedSchema(schema: string, ring: Ring): SchemaCursor | undefined {
    const stored = this.tc.schemas[schema];
    if (stored !== undefined && stored.interval !== ring.intervalMs) {
      throw new RondoError(
        'ERR_RONDO_CURSOR',
        `cursor ${this.name}: tier ${this.tier} of schema ${schema} had a ${stored.interval} ms interval, the store has ${ring.intervalMs} ms (was the store recreated? remove ${this.src.dir}/cursors/${this.name}.json)`,
      );
    }
    return stored;
  }

  /**
   * Reads series e's points after its cursor position (through `last`, and within the series'
   * life: from its floor, before its retirement), noting a gap and the new position.
   */
  private collectSeries(
    e: SeriesEntry,
    schema: string,
    ring: Ring,
    newest: number,
    last: number,
    stored: SchemaCursor | undefined,
    maxSamples: number,
  ): void {
    const key = String(e.handle);
    // A series that took a freed column starts at its floor: the column's earlier points are not its own.
    const oldest = Math.max(ring.oldest(newest), Math.ceil(e.floor / ring.intervalMs));
    const next = stored?.next[key] ?? oldest;
    const from = Math.max(next, oldest);
    if (next < oldest) this.noteGap(e, schema, ring, next, oldest);
    const end = Math.min(last, Math.ceil(e.retiredAt / ring.intervalMs) - 1);
    // A replay stops where the uncommitted batch stopped; series it did not reach get nothing.
    const to = this.pending === null ? end : Math.min(end, (this.pending.ends[schema]?.[key] ?? next) - 1);
    let newNext = Math.max(from, to + 1);
    if (from <= to) {
      let { timestamps, values } = ring.read(e.column, from, to, newest);
      if (this.samples + timestamps.length > maxSamples) {
        const keep = maxSamples - this.samples;
        timestamps = timestamps.slice(0, keep);
        values = values.slice(0, keep);
        newNext = timestamps[keep - 1]! / ring.intervalMs + 1;
        this.more = true;
      }
      if (timestamps.length > 0) {
        const { handle, name, labels } = e;
        this.series.push({ handle, name, labels, schema, tier: this.tier, timestamps, values });
        this.samples += timestamps.length;
      }
    }
    if (newNext !== next) this.updates[schema]![key] = newNext;
  }

  private noteGap(e: SeriesEntry, schema: string, ring: Ring, from: number, oldest: number): void {
    const { intervalMs } = ring;
    this.gaps.push({
      handle: e.handle,
      name: e.name,
      schema,
      from: from * intervalMs,
      to: oldest * intervalMs,
      slots: oldest - from,
    });
    this.gap += oldest - from;
  }

  /** Remembers the range before anyone pushes it: after a crash the same range is replayed alone. */
  savePending(): void {
    if (this.samples === 0 || this.pending !== null) return;
    const ends: PendingBatch['ends'] = dict();
    for (const [schema, upd] of Object.entries(this.updates))
      ends[schema] = Object.assign(dict<number>(), this.tc.schemas[schema]?.next, upd);
    const fresh = readCursor(this.src.dir, this.name);
    const ftc = fresh.tiers[this.tier] ?? emptyTier();
    if (ftc.generation !== this.base) return;
    ftc.pending = { base: this.base, ends };
    fresh.tiers[this.tier] = ftc;
    writeCursor(this.src.dir, fresh);
  }

  commit(): void {
    if (this.done)
      throw new RondoError('ERR_RONDO_CURSOR', `cursor ${this.name}: this batch was already committed`);
    if (!this.src.locks.holds(this.name)) throw closed(this.src.dir);
    const fresh = readCursor(this.src.dir, this.name);
    const ftc = fresh.tiers[this.tier] ?? emptyTier();
    if (this.samples === 0 && this.pending === null) {
      // An empty batch delivered nothing, so it may not undo what happened since it was drained:
      // a newer batch drained (its pending range must still be replayed) or committed. Then its
      // commit does nothing; the empty slots it would skip are simply walked again.
      const newerPending = ftc.pending !== null && ftc.pending.base === ftc.generation;
      if (ftc.generation !== this.base || newerPending) {
        this.done = true;
        return;
      }
    }
    if (ftc.generation !== this.base) {
      throw new RondoError(
        'ERR_RONDO_CURSOR',
        `cursor ${this.name}: stale batch (drained at generation ${this.base}, the cursor is at ${ftc.generation}: a newer batch was committed)`,
      );
    }
    this.done = true;
    const moved = Object.values(this.updates).some((u) => Object.keys(u).length > 0);
    if (ftc.pending === null && !moved) return;
    this.advance(ftc);
    fresh.tiers[this.tier] = ftc;
    writeCursor(this.src.dir, fresh);
  }

  /** Applies this batch's positions to tier cursor `ftc` and counts the commit. */
  private advance(ftc: TierCursor): void {
    for (const [schema, upd] of Object.entries(this.updates)) {
      const set = this.src.sets.find((s) => s.schema.name === schema)!;
      const sc = ftc.schemas[schema] ?? { interval: set.rings[this.tier]!.intervalMs, next: dict<number>() };
      Object.assign(sc.next, upd);
      ftc.schemas[schema] = sc;
    }
    // Forget the positions of series that are gone (retired, aged out): under churn they would
    // otherwise pile up in the file forever.
    const known = new Set(this.src.series.map((e) => String(e.handle)));
    for (const sc of Object.values(ftc.schemas))
      for (const key of Object.keys(sc.next)) if (!known.has(key)) delete sc.next[key];
    ftc.generation = this.base + 1;
    ftc.pending = null;
  }
}
