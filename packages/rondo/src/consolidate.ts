import type { Consolidation } from './schema.js';

/** Function codes for {@link foldColumn}, in the order of CONSOLIDATIONS. */
export const FN_CODE: Record<Consolidation, number> = { avg: 0, min: 1, max: 2, last: 3, sum: 4, count: 5 };

/**
 * The smallest number of known source slots that makes a window of `windowSlots` slots known:
 * at least one, and at least the fraction `xff`. An integer, so it crosses calls unboxed.
 */
export function minKnown(xff: number, windowSlots: number): number {
  return Math.max(1, Math.ceil(xff * windowSlots - 1e-9));
}

/**
 * Folds one series over one window and stores the result in `out[outIndex]` (NaN when fewer
 * than `need` values are known). `positions[0..count)` are the ring positions of the window's
 * stamped source slots in time order; `base` is the series' column offset in `values`.
 * Writes instead of returning, and keeps one loop per function: no double crosses a call
 * boundary, so the slot-advance path that consolidates stays allocation-free.
 */
export function foldColumn(
  fn: number,
  values: Float64Array,
  base: number,
  positions: Int32Array,
  count: number,
  need: number,
  out: Float64Array,
  outIndex: number,
): void {
  let known = 0;
  let acc = 0;
  switch (fn) {
    case 1: // min
      acc = Number.POSITIVE_INFINITY;
      for (let i = 0; i < count; i++) {
        const v = values[base + positions[i]!]!;
        if (!Number.isNaN(v)) {
          known++;
          if (v < acc) acc = v;
        }
      }
      break;
    case 2: // max
      acc = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < count; i++) {
        const v = values[base + positions[i]!]!;
        if (!Number.isNaN(v)) {
          known++;
          if (v > acc) acc = v;
        }
      }
      break;
    case 3: // last
      for (let i = 0; i < count; i++) {
        const v = values[base + positions[i]!]!;
        if (!Number.isNaN(v)) {
          known++;
          acc = v;
        }
      }
      break;
    default: // avg, sum, count
      for (let i = 0; i < count; i++) {
        const v = values[base + positions[i]!]!;
        if (!Number.isNaN(v)) {
          known++;
          acc += v;
        }
      }
      if (fn === 0 && known > 0) acc /= known;
      else if (fn === 5) acc = known;
  }
  out[outIndex] = known >= need ? acc : Number.NaN;
}

/**
 * Folds plain `values` (NaN = unknown) with function `fn` (FN_CODE); NaN when fewer than `need`
 * are known. For migration, which folds windows of an older layout; the hot path uses foldColumn.
 */
export function foldValues(fn: number, values: readonly number[], need: number): number {
  const known = values.filter((v) => !Number.isNaN(v));
  if (known.length < need || known.length === 0) return Number.NaN;
  switch (fn) {
    case 1:
      return Math.min(...known);
    case 2:
      return Math.max(...known);
    case 3:
      return known[known.length - 1]!;
    case 5:
      return known.length;
    default: {
      const sum = known.reduce((a, b) => a + b, 0);
      return fn === 0 ? sum / known.length : sum;
    }
  }
}
