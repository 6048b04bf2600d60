import type { Consolidation } from './schema.js';

/** Function codes for {@link foldWindow}: the index of the name in CONSOLIDATIONS. */
export const FN_CODE: Record<Consolidation, number> = { avg: 0, min: 1, max: 2, last: 3, sum: 4, count: 5 };

/**
 * Folds the known values of one series over one window into one value.
 * `positions[0..count)` are the ring positions of the window's stamped source slots in time
 * order; `base` is the series' column offset in `values`. NaN values are unknown. The window is
 * known when at least one value is known and known/windowSlots ≥ xff. Allocation-free.
 */
export function foldWindow(
  fn: number,
  values: Float64Array,
  base: number,
  positions: Int32Array,
  count: number,
  windowSlots: number,
  xff: number,
): number {
  let known = 0;
  let acc = 0;
  let last = Number.NaN;
  for (let i = 0; i < count; i++) {
    const v = values[base + positions[i]!]!;
    if (Number.isNaN(v)) continue;
    if (known === 0) acc = v;
    else if (fn === 1) acc = Math.min(v, acc);
    else if (fn === 2) acc = Math.max(v, acc);
    else if (fn === 0 || fn === 4) acc += v;
    known++;
    last = v;
  }
  if (known === 0 || known < xff * windowSlots) return Number.NaN;
  switch (fn) {
    case 0:
      return acc / known;
    case 3:
      return last;
    case 5:
      return known;
    default:
      return acc;
  }
}
