// The loops that read points out of a ring's column for Ring.read. The plain-load scan is the
// addon's (`scan` in native/rondo_native.c): in a fresh process, the CLI's case, a loop here
// would run in V8's interpreter for most of a first query. The fallback with atomic loads, for a
// reader disturbed twice by the writer, is rare and stays in JavaScript.
import { type SlotWords, W_HI, W_LO } from './timestamp.js';

/**
 * The checked scan of `count` consecutive ring positions from `pos` (no wrap inside), with each
 * timestamp loaded atomically before and after its value: a value is kept only when its
 * position holds the words of its slot (`stamp`, seeked to the first and stepped past the run)
 * both times, and it is not NaN. Kept points go to `times`/`vals` from `k` on, with their slot
 * starts from `ms`; returns the new end.
 */
export function scanAtomic(
  ts: Int32Array,
  values: Float64Array,
  base: number,
  pos: number,
  count: number,
  stamp: SlotWords,
  times: Float64Array,
  vals: Float64Array,
  k: number,
  ms: number,
  interval: number,
): number {
  const w = stamp.words;
  for (let p = pos, end = pos + count; p < end; p++, stamp.next()) {
    const lo = w[W_LO]!;
    const hi = w[W_HI]!;
    if (Atomics.load(ts, 2 * p) === lo && Atomics.load(ts, 2 * p + 1) === hi) {
      const v = values[base + p]!;
      if (!Number.isNaN(v) && Atomics.load(ts, 2 * p) === lo && Atomics.load(ts, 2 * p + 1) === hi) {
        times[k] = ms;
        vals[k++] = v;
      }
    }
    ms += interval;
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
