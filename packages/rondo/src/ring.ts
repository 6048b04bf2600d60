import { OFFSET, type Slab } from './slab.js';
import { nsHigh, nsLow } from './timestamp.js';

/** Points of one series read from a ring, oldest first. */
export interface RingPoints {
  /** Aligned slot start times in ms. */
  timestamps: Float64Array;
  /** Values; never NaN (slots without a value are left out). */
  values: Float64Array;
}

/**
 * The ring of one (schema, tier): maps absolute slot numbers (aligned start / interval) to ring
 * positions of a slab and keeps the invariants that make every read exact:
 * - a position's values belong to the time its timestamp says; values are cleared before a
 *   position is stamped with a new time, and a position being reused is un-stamped first;
 * - the newest slot only moves forward.
 */
export class Ring {
  /** The mapped file. */
  readonly slab: Slab;
  /** Ring size. */
  readonly slots: number;
  /** Slot width in ms. */
  readonly intervalMs: number;
  /** Writer's copy of the newest slot (0 = empty); readers read the header instead. */
  newest: number;
  /** Start (ms) of the newest slot: record()'s fast path compares against it. */
  curStart = Number.POSITIVE_INFINITY;
  /** End (ms, exclusive) of the newest slot. */
  curEnd = Number.NEGATIVE_INFINITY;
  /** Ring position of the newest slot. */
  curPos = 0;
  /** Values written into this ring since open (records, or windows for coarse tiers). */
  writes = 0;
  /**
   * Called before the writer reuses positions, with the first slot that will still be in the
   * ring afterwards; the tier owner uses it to consolidate what is about to be lost.
   */
  beforeLoss: ((firstKept: number) => void) | null = null;

  constructor(slab: Slab) {
    this.slab = slab;
    this.slots = slab.id.slots;
    this.intervalMs = slab.id.intervalMs;
    this.newest = slab.newest;
    this.setCurrent();
  }

  /** Reads the newest slot from the header (for readers: the writer may have moved it). */
  refreshNewest(): number {
    this.newest = this.slab.newest;
    return this.newest;
  }

  /** Oldest slot still in the ring given the newest, or 0 when empty. */
  oldest(newest = this.newest): number {
    return newest === 0 ? 0 : Math.max(1, newest - this.slots + 1);
  }

  private setCurrent(): void {
    if (this.newest === 0) return;
    this.curStart = this.newest * this.intervalMs;
    this.curEnd = this.curStart + this.intervalMs;
    this.curPos = this.newest % this.slots;
  }

  /**
   * Writer recovery after a crash: drops timestamps that are not a slot this ring could hold
   * (a torn write) and moves the newest slot up to the newest stamped position.
   */
  recover(): void {
    const { slab, slots } = this;
    let newest = this.newest;
    for (let pos = 0; pos < slots; pos++) {
      const ms = slab.slotTimeAt(pos);
      if (Number.isNaN(ms)) {
        if (slab.ts[2 * pos] !== 0 || slab.ts[2 * pos + 1] !== 0) slab.invalidate(pos);
        continue;
      }
      const n = ms / this.intervalMs;
      if (!Number.isInteger(n) || n % slots !== pos || n < 1) {
        slab.invalidate(pos);
        continue;
      }
      if (n > newest) newest = n;
    }
    if (newest !== this.newest) {
      this.newest = newest;
      slab.setField(OFFSET.newestSlot, newest);
    }
    // Positions newer than the newest slot by a lap or more cannot exist; positions stamped with
    // slots older than the ring holds are invisible to reads, so nothing else needs fixing.
    this.setCurrent();
  }

  private clearValues(pos: number): void {
    const { values } = this.slab;
    const { slots } = this;
    const capacity = this.slab.id.capacity;
    for (let c = 0, i = pos; c < capacity; c++, i += slots) values[i] = Number.NaN;
  }

  /** Un-stamps, clears and re-stamps position `pos` for slot `n`, in an order a reader can trust. */
  private prepare(pos: number, n: number): void {
    this.slab.invalidate(pos);
    this.clearValues(pos);
    this.slab.stamp(pos, n * this.intervalMs);
  }

