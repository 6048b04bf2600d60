// When a retired series' data has left every tier (its column can be reused), and which live
// series have been idle long enough to be retired (the schema option retireAfter).
import { mod } from '../ring.js';
import type { TierSet } from '../tiers.js';
import type { SeriesEntry } from './catalog.js';

/** The schema's "now": the end (ms) of the newest tier-0 slot, or 0 while tier 0 is empty. */
export function schemaNow(set: TierSet): number {
  const ring = set.rings[0]!;
  const newest = ring.currentNewest();
  return newest === 0 ? 0 : (newest + 1) * ring.intervalMs;
}

/** True when no tier of `set` still holds a slot (or window) that starts before `t` (ms). */
export function agedOut(set: TierSet, t: number): boolean {
  for (const ring of set.rings) {
    const newest = ring.currentNewest();
    if (newest !== 0 && ring.oldest(newest) * ring.intervalMs < t) return false;
  }
  return true;
}

/**
 * Tracks, per column of one schema, the newest tier-0 slot that held a point, by scanning the
 * slots written since the last look (each slot about once per column): what `retireAfter` needs,
 * without any work in record()'s fast path. The newest slot is looked at again next time (points
 * may still arrive in it), and so are the slots the writer wrote late points to meanwhile.
 */
export class IdleTracker {
  /** Column → newest tier-0 slot with a point (or the slot the series was registered or first looked at). */
  private readonly lastSeen: Float64Array;
  /** Tier-0 slots up to this one were scanned (0: none yet). */
  private scannedTo = 0;
  /**
   * [0]: start (ms) of the lowest tier-0 slot written late since the last look, +Infinity for
   * none; set by the writer's record() slow path, so late points are scanned too.
   */
  readonly lateFrom = Float64Array.of(Number.POSITIVE_INFINITY);

  constructor(private readonly set: TierSet) {
    this.lastSeen = new Float64Array(set.schema.maxSeries);
  }

  /** A series registered into `column` now: idle from this moment on (from the first slot, while there is none). */
  registered(column: number): void {
    this.lastSeen[column] = this.set.rings[0]!.newest;
  }

  /** Series of `live` that have had no point for `retireAfter` ms of the schema's time. */
  idle(live: readonly SeriesEntry[], retireAfter: number): SeriesEntry[] {
    const ring = this.set.rings[0]!;
    const newest = ring.newest;
    if (newest === 0) return [];
    const oldest = ring.oldest(newest);
    const late = Math.floor(this.lateFrom[0]! / ring.intervalMs);
    this.lateFrom[0] = Number.POSITIVE_INFINITY;
    const first = Math.max(Math.min(this.scannedTo + 1, late), oldest);
    // Columns not seen yet (loaded at open, or registered before the schema had a slot) count as
    // seen at the first slot the ring holds: the ring cannot tell what happened before it.
    if (live.some((e) => this.lastSeen[e.column] === 0)) {
      let start = oldest;
      while (start < newest && !ring.holdsSlot(start)) start++;
      for (const e of live) if (this.lastSeen[e.column] === 0) this.lastSeen[e.column] = start;
    }
    if (first <= newest) this.scan(live, first, newest);
    this.scannedTo = newest - 1;
    const limit = newest - retireAfter / ring.intervalMs;
    return live.filter((e) => this.lastSeen[e.column]! <= limit);
  }

  /** Raises lastSeen for each live column that has a point in slots first..last. */
  private scan(live: readonly SeriesEntry[], first: number, last: number): void {
    const ring = this.set.rings[0]!;
    const { slots } = ring;
    const values = ring.slab.values;
    const stamped: number[] = [];
    for (let s = first; s <= last; s++) if (ring.holdsSlot(s)) stamped.push(s);
    for (const e of live) {
      const base = e.column * slots;
      for (let i = stamped.length - 1; i >= 0; i--) {
        const s = stamped[i]!;
        if (s <= this.lastSeen[e.column]!) break;
        if (!Number.isNaN(values[base + mod(s, slots)]!)) {
          this.lastSeen[e.column] = s;
          break;
        }
      }
    }
  }
}
