import { native } from './native.js';
import { scanAtomic, uninitialized } from './ring-scan.js';
import { OFFSET, type Slab, storeU64 } from './slab.js';
import { MAX_TIMESTAMP_MS, nsHigh, nsLow, SlotWords, W_HI, W_LO } from './timestamp.js';

/** Points of one series read from a ring, oldest first. */
export interface RingPoints {
  /** Aligned slot start times in ms. */
  timestamps: Float64Array;
  /** Values; never NaN (slots without a value are left out). */
  values: Float64Array;
}

const GENERATION_WORD = OFFSET.generation / 4;
/** Index of the newest slot in {@link Ring.state}. */
export const S_NEWEST = 0;
/** Index of the newest slot's start (ms) in {@link Ring.state}. */
export const S_START = 1;
/** Index of the newest slot's end (ms, exclusive) in {@link Ring.state}. */
export const S_END = 2;
/** Index of the write counter in {@link Ring.state}. */
export const S_WRITES = 3;
/** Index of the writer's input slot number (to advance to, or to write) in {@link Ring.state}. */
export const S_SLOT = 4;
/** Index of the first slot still in the ring after an advance, for `beforeLoss`, in {@link Ring.state}. */
export const S_FIRST_KEPT = 5;

/** `n mod m` for whole doubles beyond int32 (and negative n): `%` on such doubles is a slow fmod call. */
export function mod(n: number, m: number): number {
  return n - Math.floor(n / m) * m;
}

/**
 * The ring of one (schema, tier): maps absolute slot numbers (aligned start / interval) to ring
 * positions of a slab and keeps the invariants that make every read exact:
 * - a position's values belong to the time its timestamp says; a position being reused is
 *   un-stamped, then cleared, then stamped with its new time;
 * - the newest slot only moves forward.
 *
 * The writer's methods take slot numbers through `state[S_SLOT]` rather than as arguments: V8
 * boxes a double passed to (or returned from) a call it does not inline, and slot numbers do
 * not fit in a small integer, so arguments would allocate on every slot advance.
 */
export class Ring {
  /** The mapped file. */
  readonly slab: Slab;
  /** Ring size. */
  readonly slots: number;
  /** Slot width in ms. */
  readonly intervalMs: number;
  /** True for a reader's ring: the writer (another process) may move it at any time. */
  readonly concurrent: boolean;
  /** The timestamp words of slots, for stamping late slots and scanning. */
  private readonly stamp: SlotWords;
  /** The writer's words of the newest slot: an advance to the next slot steps them (no division). */
  private readonly head: SlotWords;
  /**
   * The ring's changing numbers, in a typed array because V8 allocates a fresh box for every
   * double stored in an object field: [S_NEWEST] newest slot (0 = empty; readers refresh it from
   * the header), [S_START]/[S_END] the newest slot's start and end in ms (record()'s fast path
   * compares against them), [S_WRITES] values written since open, and the writer's inputs
   * [S_SLOT] and [S_FIRST_KEPT].
   */
  readonly state = Float64Array.of(0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, 0, 0);
  /** Ring position of the newest slot. */
  curPos = 0;
  /**
   * Value columns in use (registered series). Emptying a position clears only these: a column
   * is cleared whole when its series is registered, so the columns beyond stay out of reach.
   * Clearing is the main cost of a slot advance (one cache line per column), so a schema with
   * spare capacity does not pay for it.
   */
  columns = 0;
  /**
   * Called before the writer reuses positions, with `state[S_FIRST_KEPT]` = the first slot still
   * in the ring afterwards; the tier owner uses it to consolidate what is about to be lost.
   */
  beforeLoss: (() => void) | null = null;

  /** A ring over `slab`; `concurrent` for a reader beside a writer in another process. */
  constructor(slab: Slab, concurrent: boolean) {
    this.slab = slab;
    this.slots = slab.id.slots;
    this.intervalMs = slab.id.intervalMs;
    this.concurrent = concurrent;
    this.stamp = new SlotWords(this.intervalMs);
    this.head = new SlotWords(this.intervalMs);
    this.state[S_NEWEST] = slab.newest;
    this.setCurrent();
  }

