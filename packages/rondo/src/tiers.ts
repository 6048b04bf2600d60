import { FN_CODE, foldColumn, minKnown } from './consolidate.js';

/** The code of `last`: what counters keep in coarse tiers. */
const FN_LAST = FN_CODE.last;

import { mod, Ring, S_FIRST_KEPT, S_SLOT, S_WRITES } from './ring.js';
import type { Schema } from './schema.js';
import { OFFSET, type Slab, storeU64 } from './slab.js';
import { SlotWords, W_HI, W_LO } from './timestamp.js';

/** Counters of one schema's tiers, summed into Store.stats(). */
export interface TierCounters {
  /** Late points dropped because their slot (or its window) had left the ring. */
  droppedLate: number;
  /** Consolidated windows written. */
  windowsWritten: number;
  /** Consolidations the writer ran itself because a slot was about to be reused. */
  autoConsolidations: number;
}

/** Index of the time (ms) record() wants a tier-0 position for, in {@link TierSet.state}. */
export const T_TIME = 0;

/**
 * The rings of one schema, fine to coarse, and the consolidation cascade between them.
 *
 * Consolidation state per coarse tier k (persisted in tier k's header): `consolidatedTo` is the
 * first source slot (tier k-1) of the first window that is not final; every window before it was
 * computed from all of its points. The source tier's `dirtyFrom` is the lowest slot written behind
 * its newest since then (late points). A consolidation recomputes every window from
 * min(consolidatedTo, window of dirtyFrom) to the source's newest slot from scratch, so the result
 * never depends on when it runs. Before the source ring reuses a slot whose window is not final,
 * the writer consolidates first, so no window is ever recomputed from part of its points.
 *
 * The writer mirrors both header fields in Float64Arrays and passes doubles through `state`, so
 * the slot-advance path (which may consolidate) allocates nothing: V8 boxes a double passed to a
 * call it does not inline, and slot numbers do not fit a small integer.
 */
export class TierSet {
  /** The schema these rings store. */
  readonly schema: Schema;
  /** One ring per tier. */
  readonly rings: Ring[];
  /** Counters since open. */
  readonly counters: TierCounters = { droppedLate: 0, windowsWritten: 0, autoConsolidations: 0 };
  /** Earliest time a point may have: the coarsest interval (so every tier's slot is ≥ 1). */
  readonly minTime: number;
  /** Writer input: [T_TIME] = the time (ms) record() wants a tier-0 position for. */
  readonly state = new Float64Array(1);
  /**
   * Per coarse tier k: the first source slot of the window being folded. One per tier because
   * folding into tier k can advance it, which folds into tier k+1 first (see beforeLoss).
   */
  private readonly windowStart: Float64Array;
  private inUse = 0;
  /** Source slots per window of tier k (1 for tier 0). */
  private readonly ratio: Int32Array;
  private readonly fn: Int32Array;
  private readonly need: Int32Array;
  /** The source ring's write counter when tier k was last consolidated (-1: never). */
  private readonly lastWrites: Float64Array;
  /** Writer's mirror of each tier's `consolidatedTo` header field (index k = tier k). */
  private readonly consolidatedTo: Float64Array;
  /** Writer's mirror of each tier's `dirtyFrom` header field. */
  private readonly dirtyFrom: Float64Array;
  /** Per coarse tier k: the ring positions of the stamped source slots of the window being folded. */
  private readonly positions: Int32Array[];
  /** Per tier: its slots' timestamp words, for walking windows. */
  private readonly stamps: SlotWords[];
  /** Column → 1 for a counter: its coarse tiers keep the window's last value, whatever the schema says. */
  private readonly counterColumns: Uint8Array;

