import { FN_CODE, foldColumn, minKnown } from './consolidate.js';
import { mod, Ring, S_WRITES } from './ring.js';
import type { Schema } from './schema.js';
import { OFFSET, type Slab, storeU64 } from './slab.js';
import { splitNs } from './timestamp.js';

/** Counters of one schema's tiers, summed into Store.stats(). */
export interface TierCounters {
  /** Late points dropped because their slot (or its window) had left the ring. */
  droppedLate: number;
  /** Consolidated windows written. */
  windowsWritten: number;
  /** Consolidations the writer ran itself because a slot was about to be reused. */
  autoConsolidations: number;
}

/**
 * Copies `from[k]` into the u64 header field at `offset` of `slab` (the value never crosses a call).
 * Low word first: a crash between the two stores then leaves the mark or dirty slot behind its
 * true value, which only makes the next consolidation redo windows it could skip; a value torn
 * ahead (by 2^32 slots, with sub-second intervals) would make windows look final that are not.
 */

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
 * The writer mirrors both header fields in Float64Arrays and passes doubles through `io`, so the
 * slot-advance path (which may consolidate) allocates nothing.
 */
export class TierSet {
  /** The schema these rings store. */
  readonly schema: Schema;
  /** One ring per tier. */
  readonly rings: Ring[];
  private inUse = 0;
  /** Counters since open. */
  readonly counters: TierCounters = { droppedLate: 0, windowsWritten: 0, autoConsolidations: 0 };
  /** Earliest time a point may have: the coarsest interval (so every tier's slot is ≥ 1). */
  readonly minTime: number;
  /** Writer input: [0] = the time (ms) record() wants a tier-0 position for. */
  readonly io = new Float64Array(1);
  private readonly ratio: Int32Array;
  private readonly fn: Int32Array;
  private readonly need: Int32Array;
  private readonly lastWrites: Float64Array;
  /** Writer's mirror of each tier's `consolidatedTo` (index k = tier k). */
  private readonly mark: Float64Array;
  /** Writer's mirror of each tier's `dirtyFrom`. */
  private readonly dirty: Float64Array;
  private readonly scratch: Int32Array[];
  /** splitNs scratch: [0] = ms in, [1] = low word, [2] = high word out. */
  private readonly words = new Float64Array(3);

