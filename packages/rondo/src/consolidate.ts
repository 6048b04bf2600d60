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

/** 2^-512 and 2^512: scaling by a power of two is exact, so a sum can be taken in a range that cannot overflow. */
const DOWN = 2 ** -512;
const UP = 2 ** 512;

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
  if (fn === 0 || fn === 4 || fn === 5) {
    foldSum(fn, values, base, positions, count, need, out, outIndex);
    return;
  }
  let known = 0;
  let acc = fn === 1 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  for (let i = 0; i < count; i++) {
    const v = values[base + positions[i]!]!;
    if (Number.isNaN(v)) continue;
    known++;
    if (fn === 3 || (fn === 1 ? v < acc : v > acc)) acc = v; // last, min, max
  }
  out[outIndex] = known >= need ? acc : Number.NaN;
}

/**
 * avg, sum and count. The sum is compensated (Neumaier), so it does not lose the small terms of
 * a window with large ones, and never overflows on the way: when the plain sum overflows though
 * every term is finite, it is taken again scaled down by 2^512 (exact), so the average of
 * [MAX_VALUE, MAX_VALUE] is MAX_VALUE and a sum is Infinity only when its true value is beyond
 * MAX_VALUE.
 */
// biome-ignore lint/complexity/noExcessiveCognitiveComplexity: one function on the slot-advance path; splitting it would pass doubles across calls V8 may not inline, which allocates.
function foldSum(
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
  let sum = 0;
  let comp = 0;
  let infinite = false;
  for (let i = 0; i < count; i++) {
    const v = values[base + positions[i]!]!;
    if (Number.isNaN(v)) continue;
    known++;
    if (v - v !== 0) infinite = true; // ±Infinity recorded as such: the plain sum is right
    const t = sum + v;
    comp += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
    sum = t;
  }
  let scale = 1;
  if (!infinite && fn !== 5 && sum - sum !== 0) {
    scale = UP;
    sum = 0;
    comp = 0;
    for (let i = 0; i < count; i++) {
      const v = values[base + positions[i]!]! * DOWN;
      if (Number.isNaN(v)) continue;
      const t = sum + v;
      comp += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
      sum = t;
    }
  }
  let result: number;
  if (fn === 5) result = known;
  else if (infinite) result = fn === 0 ? sum / known : sum;
  else result = fn === 0 ? ((sum + comp) / known) * scale : (sum + comp) * scale;
  out[outIndex] = known >= need ? result : Number.NaN;
}

/**
 * Folds plain `values` (NaN = unknown) with function `fn` (FN_CODE); NaN when fewer than `need`
 * are known. For migration, which folds windows of an older layout; the same arithmetic as
 * the cascade (foldColumn).
 */
export function foldValues(fn: number, values: readonly number[], need: number): number {
  const out = new Float64Array(1);
  const positions = Int32Array.from(values, (_, i) => i);
  foldColumn(fn, Float64Array.from(values), 0, positions, values.length, need, out, 0);
  return out[0]!;
}
