import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MAX_TIMESTAMP_MS, nsHigh, nsLow, nsToMs, SlotWords, W_HI, W_LO } from './timestamp.js';

const MASK32 = 0xffff_ffffn;

/** Reference: the exact u64 halves of ms × 10^6 (high unbounded, to see where it leaves u32). */
function reference(ms: number): { low: number; high: number } {
  const ns = BigInt(ms) * 1_000_000n;
  return { low: Number(ns & MASK32), high: Number(ns >> 32n) };
}

/** Reference decoding of a u64 ns value given as halves. */
function referenceMs(low: number, high: number): number {
  const ns = (BigInt(high) << 32n) | BigInt(low);
  if (ns % 1_000_000n !== 0n) return Number.NaN;
  const ms = ns / 1_000_000n;
  return ms <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(ms) : Number.NaN;
}

const EDGES = [
  0,
  1,
  999,
  1000,
  4294, // ms × 10^6 just below 2^32
  4295, // just above
  2 ** 20 - 1,
  2 ** 20,
  2 ** 20 + 1,
  2 ** 32 - 1,
  2 ** 32,
  1_700_000_000_000,
  Date.now(),
  MAX_TIMESTAMP_MS - 1,
  MAX_TIMESTAMP_MS,
  MAX_TIMESTAMP_MS + 1,
  2 ** 44,
  2 ** 52,
  Number.MAX_SAFE_INTEGER - 1,
  Number.MAX_SAFE_INTEGER,
];

test('MAX_TIMESTAMP_MS is the largest ms whose ns fits in u64', () => {
  assert.equal(BigInt(MAX_TIMESTAMP_MS) * 1_000_000n <= 2n ** 64n - 1n, true);
  assert.equal(BigInt(MAX_TIMESTAMP_MS + 1) * 1_000_000n > 2n ** 64n - 1n, true);
});

test('nsLow and nsHigh equal BigInt math for every whole ms up to 2^53 - 1', () => {
  const check = (ms: number): void => {
    const ref = reference(ms);
    assert.equal(nsLow(ms), ref.low, `low of ${ms}`);
    assert.equal(nsHigh(ms), ref.high, `high of ${ms}`);
  };
  for (const ms of EDGES) check(ms);
  fc.assert(fc.property(fc.maxSafeNat(), check), { seed: 1, numRuns: 5000 });
  fc.assert(fc.property(fc.integer({ min: 0, max: MAX_TIMESTAMP_MS }), check), { seed: 2, numRuns: 5000 });
});

test('nsToMs(nsLow(ms), nsHigh(ms)) === ms exactly for every ms whose ns fits in u64', () => {
  const check = (ms: number): void => {
    const low = nsLow(ms);
    const high = nsHigh(ms);
    assert.ok(low >= 0 && low <= 0xffff_ffff && Number.isInteger(low));
    assert.ok(high >= 0 && high <= 0xffff_ffff && Number.isInteger(high), `high of ${ms} fits u32`);
    assert.equal(nsToMs(low, high), ms);
  };
  for (const ms of EDGES) if (ms <= MAX_TIMESTAMP_MS) check(ms);
  fc.assert(fc.property(fc.integer({ min: 0, max: MAX_TIMESTAMP_MS }), check), { seed: 3, numRuns: 10_000 });
  // Beyond MAX_TIMESTAMP_MS the high half no longer fits a u32 word: the store must refuse such times.
  assert.ok(nsHigh(MAX_TIMESTAMP_MS + 1) > 0xffff_ffff);
});

test('nsToMs decodes any u64 exactly, and NaN when it is not a whole ms', () => {
  const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
  const check = (low: number, high: number): void => {
    const got = nsToMs(low, high);
    const want = referenceMs(low, high);
    if (Number.isNaN(want)) assert.ok(Number.isNaN(got), `${high}:${low} → ${got}, expected NaN`);
    else assert.equal(got, want);
  };
  fc.assert(fc.property(u32, u32, check), { seed: 4, numRuns: 10_000 });
  // Near whole ms: exact multiples of 10^6 ns and their neighbours.
  fc.assert(
    fc.property(fc.integer({ min: 0, max: MAX_TIMESTAMP_MS }), fc.integer({ min: -2, max: 2 }), (ms, d) => {
      const ns = BigInt(ms) * 1_000_000n + BigInt(d);
      if (ns < 0n || ns > 2n ** 64n - 1n) return;
      check(Number(ns & MASK32), Number(ns >> 32n));
    }),
    { seed: 5, numRuns: 10_000 },
  );
  for (const [low, high] of [
    [0, 0],
    [0xffff_ffff, 0xffff_ffff],
    [0, 1],
    [1_000_000, 0],
    [999_999, 0],
  ] as const) {
    check(low, high);
  }
});

test('SlotWords steps the words of consecutive slots exactly, across 2^32 carries and the u64 end', () => {
  const walk = (intervalMs: number, firstSlot: number, steps: number): void => {
    const sw = new SlotWords(intervalMs);
    sw.ms[0] = firstSlot * intervalMs;
    sw.seek();
    for (let i = 0; i <= steps; i++) {
      const ref = reference((firstSlot + i) * intervalMs);
      assert.equal(sw.words[W_LO]! >>> 0, ref.low, `low of slot ${firstSlot + i} × ${intervalMs} ms`);
      assert.equal(sw.words[W_HI]! >>> 0, ref.high, `high of slot ${firstSlot + i} × ${intervalMs} ms`);
      sw.next();
    }
  };
  const interval = fc.constantFrom(1, 7, 250, 1000, 10_000, 60_000, 86_400_000, 604_800_000);
  fc.assert(
    fc.property(interval, fc.double({ min: 0, max: 1, noNaN: true }), (ms, where) => {
      const lastSlot = Math.floor(MAX_TIMESTAMP_MS / ms);
      walk(ms, Math.max(1, Math.floor(where * (lastSlot - 50))), 50);
    }),
    { seed: 6, numRuns: 2000 },
  );
  // 4295 ms steps carry into the high word on every slot; the last slots end at the u64 limit.
  walk(4295, 1, 2000);
  walk(1, Math.floor(MAX_TIMESTAMP_MS) - 100, 100);
});
