// The loops that read points out of a ring's column for Ring.read. The plain-load scan is the
// addon's (`scan` in native/rondo_native.c): in a fresh process, the CLI's case, a loop here
// would run in V8's interpreter for most of a first query. The fallback with atomic loads, for a
// reader disturbed twice by the writer, is rare and stays in JavaScript.
import { W_HI, W_LO, W_STEP_HI, W_STEP_LO } from './timestamp.js';

/**
 * The checked scan of `count` consecutive ring positions from `pos` (no wrap inside), with each
 * timestamp loaded atomically before and after its value: a value is kept only when its
 * position holds the words of its slot (`lo`, `hi` for the first; `words`' step for each next)
 * both times, and it is not NaN. Kept points go to `times`/`vals` from `k` on, with their slot
 * starts from `ms`; returns the new end.
 */
export function scanAtomic(
  ts: Int32Array,
  values: Float64Array,
  base: number,
  pos: number,
  count: number,
  words: Int32Array,
  times: Float64Array,
  vals: Float64Array,
  k: number,
  ms: number,
  interval: number,
): number {
  let lo = words[W_LO]!;
  let hi = words[W_HI]!;
  const stepLo = words[W_STEP_LO]!;
  const stepHi = words[W_STEP_HI]!;
  for (let p = pos, end = pos + count; p < end; p++) {
    if (Atomics.load(ts, 2 * p) === lo && Atomics.load(ts, 2 * p + 1) === hi) {
      const v = values[base + p]!;
      if (!Number.isNaN(v) && Atomics.load(ts, 2 * p) === lo && Atomics.load(ts, 2 * p + 1) === hi) {
        times[k] = ms;
        vals[k++] = v;
      }
    }
    ms += interval;
    // int32 words with an unsigned carry: the sum wrapped exactly when it is below the old low word.
    const sum = (lo + stepLo) | 0;
    hi = (hi + stepHi + (sum >>> 0 < lo >>> 0 ? 1 : 0)) | 0;
    lo = sum;
  }
  return k;
}

/** Below this many elements a zero-filled array is as cheap as any. */
const SMALL = 1024;

/**
 * A Float64Array of `n` elements whose memory is not zero-filled first, for results whose every
 * element is written before it is read (or which are sliced to the written part): zero-filling a
 * day of slots costs about as much as reading it.
 */
export function uninitialized(n: number): Float64Array {
  if (n < SMALL) return new Float64Array(n);
  return new Float64Array(Buffer.allocUnsafeSlow(n * 8).buffer, 0, n);
}