  constructor(schema: Schema, slabs: Slab[], writable: boolean) {
    this.schema = schema;
    this.rings = slabs.map((s) => new Ring(s));
    const tiers = schema.tiers;
    this.minTime = tiers[tiers.length - 1]!.interval;
    this.ratio = Int32Array.from(tiers, (t, i) => (i === 0 ? 1 : t.interval / tiers[i - 1]!.interval));
    this.fn = Int32Array.from(tiers, (t) => (t.consolidation ? FN_CODE[t.consolidation] : -1));
    this.need = Int32Array.from(tiers, (t, i) => minKnown(t.xff, this.ratio[i]!));
    this.lastWrites = new Float64Array(tiers.length).fill(-1);
    this.mark = Float64Array.from(slabs, (s) => s.consolidatedTo);
    this.dirty = Float64Array.from(slabs, (s) => s.dirtyFrom);
    this.scratch = Array.from(this.ratio, (r) => new Int32Array(r));
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

  /**
   * Writer: empties column `c` in every tier before a series is registered into it, so the
   * column holds no value from before (a fresh file holds zeros) at any stamped position.
   */
  clearColumn(c: number): void {
    for (const ring of this.rings) ring.clearColumn(c);
  }

  /**
   * record()'s slow path: the tier-0 ring position for time io[0] (ms), advancing the ring or
   * opening a late slot as needed; -1 when the point is too late to keep (counted).
   */
  writePosition(): number {
    const ring = this.rings[0]!;
    const n = Math.floor(this.io[0]! / ring.intervalMs);
    ring.io[0] = n;
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
   * Whether the late slot in rings[0].io[0] is kept: only while it and, for every coarser tier,
   * the whole window it folds into are still in their source rings; otherwise refolding the
   * window would use only part of its points. A coarse source ring is judged by the newest slot
   * it has once consolidated up to date, not by how far consolidation got, so whether a point
   * is kept never depends on when consolidate() ran.
   */
  private lateAccepted(): boolean {
    let s = this.rings[0]!.io[0]!;
    let newest = this.rings[0]!.newest;
    if (s < newest - this.rings[0]!.slots + 1 || s < 1) return false;
    for (let k = 1; k < this.rings.length; k++) {
      const r = this.ratio[k]!;
      const src = this.rings[k - 1]!;
      s = Math.floor(s / r) * r;
      if (s < newest - src.slots + 1) return false;
      // A mark past the source's newest window means a crash inside the source's advance: the
      // windows before the mark already lost slots (see beforeLoss).
      const mark = this.mark[k]!;
      if (s < mark && mark > Math.floor(src.newest / r) * r) return false;
      s /= r;
      newest = Math.floor(newest / r);
    }
    return true;
  }

  private markDirty(k: number, n: number): void {
    if (k + 1 >= this.rings.length) return;
    const d = this.dirty[k]!;
    if (d === 0 || n < d) {
      this.dirty[k] = n;
      storeU64(this.rings[k]!.slab, OFFSET.dirtyFrom, this.dirty, k);
    }
  }

  /** Ring k is about to drop every slot before its io[1]: make the windows they belong to final first. */
  private beforeLoss(k: number): void {
    const firstKept = this.rings[k]!.io[1]!;
    let pending = this.mark[k + 1]!;
    if (pending === 0) pending = this.initMark(k + 1);
    const d = this.dirty[k]!;
    const r = this.ratio[k + 1]!;
    if (d !== 0 && Math.floor(d / r) * r < pending) pending = Math.floor(d / r) * r;
    if (pending !== 0 && pending < firstKept) {
      this.counters.autoConsolidations++;
      this.consolidateInto(k + 1);
      // Every window starting before firstKept is final now. Persist that before the ring empties
      // any slot: after a crash in the middle of the advance the header still names the old
      // newest slot, and without this the next consolidation would redo a window from a part.
      const final = Math.ceil(firstKept / r) * r;
      if (this.mark[k + 1]! < final) {
        this.mark[k + 1] = final;
        storeU64(this.rings[k + 1]!.slab, OFFSET.consolidatedTo, this.mark, k + 1);
      }
    }
  }

  /** The first time tier k's source has data, its mark starts at the window of the oldest stamped slot. */
  private initMark(k: number): number {
    const src = this.rings[k - 1]!;
    for (let n = src.oldest(); n !== 0 && n <= src.newest; n++) {
      if (src.holdsSlot(n)) {
        const r = this.ratio[k]!;
        this.mark[k] = Math.floor(n / r) * r;
        storeU64(this.rings[k]!.slab, OFFSET.consolidatedTo, this.mark, k);
        return this.mark[k]!;
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
   * Recomputes tier k's windows from min(mark, window of dirtyFrom) through the source's newest
   * slot, each from all the source points it has. One method, locals only: see the class note.
   */
  private consolidateInto(k: number): number {
    const src = this.rings[k - 1]!;
    const dst = this.rings[k]!;
    const r = this.ratio[k]!;
    const srcNewest = src.newest;
    if (srcNewest === 0) return 0;
    const newestWindow = Math.floor(srcNewest / r) * r;
    const dirty = this.dirty[k - 1]!;
    if (src.writes === this.lastWrites[k] && dirty === 0 && this.mark[k] === newestWindow) return 0;
    let from = this.mark[k]!;
    if (from === 0) from = this.initMark(k);
    if (from === 0) return 0;
    if (dirty !== 0 && Math.floor(dirty / r) * r < from) from = Math.floor(dirty / r) * r;

    // Windows whose first slots left the ring were made final before they left (beforeLoss); so
    // were those before a mark past the newest window (a crash inside the ring's advance).
    let srcOldest = srcNewest - src.slots + 1;
    if (this.mark[k]! > newestWindow) srcOldest = this.mark[k]!;
    // Start at the first whole window: after a big time jump, stepping through every window in
    // between would take seconds.
    if (from < srcOldest) from = Math.ceil(srcOldest / r) * r;
    const srcSlots = src.slots;
    const srcTs = src.slab.ts;
    const srcValues = src.slab.values;
    const stepLo = (src.intervalMs * 1e6) % 4294967296;
    const stepHi = Math.floor((src.intervalMs * 1e6) / 4294967296);
    const positions = this.scratch[k]!;
    const fn = this.fn[k]!;
    const need = this.need[k]!;
    const dstSlots = dst.slots;
    const out = dst.slab.values;
    const dstTs = dst.slab.ts;
    let written = 0;
    for (let ws = from; ws <= srcNewest; ws += r) {
      // Collect the stamped source slots of the window, walking its expected timestamps.
      const end = Math.min(ws + r - 1, srcNewest);
      let count = 0;
      let pos = mod(ws, srcSlots);
      this.words[0] = ws * src.intervalMs;
      splitNs(this.words);
      let lo = this.words[1]!;
      let hi = this.words[2]!;
      for (let s = ws; s <= end; s++) {
        if (srcTs[2 * pos] === lo && srcTs[2 * pos + 1] === hi) positions[count++] = pos;
        pos = pos + 1 === srcSlots ? 0 : pos + 1;
        lo += stepLo;
        hi += stepHi;
        if (lo >= 4294967296) {
          lo -= 4294967296;
          hi += 1;
        }
      }
      const w = ws / r;
      const dpos = mod(w, dstSlots);
      if (count === 0) {
        // Nothing to fold: skip unless an earlier value for this window must be replaced.
        this.words[0] = w * dst.intervalMs;
        splitNs(this.words);
        if (w > dst.newest || dstTs[2 * dpos] !== this.words[1] || dstTs[2 * dpos + 1] !== this.words[2])
          continue;
      }
      if (w < dst.newest - dstSlots + 1) continue;
      dst.io[0] = w;
      const at = dst.writePosition();
      if (w < dst.newest) this.markDirty(k, w);
      for (let c = 0; c < this.columns; c++)
        foldColumn(fn, srcValues, c * srcSlots, positions, count, need, out, c * dstSlots + at);
      dst.state[S_WRITES]!++;
      written++;
    }
    if (newestWindow > this.mark[k]!) {
      this.mark[k] = newestWindow;
      storeU64(dst.slab, OFFSET.consolidatedTo, this.mark, k);
    }
    if (dirty !== 0) {
      this.dirty[k - 1] = 0;
      storeU64(src.slab, OFFSET.dirtyFrom, this.dirty, k - 1);
    }
    this.lastWrites[k] = src.writes;
    this.counters.windowsWritten += written;
    return written;
  }

  /**
   * The tier `auto` picks for a query starting at `start` (ms): the finest whose retention,
   * counted back from its newest slot, reaches `start`; otherwise the coarsest with data.
   */
  autoTier(start: number, readNewest: boolean): { tier: number; covered: boolean } {
    let coarsestWithData = 0;
    for (let k = 0; k < this.rings.length; k++) {
      const ring = this.rings[k]!;
      const newest = readNewest ? ring.refreshNewest() : ring.newest;
      if (newest === 0) continue;
      coarsestWithData = k;
      if ((newest - ring.slots + 1) * ring.intervalMs <= start) return { tier: k, covered: true };
    }
    return { tier: coarsestWithData, covered: false };
  }
}