  constructor(schema: Schema, slabs: Slab[], writable: boolean) {
    this.schema = schema;
    this.rings = slabs.map((s) => new Ring(s, !writable));
    const tiers = schema.tiers;
    this.minTime = tiers[tiers.length - 1]!.interval;
    this.ratio = Int32Array.from(tiers, (t, i) => (i === 0 ? 1 : t.interval / tiers[i - 1]!.interval));
    this.fn = Int32Array.from(tiers, (t) => (t.consolidation ? FN_CODE[t.consolidation] : -1));
    this.need = Int32Array.from(tiers, (t, i) => minKnown(t.xff, this.ratio[i]!));
    this.lastWrites = new Float64Array(tiers.length).fill(-1);
    this.consolidatedTo = Float64Array.from(slabs, (s) => s.consolidatedTo);
    this.dirtyFrom = Float64Array.from(slabs, (s) => s.dirtyFrom);
    this.positions = Array.from(this.ratio, (r) => new Int32Array(r));
    this.windowStart = new Float64Array(tiers.length);
    this.stamps = tiers.map((t) => new SlotWords(t.interval));
    this.counterColumns = new Uint8Array(schema.maxSeries);
    if (writable) {
      for (const ring of this.rings) ring.recover();
      this.rings.forEach((ring, k) => {
        if (k + 1 < this.rings.length) ring.beforeLoss = () => this.beforeLoss(k);
      });
    }
  }

  /** Registered series of the schema (columns in use); every ring clears only these on reuse. */
  get columns(): number {
    return this.inUse;
  }

  set columns(n: number) {
    this.inUse = n;
    for (const ring of this.rings) ring.columns = n;
  }

  /** Marks column `c` as holding a counter (or not): see `counters`. */
  setCounter(c: number, counter: boolean): void {
    this.counterColumns[c] = counter ? 1 : 0;
  }

  /**
   * Migration only: tier k's windows before the one starting at source slot `slot` are final
   * (the newer ones are folded by the next consolidate()).
   */
  setConsolidatedTo(k: number, slot: number): void {
    this.consolidatedTo[k] = slot;
    this.storeConsolidatedTo(k);
  }

  /**
   * Writer: empties column `c` in every tier before a series is registered into it, so the
   * column holds no value from before (a fresh file holds zeros) at any stamped position.
   */
  clearColumn(c: number): void {
    for (const ring of this.rings) ring.clearColumn(c);
  }

  /**
   * record()'s slow path: the tier-0 ring position for time state[T_TIME] (ms), advancing the
   * ring or opening a late slot as needed; -1 when the point is too late to keep (counted).
   */
  writePosition(): number {
    const ring = this.rings[0]!;
    const n = Math.floor(this.state[T_TIME]! / ring.intervalMs);
    ring.state[S_SLOT] = n;
    if (n >= ring.newest) return ring.writePosition();
    if (!this.lateAccepted()) {
      this.counters.droppedLate++;
      return -1;
    }
    const pos = ring.writePosition();
    this.markDirty(0, n);
    return pos;
  }

  /**
   * Whether the late slot in rings[0].state[S_SLOT] is kept: only while it and, for every
   * coarser tier, the whole window it folds into are still in their source rings; otherwise
   * refolding the window would use only part of its points. A coarse source ring is judged by
   * the newest slot it has once consolidated up to date, not by how far consolidation got, so
   * whether a point is kept never depends on when consolidate() ran.
   */
  private lateAccepted(): boolean {
    let s = this.rings[0]!.state[S_SLOT]!;
    let newest = this.rings[0]!.newest;
    if (s < newest - this.rings[0]!.slots + 1 || s < 1) return false;
    for (let k = 1; k < this.rings.length; k++) {
      const r = this.ratio[k]!;
      const src = this.rings[k - 1]!;
      s = Math.floor(s / r) * r;
      if (s < newest - src.slots + 1) return false;
      // A mark past the source's newest window means a crash inside the source's advance: the
      // windows before the mark already lost slots (see beforeLoss).
      const mark = this.consolidatedTo[k]!;
      if (s < mark && mark > Math.floor(src.newest / r) * r) return false;
      s /= r;
      newest = Math.floor(newest / r);
    }
    return true;
  }

  /** Lowers tier k's `dirtyFrom` to slot n (a slot written behind the newest), in memory and header. */
  private markDirty(k: number, n: number): void {
    if (k + 1 >= this.rings.length) return;
    const d = this.dirtyFrom[k]!;
    if (d === 0 || n < d) {
      this.dirtyFrom[k] = n;
      storeU64(this.rings[k]!.slab, OFFSET.dirtyFrom, this.dirtyFrom, k);
    }
  }