  /** Newest slot written (0 = empty), as last read or written by this process. */
  get newest(): number {
    return this.state[S_NEWEST]!;
  }

  /** Newest slot now: a reader reads it from the header (the writer may have moved it). */
  currentNewest(): number {
    return this.concurrent ? this.refreshNewest() : this.state[S_NEWEST]!;
  }

  /** Values written into this ring since open (records, or windows for coarse tiers). */
  get writes(): number {
    return this.state[S_WRITES]!;
  }

  /** Reads the newest slot from the header (for readers: the writer may have moved it). */
  refreshNewest(): number {
    this.state[S_NEWEST] = this.slab.newest;
    return this.state[S_NEWEST]!;
  }

  /** True when the ring, with `newest` as its newest slot, reaches back to `start` (ms). */
  covers(newest: number, start: number): boolean {
    return (newest - this.slots + 1) * this.intervalMs <= start;
  }

  /** Oldest slot still in the ring given the newest, or 0 when empty. */
  oldest(newest = this.newest): number {
    return newest === 0 ? 0 : Math.max(1, newest - this.slots + 1);
  }

  /** Sets record()'s bounds, the position and the head words from the newest slot. */
  private setCurrent(): void {
    const n = this.state[S_NEWEST]!;
    if (n === 0) return;
    this.head.ms[0] = n * this.intervalMs;
    this.head.seek();
    this.setBounds(mod(n, this.slots));
  }

  /** Sets record()'s bounds to the newest slot, whose position is `pos`. */
  private setBounds(pos: number): void {
    const start = this.state[S_NEWEST]! * this.intervalMs;
    this.state[S_START] = start;
    // The last slot a u64 of ns can stamp ends past that limit: the fast path must stop at it.
    this.state[S_END] = Math.min(start + this.intervalMs, MAX_TIMESTAMP_MS + 1);
    this.curPos = pos;
  }

  /**
   * Writer recovery after a crash: drops timestamps that are not a slot this ring could hold
   * (a torn write) and raises the newest slot to the newest stamped one. The header can lag (a
   * writer killed after stamping the new slot but before publishing it, or between the two
   * word stores, which leaves it low), but never lead: the new slot is stamped first.
   */
  recover(): void {
    const { slab, slots } = this;
    // The header's newest slot is kept only if its position is stamped with it: otherwise it is
    // damaged (a value far ahead would make every later point "late"), or a crash emptied its
    // position during a jump of a whole lap, where the stamped slots are all there is anyway.
    let newest = this.newest !== 0 && this.holdsSlot(this.newest) ? this.newest : 0;
    for (let pos = 0; pos < slots; pos++) {
      const ms = slab.slotTimeAt(pos);
      if (Number.isNaN(ms)) {
        if (slab.ts[2 * pos] !== 0 || slab.ts[2 * pos + 1] !== 0) slab.invalidate(pos);
        continue;
      }
      const n = ms / this.intervalMs;
      if (!Number.isInteger(n) || mod(n, slots) !== pos || n < 1) {
        slab.invalidate(pos);
        continue;
      }
      if (n > newest) newest = n;
    }
    // Positions stamped with slots older than the ring holds are invisible to reads: no fix needed.
    if (newest !== this.newest) {
      this.state[S_SLOT] = newest;
      this.publishNewest();
    }
    // A writer killed inside a seqlock section leaves the generation odd: close the section.
    if ((slab.header[GENERATION_WORD]! & 1) !== 0) this.bumpGeneration();
    this.setCurrent();
  }

