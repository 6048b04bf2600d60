import { FN_CODE, foldWindow } from './consolidate.js';
import { Ring } from './ring.js';
import type { Schema } from './schema.js';
import { OFFSET, type Slab } from './slab.js';
import { nsHigh, nsLow } from './timestamp.js';

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
 * The rings of one schema, fine to coarse, and the consolidation cascade between them.
 *
 * Consolidation state per coarse tier k (persisted in tier k's header): `consolidatedTo` is the
 * first source slot (tier k-1) of the first window that is not final; every window before it was
 * computed from all of its points. The source tier's `dirtyFrom` is the lowest slot written behind
 * its newest since then (late points). A consolidation recomputes every window from
 * min(consolidatedTo, window of dirtyFrom) to the source's newest slot from scratch, so the result
 * never depends on when it runs. Before the source ring reuses a slot whose window is not final,
 * the writer consolidates first, so no window is ever recomputed from part of its points.
 */
export class TierSet {
  /** The schema these rings store. */
  readonly schema: Schema;
  /** One ring per tier. */
  readonly rings: Ring[];
  /** Registered series of the schema (columns in use). */
  columns: number;
  /** Counters since open. */
  readonly counters: TierCounters = { droppedLate: 0, windowsWritten: 0, autoConsolidations: 0 };
  private readonly ratio: number[];
  private readonly fn: number[];
  private readonly lastWrites: number[];
  private readonly scratch: Int32Array[];

  constructor(schema: Schema, slabs: Slab[], writable: boolean, columns: number) {
    this.schema = schema;
    this.rings = slabs.map((s) => new Ring(s));
    this.columns = columns;
    this.ratio = schema.tiers.map((t, i) => (i === 0 ? 1 : t.interval / schema.tiers[i - 1]!.interval));
    this.fn = schema.tiers.map((t) => (t.consolidation ? FN_CODE[t.consolidation] : -1));
    this.lastWrites = schema.tiers.map(() => -1);
    this.scratch = this.ratio.map((r) => new Int32Array(r));
    if (writable) {
      for (const ring of this.rings) ring.recover();
      this.rings.forEach((ring, k) => {
        if (k + 1 < this.rings.length) ring.beforeLoss = (firstKept) => this.beforeLoss(k, firstKept);
      });
    }
  }

  /**
   * Record's slow path: the ring position of tier 0 for time `t` (ms), advancing the ring or
   * opening a late slot as needed; -1 when the point is too late to keep (counted).
   */
  positionFor(t: number): number {
    const ring = this.rings[0]!;
    const n = Math.floor(t / ring.intervalMs);
    if (n >= ring.newest) return ring.positionFor(n);
    if (!this.lateAccepted(n)) {
      this.counters.droppedLate++;
      return -1;
    }
    const pos = ring.positionFor(n);
    this.markDirty(0, n);
    return pos;
  }

  /**
   * A late slot is kept only while it and, for every coarser tier, the whole window it folds
   * into are still in their source rings; otherwise refolding would use part of a window.
   */
  private lateAccepted(n: number): boolean {
    let s = n;
    for (let k = 0; k < this.rings.length; k++) {
      if (k > 0) s = Math.floor(s / this.ratio[k]!) * this.ratio[k]!;
      const ring = this.rings[k === 0 ? 0 : k - 1]!;
      if (s < ring.oldest()) return false;
      if (k > 0) s /= this.ratio[k]!;
    }
    return true;
  }

  private markDirty(k: number, n: number): void {
    if (k + 1 >= this.rings.length) return;
    const slab = this.rings[k]!.slab;
    const dirty = slab.dirtyFrom;
    if (dirty === 0 || n < dirty) slab.setField(OFFSET.dirtyFrom, n);
  }

  private beforeLoss(k: number, firstKept: number): void {
    const mark = this.markOf(k + 1);
    const dirty = this.rings[k]!.slab.dirtyFrom;
    const r = this.ratio[k + 1]!;
    const pendingFrom = Math.min(mark, dirty === 0 ? Number.POSITIVE_INFINITY : Math.floor(dirty / r) * r);
    if (mark !== 0 && pendingFrom < firstKept) {
      this.counters.autoConsolidations++;
      this.consolidateInto(k + 1);
    }
  }

  /**
   * Tier k's consolidation mark; the first time the source has data, the mark starts at the
   * window of its first stamped slot (found once, then kept in the header).
   */
  private markOf(k: number): number {
    const dst = this.rings[k]!.slab;
    const mark = dst.consolidatedTo;
    if (mark !== 0) return mark;
    const first = this.firstStamped(this.rings[k - 1]!);
    if (first === 0) return 0;
    const r = this.ratio[k]!;
    const start = Math.floor(first / r) * r;
    dst.setField(OFFSET.consolidatedTo, start);
    return start;
  }

  /** Consolidates every coarse tier in order (1 from 0, 2 from 1, …); returns windows written. */
  consolidate(): number {
    let written = 0;
    for (let k = 1; k < this.rings.length; k++) written += this.consolidateInto(k);
    return written;
  }

  /** First stamped slot of a ring (oldest first), or 0 when none. */
  private firstStamped(ring: Ring): number {
    for (let n = ring.oldest(); n <= ring.newest; n++) {
      const ms = n * ring.intervalMs;
      if (ring.slab.holds(n % ring.slots, nsLow(ms), nsHigh(ms))) return n;
    }
    return 0;
  }

  private consolidateInto(k: number): number {
    const src = this.rings[k - 1]!;
    const dst = this.rings[k]!;
    const r = this.ratio[k]!;
    const srcNewest = src.newest;
    if (srcNewest === 0) return 0;
    const newestWindow = Math.floor(srcNewest / r) * r;
    const dirty = src.slab.dirtyFrom;
    if (src.writes === this.lastWrites[k] && dirty === 0 && dst.slab.consolidatedTo === newestWindow)
      return 0;
    const mark = this.markOf(k);
    if (mark === 0) return 0;
    const from = dirty === 0 ? mark : Math.min(mark, Math.floor(dirty / r) * r);
    const oldest = src.oldest(srcNewest);
    let written = 0;
    for (let ws = from; ws <= srcNewest; ws += r) {
      // A window whose first slots left the ring was final before they left (see beforeLoss).
      if (ws < oldest) continue;
      if (this.writeWindow(k, ws, srcNewest)) written++;
    }
    dst.slab.setField(OFFSET.consolidatedTo, newestWindow);
    if (dirty !== 0) src.slab.setField(OFFSET.dirtyFrom, 0);
    this.lastWrites[k] = src.writes;
    this.counters.windowsWritten += written;
    return written;
  }

  /** Recomputes the window of tier k that starts at source slot `ws`; false when it is empty and absent. */
  private writeWindow(k: number, ws: number, srcNewest: number): boolean {
    const src = this.rings[k - 1]!;
    const dst = this.rings[k]!;
    const r = this.ratio[k]!;
    const positions = this.scratch[k]!;
    const { slab } = src;
    let count = 0;
    const end = Math.min(ws + r - 1, srcNewest);
    for (let s = ws; s <= end; s++) {
      const ms = s * src.intervalMs;
      const pos = s % src.slots;
      if (slab.holds(pos, nsLow(ms), nsHigh(ms))) positions[count++] = pos;
    }
    const w = ws / r;
    if (count === 0) {
      const wms = w * dst.intervalMs;
      if (w > dst.newest || !dst.slab.holds(w % dst.slots, nsLow(wms), nsHigh(wms))) return false;
    }
    if (w < dst.oldest()) return false;
    const dpos = dst.positionFor(w);
    if (w < dst.newest) this.markDirty(k, w);
    const fn = this.fn[k]!;
    const xff = this.schema.tiers[k]!.xff;
    const out = dst.slab.values;
    for (let c = 0; c < this.columns; c++) {
      out[c * dst.slots + dpos] = foldWindow(fn, slab.values, c * src.slots, positions, count, r, xff);
    }
    dst.writes++;
    return true;
  }

  /**
   * The tier `auto` picks for a query starting at `start` (ms): the finest whose retention,
   * counted back from its newest slot, reaches `start`; otherwise the coarsest with data.
   */
  autoTier(start: number): { tier: number; covered: boolean } {
    let coarsestWithData = 0;
    for (let k = 0; k < this.rings.length; k++) {
      const ring = this.rings[k]!;
      const newest = ring.refreshNewest();
      if (newest === 0) continue;
      coarsestWithData = k;
      if ((newest - ring.slots + 1) * ring.intervalMs <= start) return { tier: k, covered: true };
    }
    return { tier: coarsestWithData, covered: false };
  }
}