  /** Writes tier k's `consolidatedTo` mirror (set by the caller) to its header. */
  private storeConsolidatedTo(k: number): void {
    storeU64(this.rings[k]!.slab, OFFSET.consolidatedTo, this.consolidatedTo, k);
  }

  /** Ring k is about to drop every slot before its state[S_FIRST_KEPT]: make their windows final first. */
  private beforeLoss(k: number): void {
    const firstKept = this.rings[k]!.state[S_FIRST_KEPT]!;
    let pending = this.consolidatedTo[k + 1]!;
    if (pending === 0) pending = this.initConsolidatedTo(k + 1);
    const d = this.dirtyFrom[k]!;
    const r = this.ratio[k + 1]!;
    if (d !== 0 && Math.floor(d / r) * r < pending) pending = Math.floor(d / r) * r;
    if (pending !== 0 && pending < firstKept) {
      this.counters.autoConsolidations++;
      this.consolidateInto(k + 1);
      // Every window starting before firstKept is final now. Persist that before the ring empties
      // any slot: after a crash in the middle of the advance the header still names the old
      // newest slot, and without this the next consolidation would redo a window from a part.
      const final = Math.ceil(firstKept / r) * r;
      if (this.consolidatedTo[k + 1]! < final) {
        this.consolidatedTo[k + 1] = final;
        this.storeConsolidatedTo(k + 1);
      }
    }
  }

  /** The first time tier k's source has data, its mark starts at the window of the oldest stamped slot. */
  private initConsolidatedTo(k: number): number {
    const src = this.rings[k - 1]!;
    for (let n = src.oldest(); n !== 0 && n <= src.newest; n++) {
      if (src.holdsSlot(n)) {
        const r = this.ratio[k]!;
        this.consolidatedTo[k] = Math.floor(n / r) * r;
        this.storeConsolidatedTo(k);
        return this.consolidatedTo[k]!;
      }
    }
    return 0;
  }

  /** Consolidates every coarse tier in order (1 from 0, 2 from 1, …); returns windows written. */
  consolidate(): number {
    // Counted from the counter: a coarse ring's advance inside the cascade consolidates the next
    // tier from beforeLoss, and those windows are written by this call too.
    const before = this.counters.windowsWritten;
    for (let k = 1; k < this.rings.length; k++) this.consolidateInto(k);
    return this.counters.windowsWritten - before;
  }

  /**
   * Recomputes tier k's windows from min(consolidatedTo, window of dirtyFrom) through the
   * source's newest slot, each from all the source points it has; returns windows written.
   */
  private consolidateInto(k: number): number {
    const src = this.rings[k - 1]!;
    const r = this.ratio[k]!;
    const srcNewest = src.newest;
    if (srcNewest === 0 || !this.firstWindow(k)) return 0;
    let written = 0;
    for (; this.windowStart[k]! <= srcNewest; this.windowStart[k] = this.windowStart[k]! + r) {
      written += this.foldWindow(k);
    }
    const newestWindow = Math.floor(srcNewest / r) * r;
    if (newestWindow > this.consolidatedTo[k]!) {
      this.consolidatedTo[k] = newestWindow;
      this.storeConsolidatedTo(k);
    }
    if (this.dirtyFrom[k - 1] !== 0) {
      this.dirtyFrom[k - 1] = 0;
      storeU64(src.slab, OFFSET.dirtyFrom, this.dirtyFrom, k - 1);
    }
    this.lastWrites[k] = src.writes;
    this.counters.windowsWritten += written;
    return written;
  }

