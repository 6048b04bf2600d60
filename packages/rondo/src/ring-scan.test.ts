// The two scans of Ring.read — the addon's plain-load loop and the JavaScript one with atomic
// loads — against a model of what a position holds, on rings built by hand: stale stamps, gaps,
// NaNs, torn words and timestamps whose low word carries into the high word inside a run.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { native } from './native.js';
import { scanAtomic } from './ring-scan.js';
import { MAX_TIMESTAMP_MS, nsHigh, nsLow, SlotWords, W_HI, W_LO } from './timestamp.js';

/** What a position holds in a hand-built ring. */
type Cell =
  | { kind: 'own'; value: number }
  | { kind: 'nan' }
  | { kind: 'other'; slot: number }
  | { kind: 'torn' }
  | { kind: 'empty' };

/** A ring of `cells.length` positions whose position p belongs to slot `first + p` when `own`. */
function build(cells: Cell[], first: number, intervalMs: number) {
  const ts = new Int32Array(2 * cells.length);
  const values = new Float64Array(3 * cells.length).fill(-7); // column 1 of 3: the others must not leak
  const base = cells.length;
  cells.forEach((cell, p) => {
    const stamp = (slot: number) => {
      const ms = slot * intervalMs;
      ts[2 * p] = nsLow(ms) | 0;
      ts[2 * p + 1] = nsHigh(ms) | 0;
    };
    if (cell.kind === 'own') {
      stamp(first + p);
      values[base + p] = cell.value;
    } else if (cell.kind === 'nan') {
      stamp(first + p);
      values[base + p] = Number.NaN;
    } else if (cell.kind === 'other') {
      // Another slot this position could hold: never its own, never one a u64 of ns cannot stamp.
      const slot = Math.min(cell.slot, Math.floor(MAX_TIMESTAMP_MS / intervalMs));
      stamp(slot === first + p ? slot - 1 : slot);
      values[base + p] = 123;
    } else if (cell.kind === 'torn') {
      stamp(first + p);
      ts[2 * p + 1] = ts[2 * p + 1]! ^ 1; // one word of a store that did not finish
      values[base + p] = 456;
    }
  });
  const expected = { times: [] as number[], vals: [] as number[] };
  cells.forEach((cell, p) => {
    if (cell.kind !== 'own') return;
    expected.times.push((first + p) * intervalMs);
    expected.vals.push(cell.value);
  });
  return { ts, values, base, expected };
}

/** Runs both scans over the whole hand-built ring (from k = 2, behind two points already there). */
function scanBoth(cells: Cell[], first: number, intervalMs: number) {
  const { ts, values, base, expected } = build(cells, first, intervalMs);
  const words = new SlotWords(intervalMs);
  const out = (fn: 'native' | 'atomic') => {
    words.ms[0] = first * intervalMs;
    words.seek(); // the atomic scan steps it past the run
    const times = new Float64Array(cells.length + 2).fill(-1);
    const vals = new Float64Array(cells.length + 2).fill(-1);
    const ms = first * intervalMs;
    const w = words.words;
    const end =
      fn === 'native'
        ? native().scan(
            ts,
            values,
            base,
            0,
            cells.length,
            w[W_LO]! >>> 0,
            w[W_HI]! >>> 0,
            times,
            vals,
            2,
            ms,
            intervalMs,
          )
        : scanAtomic(ts, values, base, 0, cells.length, words, times, vals, 2, ms, intervalMs);
    assert.deepEqual([times[0], times[1], vals[0], vals[1]], [-1, -1, -1, -1], `${fn} wrote before k`);
    return { times: [...times.subarray(2, end)], vals: [...vals.subarray(2, end)] };
  };
  return { expected, native: out('native'), atomic: out('atomic') };
}

const cell: fc.Arbitrary<Cell> = fc.oneof(
  fc.record({ kind: fc.constant('own' as const), value: fc.double({ noNaN: true }) }),
  fc.constant({ kind: 'nan' as const }),
  fc.record({ kind: fc.constant('other' as const), slot: fc.integer({ min: 1, max: 2 ** 40 }) }),
  fc.constant({ kind: 'torn' as const }),
  fc.constant({ kind: 'empty' as const }),
);

test('both scans keep exactly the positions stamped with their own slot and holding a value', () => {
  fc.assert(
    fc.property(
      fc.array(cell, { minLength: 0, maxLength: 80 }),
      fc.constantFrom(1, 1000, 4295, 60_000, 86_400_000),
      fc.integer({ min: 1, max: 2 ** 31 }),
      (cells, intervalMs, firstSlot) => {
        const first = Math.min(firstSlot, Math.floor(MAX_TIMESTAMP_MS / intervalMs) - cells.length);
        const r = scanBoth(cells, first, intervalMs);
        assert.deepEqual(r.native, r.expected);
        assert.deepEqual(r.atomic, r.expected);
      },
    ),
    { numRuns: 300 },
  );
});

test('the expected timestamp carries from the low word into the high word inside a run', () => {
  // 1 ms slots: ns = ms × 10^6 crosses 2^32 between ms 4294 and 4295, and again near every 4295th ms.
  const cells: Cell[] = Array.from({ length: 20 }, (_, i) => ({ kind: 'own', value: i }));
  for (const first of [4285, 2 ** 32 / 1e6 - 3, 8585]) {
    const start = Math.floor(first);
    const r = scanBoth(cells, start, 1);
    assert.equal(r.native.vals.length, 20, `native from slot ${start}`);
    assert.deepEqual(r.native, r.expected);
    assert.deepEqual(r.atomic, r.expected);
  }
});

test("the addon's scan refuses a range outside its arrays instead of reading past them", () => {
  const ts = new Int32Array(8);
  const values = new Float64Array(4);
  const out = new Float64Array(4);
  const call =
    (pos: number, count: number, k: number, base = 0) =>
    () =>
      native().scan(ts, values, base, pos, count, 1, 0, out, out, k, 0, 1000);
  assert.equal(call(0, 4, 0)(), 0); // in range; no position holds ns 1
  for (const bad of [call(1, 4, 0), call(0, 4, 1), call(0, 4, 0, 1), call(-1, 1, 0), call(0, 5, 0)]) {
    assert.throws(
      bad,
      (err: Error & { code?: string }) => err.code === 'ERR_RONDO_NATIVE' && /outside/.test(err.message),
    );
  }
  assert.throws(
    () =>
      native().scan(
        new Float64Array(8) as unknown as Int32Array,
        values,
        0,
        0,
        1,
        0,
        0,
        out,
        out,
        0,
        0,
        1000,
      ),
    (err: Error & { code?: string }) => err.code === 'ERR_RONDO_NATIVE',
  );
});