  /** Moves the newest slot forward to `n` (> newest), emptying every position it passes over. */
  advance(n: number): void {
    const old = this.newest;
    const firstKept = Math.max(1, n - this.slots + 1);
    if (old !== 0 && this.beforeLoss !== null && firstKept > this.oldest(old)) this.beforeLoss(firstKept);
    const from = old === 0 || n - old >= this.slots ? n - this.slots + 1 : old + 1;
    for (let s = from; s < n; s++) this.slab.invalidate(((s % this.slots) + this.slots) % this.slots);
    const pos = n % this.slots;
    this.prepare(pos, n);
    this.newest = n;
    this.slab.setField(OFFSET.newestSlot, n);
    this.setCurrent();
  }

  /**
   * Returns the ring position for slot `n`, which must be within the ring (oldest ≤ n ≤ newest
   * after an advance if needed); a position holding another time is prepared for `n`.
   */
  positionFor(n: number): number {
    if (n > this.newest) {
      this.advance(n);
      return this.curPos;
    }
    const pos = n % this.slots;
    const ms = n * this.intervalMs;
    if (!this.slab.holds(pos, nsLow(ms), nsHigh(ms))) this.prepare(pos, n);
    return pos;
  }

  /** The value of `column` at slot `n`; NaN when the ring holds no value for that slot. */
  valueAt(column: number, n: number): number {
    const pos = n % this.slots;
    const ms = n * this.intervalMs;
    const lo = nsLow(ms);
    const hi = nsHigh(ms);
    if (!this.slab.holds(pos, lo, hi)) return Number.NaN;
    const v = this.slab.values[column * this.slots + pos]!;
    return this.slab.holds(pos, lo, hi) ? v : Number.NaN;
  }

  /**
   * Reads the known points of `column` for slots [from, to] (inclusive, clamped to the ring).
   * Each value is read between two checks of its position's timestamp, so a value is only ever
   * returned with the time it was written at, even while a writer reuses the position.
   */
  read(column: number, from: number, to: number, newest: number): RingPoints {
    const oldest = this.oldest(newest);
    if (newest === 0 || from > to) return { timestamps: new Float64Array(0), values: new Float64Array(0) };
    if (from < oldest) from = oldest;
    if (to > newest) to = newest;
    const count = Math.max(0, to - from + 1);
    const times = new Float64Array(count);
    const vals = new Float64Array(count);
    const { slab, slots, intervalMs } = this;
    const { values, ts } = slab;
    const base = column * slots;
    let k = 0;
    for (let n = from; n <= to; n++) {
      const pos = n % slots;
      const ms = n * intervalMs;
      const lo = nsLow(ms);
      const hi = nsHigh(ms);
      if (Atomics.load(ts, 2 * pos) !== lo || Atomics.load(ts, 2 * pos + 1) !== hi) continue;
      const v = values[base + pos]!;
      if (Number.isNaN(v)) continue;
      if (Atomics.load(ts, 2 * pos) !== lo || Atomics.load(ts, 2 * pos + 1) !== hi) continue;
      times[k] = ms;
      vals[k] = v;
      k++;
    }
    return { timestamps: times.slice(0, k), values: vals.slice(0, k) };
  }

  /** Oldest and newest slot starts (ms) that are stamped, or nulls when the ring is empty. */
  span(newest: number): { oldest: number | null; newest: number | null; used: number } {
    if (newest === 0) return { oldest: null, newest: null, used: 0 };
    let oldestMs: number | null = null;
    let used = 0;
    for (let n = this.oldest(newest); n <= newest; n++) {
      const ms = n * this.intervalMs;
      if (this.slab.holds(n % this.slots, nsLow(ms), nsHigh(ms))) {
        used++;
        if (oldestMs === null) oldestMs = ms;
      }
    }
    return { oldest: oldestMs, newest: newest * this.intervalMs, used };
  }
}
