// query() of one series below the store: the range and tier rules, the point a rate starts
// from, and the cut a reader makes at a series' retirement. Store.query checks the handle,
// refreshes a reader's catalogue and puts these together.
import type { QueryOptions, QueryResult } from './api.js';
import type { Catalog, SeriesEntry } from './catalog/catalog.js';
import { RondoError } from './errors.js';
import type { TierSet } from './tiers.js';
import { checkOptions, checkTier, checkTime } from './validate.js';

/** The points of `e` (a series of `set`'s schema) that `options` asks for, from one tier. */
export function readSeries(set: TierSet, e: SeriesEntry, options: QueryOptions): QueryResult {
  checkOptions('query', options, ['start', 'end', 'tier', 'fn']);
  const start = checkTime('query', 'start', options.start);
  const end = checkTime('query', 'end', options.end);
  if (start !== undefined && end !== undefined && start > end) {
    throw new RondoError('ERR_RONDO_INVALID_RANGE', `query: start (${start}) is after end (${end})`);
  }
  const want = options.tier ?? 0;
  const auto = want === 'auto' ? set.autoTier(start ?? Number.NEGATIVE_INFINITY) : null;
  const have = `schema ${set.schema.name} has tiers 0..${set.rings.length - 1} and 'auto'`;
  const tier = auto?.tier ?? checkTier('query', want, (t) => t < set.rings.length, have);
  const ring = set.rings[tier]!;
  const newest = ring.currentNewest();
  const covered = start === undefined || (auto?.covered ?? ring.covers(newest, start));
  // The series owns its column only from its floor to its retirement (see SeriesEntry).
  const from = Math.max(
    start === undefined ? 0 : Math.ceil(start / ring.intervalMs),
    Math.ceil(e.floor / ring.intervalMs),
  );
  let to = end === undefined ? newest : Math.ceil(end / ring.intervalMs) - 1;
  if (e.retiredAt !== Number.POSITIVE_INFINITY)
    to = Math.min(to, Math.ceil(e.retiredAt / ring.intervalMs) - 1);
  // A column at or above the published count has never been cleared (see catalog/load.ts).
  if (e.column >= set.columns) to = -1;
  const points = ring.read(e.column, from, to, newest);
  return { tier, interval: ring.intervalMs, covered, timestamps: points.timestamps, values: points.values };
}

/**
 * The newest known point of `e` in `tier` before `t`, or null: where a rate's first point
 * starts from. Looks back 16 slots, then 256, … up to the whole ring, so the usual case (the
 * slot just before) reads a few slots.
 */
export function pointBefore(set: TierSet, e: SeriesEntry, tier: number, t: number): [number, number] | null {
  const ring = set.rings[tier]!;
  const reach = ring.slots * ring.intervalMs;
  for (let span = 16 * ring.intervalMs; ; span *= 16) {
    const r = readSeries(set, e, { start: t - span, end: t, tier });
    const n = r.timestamps.length;
    if (n > 0) return [r.timestamps[n - 1]!, r.values[n - 1]!];
    if (span >= reach || t - span <= e.floor) return null;
  }
}

/**
 * When the points of `e` (an entry taken before a reader's refresh) stop being its own, as the
 * catalogue knows now: its retirement. An entry the catalogue no longer has was forgotten
 * (aged out), perhaps after a compaction rebuilt the catalogue without updating `e`: then the
 * retirement `e` knew, or, if `e` still looked live, -Infinity (any point read may be another's).
 */
export function lifeEnd(catalog: Catalog, e: SeriesEntry): number {
  const now = catalog.get(e.handle);
  if (now !== undefined) return now.retiredAt;
  return e.live ? Number.NEGATIVE_INFINITY : e.retiredAt;
}

/** Drops the points of `r` at or after `end` (a reader's result, see Store.query). */
export function trimToLife(r: QueryResult, end: number): QueryResult {
  const n = r.timestamps.length;
  if (n === 0 || r.timestamps[n - 1]! < end) return r;
  let k = n;
  while (k > 0 && r.timestamps[k - 1]! >= end) k--;
  return { ...r, timestamps: r.timestamps.slice(0, k), values: r.values.slice(0, k) };
}
