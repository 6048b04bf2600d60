// Timestamps are stored as u64 nanoseconds, but a JS double cannot hold today's epoch in ns
// exactly (~1.8e18 > 2^53) and BigInt allocates. These helpers split and join the two u32
// halves with exact double arithmetic, so the slot-advance path stays allocation-free.

/** 2^32: the weight of the high word of a u64. */
export const TWO_32 = 4294967296;
const TWO_20 = 1048576;

/** Largest whole ms whose ns value fits the u64 timestamp column (2^64 ns is in the year 2554). */
export const MAX_TIMESTAMP_MS = 18_446_744_073_709;

const scratch = new Float64Array(3);

/** Low u32 of `ms × 10^6` for a whole `ms` below 2^53 (see {@link splitNs}). */
export function nsLow(ms: number): number {
  scratch[0] = ms;
  splitNs(scratch);
  return scratch[1]!;
}

/** High u32 of `ms × 10^6` for a whole `ms` up to MAX_TIMESTAMP_MS (beyond, the result exceeds u32). */
export function nsHigh(ms: number): number {
  scratch[0] = ms;
  splitNs(scratch);
  return scratch[2]!;
}

/**
 * Milliseconds of a u64 ns value given as halves; NaN when it is not a whole number of ms
 * or does not fit in 2^53 ms (both mean the stored value is not a slot time we wrote).
 */
export function nsToMs(low: number, high: number): number {
  // ns = high·2^32 + low = high·4294·10^6 + (high·967296 + low)
  const rest = high * 967296 + low; // < 2^52
  const restMs = Math.floor(rest / 1e6);
  if (restMs * 1e6 !== rest) return Number.NaN;
  const ms = high * 4294 + restMs;
  return Number.isSafeInteger(ms) ? ms : Number.NaN;
}

/**
 * Splits `io[0]` ms into the u64 ns words `io[1]` (low) and `io[2]` (high). The hot paths use
 * this form because a double passed to or returned from a call V8 does not inline is boxed
 * (allocated), and the low word does not fit a small integer.
 */
export function splitNs(io: Float64Array): void {
  const ms = io[0]!;
  const h = Math.floor(ms / TWO_20);
  const a = h * 1e6;
  const aLow = a - Math.floor(a / 4096) * 4096;
  const low = aLow * TWO_20 + (ms - h * TWO_20) * 1e6;
  const carry = Math.floor(low / TWO_32);
  io[1] = low - carry * TWO_32;
  io[2] = Math.floor(a / 4096) + carry;
}

/** Index of the low timestamp word in {@link SlotWords.words}. */
export const W_LO = 0;
/** Index of the high timestamp word in {@link SlotWords.words}. */
export const W_HI = 1;
const W_STEP_LO = 2;
const W_STEP_HI = 3;

/**
 * The u64-ns timestamp words of consecutive slots, stepped one interval at a time with int32
 * arithmetic and an unsigned carry: the ring scan and the window fold compare them against a
 * slab's stored words (as int32, see `Slab.ts32`) once per slot, so they must cost no division
 * and no conversion. Inputs and outputs go through typed arrays: a slot time does not fit a
 * small integer, and V8 boxes a double passed to a call it does not inline.
 */
export class SlotWords {
  /** [W_LO], [W_HI]: the current slot's words, as int32; [2], [3]: the words of one interval. */
  readonly words = new Int32Array(4);
  /** Input of {@link seek}: [0] = the slot start in ms. */
  readonly ms = new Float64Array(3);

  constructor(intervalMs: number) {
    this.ms[0] = intervalMs;
    splitNs(this.ms);
    this.words[W_STEP_LO] = this.ms[1]! | 0;
    this.words[W_STEP_HI] = this.ms[2]! | 0;
  }

  /** Sets the current words to those of the slot starting at `ms[0]` (a whole ms ≤ MAX_TIMESTAMP_MS). */
  seek(): void {
    splitNs(this.ms);
    this.words[W_LO] = this.ms[1]! | 0;
    this.words[W_HI] = this.ms[2]! | 0;
  }

  /** Moves to the next slot: adds one interval, carrying from the low word into the high word. */
  next(): void {
    const w = this.words;
    const lo = w[W_LO]!;
    const sum = (lo + w[W_STEP_LO]!) | 0;
    // The unsigned sum wrapped around exactly when it is below the old unsigned low word.
    w[W_HI] = (w[W_HI]! + w[W_STEP_HI]! + (sum >>> 0 < lo >>> 0 ? 1 : 0)) | 0;
    w[W_LO] = sum;
  }
}