  /**
   * Sets windowStart[k] to the first source slot of the first window tier k must recompute;
   * false when there is nothing to do (no source data, or nothing new since the last time).
   */
  private firstWindow(k: number): boolean {
    const src = this.rings[k - 1]!;
    const r = this.ratio[k]!;
    const srcNewest = src.newest;
    const newestWindow = Math.floor(srcNewest / r) * r;
    const dirty = this.dirtyFrom[k - 1]!;
    const mark = this.consolidatedTo[k]!;
    if (src.writes === this.lastWrites[k] && dirty === 0 && mark === newestWindow) return false;
    let from = mark === 0 ? this.initConsolidatedTo(k) : mark;
    if (from === 0) return false;
    if (dirty !== 0 && Math.floor(dirty / r) * r < from) from = Math.floor(dirty / r) * r;
    // Windows whose first slots left the ring were made final before they left (beforeLoss); so
    // were those before a mark past the newest window (a crash inside the ring's advance).
    const srcOldest = mark > newestWindow ? mark : srcNewest - src.slots + 1;
    // Start at the first whole window: after a big time jump, stepping through every window in
    // between would take seconds.
    if (from < srcOldest) from = Math.ceil(srcOldest / r) * r;
    this.windowStart[k] = from;
    return true;
  }

  /**
   * Folds the window of tier k starting at source slot windowStart[k] from the stamped source
   * slots it has, for every registered column; returns 1 when a window was written, else 0.
   */
  private foldWindow(k: number): number {
    const src = this.rings[k - 1]!;
    const dst = this.rings[k]!;
    const r = this.ratio[k]!;
    const count = this.collectWindow(k);
    const w = this.windowStart[k]! / r;
    // Nothing to fold: skip unless an earlier value for this window must be replaced.
    if (count === 0 && (w > dst.newest || !this.holdsWindow(k))) return 0;
    if (w < dst.newest - dst.slots + 1) return 0;
    dst.state[S_SLOT] = w;
    const at = dst.writePosition();
    if (w < dst.newest) this.markDirty(k, w);
    const positions = this.positions[k]!;
    const { need, counterColumns } = this;
    const fn = this.fn[k]!;
    const srcValues = src.slab.values;
    const out = dst.slab.values;
    for (let c = 0; c < this.columns; c++) {
      const f = counterColumns[c] === 1 ? FN_LAST : fn;
      foldColumn(f, srcValues, c * src.slots, positions, count, need[k]!, out, c * dst.slots + at);
    }
    dst.state[S_WRITES]!++;
    return 1;
  }

  /**
   * Fills positions[k] with the ring positions of the stamped source slots of the window of tier
   * k that starts at windowStart[k] (walked by their expected timestamps); returns how many.
   */
  private collectWindow(k: number): number {
    const src = this.rings[k - 1]!;
    const first = this.windowStart[k]!;
    const last = Math.min(first + this.ratio[k]! - 1, src.newest);
    const stamp = this.stamps[k - 1]!;
    const w = stamp.words;
    const ts = src.slab.ts32;
    const positions = this.positions[k]!;
    const slots = src.slots;
    stamp.ms[0] = first * src.intervalMs;
    stamp.seek();
    let count = 0;
    for (let s = first, pos = mod(first, slots); s <= last; s++) {
      if (ts[2 * pos] === w[W_LO] && ts[2 * pos + 1] === w[W_HI]) positions[count++] = pos;
      pos = pos + 1 === slots ? 0 : pos + 1;
      stamp.next();
    }
    return count;
  }

  /** True when tier k's position for the window starting at windowStart[k] holds that window. */
  private holdsWindow(k: number): boolean {
    const dst = this.rings[k]!;
    const w = this.windowStart[k]! / this.ratio[k]!;
    const stamp = this.stamps[k]!;
    stamp.ms[0] = w * dst.intervalMs;
    stamp.seek();
    const pos = mod(w, dst.slots);
    const ts = dst.slab.ts32;
    return ts[2 * pos] === stamp.words[W_LO] && ts[2 * pos + 1] === stamp.words[W_HI];
  }

  /**
   * The tier `auto` picks for a query starting at `start` (ms): the finest whose retention,
   * counted back from its newest slot, reaches `start`; otherwise the coarsest with data.
   */
  autoTier(start: number): { tier: number; covered: boolean } {
    let coarsestWithData = 0;
    for (let k = 0; k < this.rings.length; k++) {
      const ring = this.rings[k]!;
      const newest = ring.currentNewest();
      if (newest === 0) continue;
      coarsestWithData = k;
      if (ring.covers(newest, start)) return { tier: k, covered: true };
    }
    return { tier: coarsestWithData, covered: false };
  }
}
