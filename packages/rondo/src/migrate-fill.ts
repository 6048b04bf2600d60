// What one series' tiers hold in a migrated layout, computed from the tiers it had in the old
// one. Pure: runs of points in, runs out (migrate.ts reads the old rings and writes the new).
//
// Each new tier is first computed unbounded, as if its ring were long enough for all the data
// there is, then cut to its ring by the caller. Tier 0 takes the old tier-0 points at their new
// slots. A coarse tier k is the cascade wherever it can be: fn over the new tier k−1 (itself
// unbounded, so exact from the raw points as far back as they reach); before that, the old tier
// whose interval divides k's, finest first, that holds the whole window. An old window of the
// same interval and function is copied; otherwise the new function folds the old windows' values,
// as the cascade folds a finer tier's windows. Nothing is made up where no source holds the
// whole window.
import { FN_CODE, foldValues, minKnown } from './consolidate.js';

/** Points of one series in one tier (old or new), oldest first, and what they can stand for. */
export interface Run {
  /** Slot width, ms. */
  interval: number;
  /** Every window (of any coarser interval) starting at or after this time (ms) has all its slots here. */
  from: number;
  /** Consolidation code (FN_CODE) the values were made with; -1 for tier 0 (recorded points). */
  fn: number;
  /** Slot start times, ms, ascending. */
  times: number[];
  /** Values (never NaN), one per time. */
  values: number[];
}

/** The new tier 0: each point of the old tier 0 at its slot in `interval` (the last of a slot wins). */
export function tier0Run(old0: Run, interval: number): Run {
  const times: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < old0.times.length; i++) {
    const slot = Math.floor(old0.times[i]! / interval) * interval;
    if (times.length > 0 && times[times.length - 1] === slot) values[values.length - 1] = old0.values[i]!;
    else {
      times.push(slot);
      values.push(old0.values[i]!);
    }
  }
  return { interval, from: Math.ceil(old0.from / interval) * interval, fn: -1, times, values };
}

/**
 * A new coarse tier of `interval` with function `fn` and `xff`, from the new tier below
 * (`below`, unbounded) and the old tiers (`old`): see the module note.
 */
export function coarseRun(below: Run, old: readonly Run[], interval: number, fn: number, xff: number): Run {
  const order = [
    below,
    ...old.filter((s) => interval % s.interval === 0).sort((a, b) => a.interval - b.interval),
  ];
  // Each source covers a suffix of time; it serves the windows that no source before it covers.
  const parts: Run[] = [];
  let limit = Number.POSITIVE_INFINITY;
  for (const src of order) {
    const lo = Math.ceil(src.from / interval) * interval;
    if (lo >= limit) continue;
    parts.push(foldRun(src, interval, lo, limit, fn, minKnown(xff, interval / src.interval)));
    limit = lo;
  }
  const out: Run = { interval, from: limit, fn, times: [], values: [] };
  for (const p of parts.reverse()) {
    out.times.push(...p.times);
    out.values.push(...p.values);
  }
  return out;
}

/** Folds the windows of `src` that start in [lo, hi) into windows of `interval` (copied when already so). */
function foldRun(src: Run, interval: number, lo: number, hi: number, fn: number, need: number): Run {
  const out: Run = { interval, from: lo, fn, times: [], values: [] };
  const copy = src.interval === interval && src.fn === fn;
  const { times, values } = src;
  let i = lowerBound(times, lo);
  while (i < times.length && times[i]! < hi) {
    const w = Math.floor(times[i]! / interval) * interval;
    const window: number[] = [];
    while (i < times.length && times[i]! < w + interval) window.push(values[i++]!);
    const v = copy ? window[0]! : foldValues(fn, window, need);
    if (!Number.isNaN(v)) {
      out.times.push(w);
      out.values.push(v);
    }
  }
  return out;
}

/** Index of the first element of ascending `a` that is ≥ `x`. */
function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The FN_CODE a series' coarse tier uses: `last` for a counter, whatever the schema says. */
export function seriesFn(consolidation: keyof typeof FN_CODE | null, counter: boolean): number {
  if (consolidation === null) return -1;
  return counter ? FN_CODE.last : FN_CODE[consolidation];
}