  /** Sets the newest slot to state[S_SLOT], in memory and in the header. */
  private publishNewest(): void {
    this.state[S_NEWEST] = this.state[S_SLOT]!;
    // A torn value is below the new one, which recover() raises to the stamped slot; readers
    // read it under the seqlock.
    storeU64(this.slab, OFFSET.newestSlot, this.state, S_NEWEST);
  }

  /** Sets the stamp's words to those of slot state[S_SLOT]. */
  private wordsOfSlot(): void {
    this.stamp.ms[0] = this.state[S_SLOT]! * this.intervalMs;
    this.stamp.seek();
  }

  /**
   * Bumps the header's generation (a seqlock): odd while the writer reuses a position or moves
   * the newest slot, so a reader's plain-load scan, or its read of the two words of the newest
   * slot, can tell that something changed under it.
   */
  private bumpGeneration(): void {
    const header = this.slab.header;
    header[GENERATION_WORD] = (header[GENERATION_WORD]! + 1) >>> 0;
  }

  /**
   * Empties position `pos` and stamps it with the slot whose words `words` holds, in an order a
   * reader can trust; call between bumps.
   */
  private prepare(pos: number, words: Int32Array): void {
    const { ts32, values } = this.slab;
    ts32[2 * pos] = 0;
    ts32[2 * pos + 1] = 0;
    const slots = this.slots;
    const columns = this.columns;
    for (let c = 0, i = pos; c < columns; c++, i += slots) values[i] = Number.NaN;
    ts32[2 * pos + 1] = words[W_HI]!;
    ts32[2 * pos] = words[W_LO]!;
  }

  /** Writer: moves the newest slot forward to state[S_SLOT] (> newest), emptying every position it passes over. */
  advance(): void {
    const n = this.state[S_SLOT]!;
    const old = this.newest;
    const slots = this.slots;
    if (old !== 0 && this.beforeLoss !== null) {
      const firstKept = n - slots + 1;
      if (firstKept > old - slots + 1 && firstKept > 1) {
        this.state[S_FIRST_KEPT] = firstKept;
        this.beforeLoss();
      }
    }
    this.bumpGeneration();
    let pos: number;
    if (n === old + 1 && old !== 0) {
      // The next slot, the common case: its position and words step from the newest's.
      pos = this.curPos + 1 === slots ? 0 : this.curPos + 1;
      this.head.next();
    } else {
      pos = this.jump(old, n);
    }
    this.prepare(pos, this.head.words);
    this.state[S_SLOT] = n; // beforeLoss may have used it
    this.publishNewest();
    this.bumpGeneration();
    this.setBounds(pos);
  }

  /**
   * An advance past one slot or more (or into an empty ring), inside its section: un-stamps
   * the positions passed over (at most one lap) and seeks the head words to slot `n`; returns
   * its position.
   */
  private jump(old: number, n: number): number {
    const slots = this.slots;
    const ts = this.slab.ts;
    // Walking positions as small integers.
    const skipped = old === 0 || n - old >= slots ? slots - 1 : n - old - 1;
    for (let i = 0, p = mod(n - skipped, slots); i < skipped; i++, p = p + 1 === slots ? 0 : p + 1) {
      ts[2 * p] = 0;
      ts[2 * p + 1] = 0;
    }
    this.head.ms[0] = n * this.intervalMs;
    this.head.seek();
    return mod(n, slots);
  }

  /**
   * Writer: the ring position for slot state[S_SLOT], which must be ≥ the ring's oldest slot.
   * Advances the ring when the slot is newer; prepares a position that holds another time.
   */
  writePosition(): number {
    const n = this.state[S_SLOT]!;
    if (n > this.newest) {
      this.advance();
      return this.curPos;
    }
    const pos = mod(n, this.slots);
    const ts = this.slab.ts32;
    this.wordsOfSlot();
    const w = this.stamp.words;
    if (ts[2 * pos] !== w[W_LO] || ts[2 * pos + 1] !== w[W_HI]) {
      this.bumpGeneration();
      this.prepare(pos, w);
      this.bumpGeneration();
    }
    return pos;
  }

  /** Writer: fills column `c` with NaN in every position, before its series is registered. */
  clearColumn(c: number): void {
    this.slab.values.fill(Number.NaN, c * this.slots, (c + 1) * this.slots);
  }

  /** True when slot `n`'s ring position is stamped with slot `n` (reader-safe: atomic loads). */
  holdsSlot(n: number): boolean {
    const ms = n * this.intervalMs;
    return this.slab.holds(mod(n, this.slots), nsLow(ms), nsHigh(ms));
  }

  /**
   * Reads the known points of `column` for slots [from, to] (inclusive, clamped to the ring),
   * given the newest slot. For a reader beside a writer a value must never be returned with a
   * time it was not recorded at while the writer reuses positions: the scan uses plain loads
   * between two reads of the header's generation (a seqlock; the writer makes it odd while it
   * reuses a position) and is trusted only if the generation did not move. After two disturbed
   * scans it falls back to checking each position's timestamp atomically before and after its value.
   */
  read(column: number, from: number, to: number, newest: number): RingPoints {
    const oldest = this.oldest(newest);
    if (newest === 0 || from > to) return { timestamps: new Float64Array(0), values: new Float64Array(0) };
    if (from < oldest) from = oldest;
    if (to > newest) to = newest;
    const count = Math.max(0, to - from + 1);
    const times = uninitialized(count);
    const vals = uninitialized(count);
    let k = -1;
    if (!this.concurrent) {
      k = this.scan(column, from, count, times, vals, false);
    } else {
      const h = this.slab.header32;
      for (let attempt = 0; attempt < 2 && k < 0; attempt++) {
        const g = Atomics.load(h, GENERATION_WORD);
        if ((g & 1) !== 0) continue;
        const n = this.scan(column, from, count, times, vals, false);
        if (Atomics.load(h, GENERATION_WORD) === g) k = n;
      }
      if (k < 0) k = this.scan(column, from, count, times, vals, true);
    }
    if (k === count) return { timestamps: times, values: vals };
    return { timestamps: times.slice(0, k), values: vals.slice(0, k) };
  }

  /**
   * One pass over `count` slots from `from`, filling known points; returns how many. The slots
   * are cut into at most two runs of consecutive positions (before and after the ring wraps),
   * each scanned by the addon's loop, or by the atomic one.
   */
  private scan(
    column: number,
    from: number,
    count: number,
    times: Float64Array,
    vals: Float64Array,
    atomic: boolean,
  ): number {
    const { slab, slots, intervalMs, stamp } = this;
    const values = slab.values;
    const ts = slab.ts32;
    const base = column * slots;
    const w = stamp.words;
    let k = 0;
    let pos = mod(from, slots);
    let ms = from * intervalMs;
    for (let left = count; left > 0; pos = 0) {
      const run = Math.min(left, slots - pos);
      stamp.ms[0] = ms;
      stamp.seek();
      k = atomic
        ? scanAtomic(ts, values, base, pos, run, stamp, times, vals, k, ms, intervalMs)
        : native().scan(
            ts,
            values,
            base,
            pos,
            run,
            w[W_LO]! >>> 0,
            w[W_HI]! >>> 0,
            times,
            vals,
            k,
            ms,
            intervalMs,
          );
      left -= run;
      ms += run * intervalMs;
    }
    return k;
  }

  /** Oldest and newest slot starts (ms) that are stamped, and how many are, given the newest. */
  span(newest: number): { oldest: number | null; newest: number | null; used: number } {
    if (newest === 0) return { oldest: null, newest: null, used: 0 };
    let oldestMs: number | null = null;
    let used = 0;
    for (let n = this.oldest(newest); n <= newest; n++) {
      if (this.holdsSlot(n)) {
        used++;
        if (oldestMs === null) oldestMs = n * this.intervalMs;
      }
    }
    return { oldest: oldestMs, newest: newest * this.intervalMs, used };
  }
}
