// What a single-tier ring stores and returns: slot alignment, last-wins, batches, no stale
// values after wraps and gaps, late points, and a model-based check of all of it together.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { type SeriesHandle, Store } from './index.js';
import { oneTier, scratchDirs, T0, throwsCode } from './test-fixtures/helpers.js';

const SEC = 1000;

const scratch = scratchDirs('semantics');

/** Opens a fresh single-tier store in a scratch dir, runs `fn`, and closes it. */
function withStore(interval: number, slots: number, fn: (store: Store, dir: string) => void, maxSeries = 4) {
  const dir = scratch();
  const store = Store.open(dir, {
    schemas: [oneTier('s', interval, slots, maxSeries)],
    maxFutureSkew: Number.POSITIVE_INFINITY,
  });
  try {
    fn(store, dir);
  } finally {
    store.close();
  }
}

function points(store: Store, h: SeriesHandle, start?: number, end?: number): [number, number][] {
  const r = store.query(h, { start, end });
  assert.equal(r.timestamps.length, r.values.length);
  return Array.from(r.timestamps, (t, i) => [t, r.values[i]!]);
}

/** The points of `h` as [seconds after T0, value]. */
function bySecond(store: Store, h: SeriesHandle): [number, number][] {
  return points(store, h).map(([t, v]) => [(t - T0) / SEC, v]);
}

/** The seconds after T0 at which `h` has a point. */
function seconds(store: Store, h: SeriesHandle): number[] {
  return points(store, h).map(([t]) => (t - T0) / SEC);
}

/** Registers a and b and records one lap of a 10-slot ring: a = i and b = -i at T0 + i s. */
function oneLap(store: Store): [SeriesHandle, SeriesHandle] {
  const a = store.register('a');
  const b = store.register('b');
  for (let i = 0; i < 10; i++) store.recordBatch([a, b], [i, -i], T0 + i * SEC);
  return [a, b];
}

function newest(store: Store): number | null {
  return store.info().schemas[0]!.tiers[0]!.newest;
}

describe('slot alignment and last-wins', () => {
  test('a point at t is returned at floor(t / interval) * interval', () => {
    withStore(SEC, 10, (store) => {
      const h = store.register('x');
      store.record(h, 1, T0 + 123);
      store.record(h, 2, T0 + SEC); // exactly aligned
      store.record(h, 3, T0 + 2 * SEC + 999.75); // fractional ms, last instant of the slot
      assert.deepEqual(points(store, h), [
        [T0, 1],
        [T0 + SEC, 2],
        [T0 + 2 * SEC, 3],
      ]);
    });
    withStore(7, 10, (store) => {
      const h = store.register('x');
      store.record(h, 5, 1000); // 1000 = 142·7 + 6
      assert.deepEqual(points(store, h), [[994, 5]]);
      assert.equal(newest(store), 994);
    });
  });

  test('the same series twice in one slot: the last value wins, NaN included', () => {
    withStore(SEC, 10, (store) => {
      const a = store.register('a');
      const b = store.register('b');
      store.record(a, 1, T0 + 10);
      store.record(b, 7, T0 + 20);
      store.record(a, 2, T0 + 900);
      assert.deepEqual(points(store, a), [[T0, 2]]);
      store.record(b, 3, T0 + SEC + 1);
      store.record(a, 4, T0 + 500); // late write into the previous slot also replaces
      assert.deepEqual(points(store, a), [[T0, 4]]);
      store.record(a, Number.NaN, T0 + 1); // NaN means "no value": the point is gone
      assert.deepEqual(points(store, a), []);
      assert.deepEqual(points(store, b), [
        [T0, 7],
        [T0 + SEC, 3],
      ]);
    });
  });

  test('query range is start ≤ aligned t < end', () => {
    withStore(SEC, 10, (store) => {
      const h = store.register('x');
      for (let i = 0; i < 5; i++) store.record(h, i, T0 + i * SEC + 500);
      assert.deepEqual(
        points(store, h, T0 + SEC, T0 + 3 * SEC).map(([t]) => t),
        [T0 + SEC, T0 + 2 * SEC],
      );
      // A start inside a slot excludes that slot (its aligned time is before start).
      assert.deepEqual(
        points(store, h, T0 + SEC + 1, T0 + 3 * SEC + 1).map(([t]) => t),
        [T0 + 2 * SEC, T0 + 3 * SEC],
      );
      assert.deepEqual(points(store, h, T0 + 2 * SEC, T0 + 2 * SEC), []);
      assert.deepEqual(
        points(store, h, undefined, T0 + 2 * SEC).map(([t]) => t),
        [T0, T0 + SEC],
      );
      assert.deepEqual(
        points(store, h, T0 + 3 * SEC).map(([t]) => t),
        [T0 + 3 * SEC, T0 + 4 * SEC],
      );
      assert.deepEqual(points(store, h, 0, T0 * 10).length, 5);
    });
  });

  test('recordBatch takes plain arrays and typed arrays', () => {
    withStore(SEC, 10, (store) => {
      const hs = [store.register('a'), store.register('b'), store.register('c')];
      store.recordBatch(hs, [1, 2, 3], T0);
      store.recordBatch(Uint32Array.from(hs), Float64Array.of(4, 5, 6), T0 + SEC);
      store.recordBatch(Int32Array.from(hs), [7, Number.NaN, 9], T0 + 2 * SEC);
      store.recordBatch([], [], T0 + 3 * SEC); // empty batch is a no-op
      assert.deepEqual(points(store, hs[0]!), [
        [T0, 1],
        [T0 + SEC, 4],
        [T0 + 2 * SEC, 7],
      ]);
      assert.deepEqual(points(store, hs[1]!), [
        [T0, 2],
        [T0 + SEC, 5],
      ]);
      assert.deepEqual(points(store, hs[2]!), [
        [T0, 3],
        [T0 + SEC, 6],
        [T0 + 2 * SEC, 9],
      ]);
      assert.equal(newest(store), T0 + 2 * SEC);
      assert.equal(store.stats().recorded, 9);
    });
  });

  test('the default timestamp is Date.now(), for record and recordBatch', () => {
    withStore(SEC, 3600, (store) => {
      const a = store.register('a');
      const b = store.register('b');
      const before = Date.now();
      store.record(a, 1);
      store.recordBatch([b], [2]);
      const after = Date.now();
      const lo = Math.floor(before / SEC) * SEC;
      const hi = Math.floor(after / SEC) * SEC;
      for (const h of [a, b]) {
        const p = points(store, h);
        assert.equal(p.length, 1);
        assert.ok(p[0]![0] >= lo && p[0]![0] <= hi, `${p[0]![0]} not in [${lo}, ${hi}]`);
        assert.equal(p[0]![1], h === a ? 1 : 2);
      }
    });
  });
});

describe('never a stale value', () => {
  test('after the ring wraps, a series not recorded in a slot has no point there', () => {
    withStore(SEC, 10, (store) => {
      const [a, b] = oneLap(store);
      for (let i = 10; i < 15; i++) store.record(a, i, T0 + i * SEC);
      // Half a lap later B keeps exactly its slots that are still in the ring.
      assert.deepEqual(seconds(store, b), [5, 6, 7, 8, 9]);
      for (let i = 15; i < 20; i++) store.record(a, i, T0 + i * SEC);
      assert.deepEqual(points(store, b), []);
      assert.deepEqual(
        bySecond(store, a),
        Array.from({ length: 10 }, (_, k) => [10 + k, 10 + k]),
      );
    });
  });

  test('after a gap shorter than a lap: skipped slots are empty, older slots intact', () => {
    withStore(SEC, 10, (store) => {
      const [a, b] = oneLap(store);
      store.record(a, 15, T0 + 15 * SEC); // slots 10..14 skipped; ring now 6..15
      assert.deepEqual(bySecond(store, a), [
        [6, 6],
        [7, 7],
        [8, 8],
        [9, 9],
        [15, 15],
      ]);
      assert.deepEqual(seconds(store, b), [6, 7, 8, 9]);
      const info = store.info().schemas[0]!.tiers[0]!;
      assert.equal(info.slotsUsed, 5);
      assert.equal(info.oldest, T0 + 6 * SEC);
    });
  });

  test('after a gap longer than a lap: nothing old survives', () => {
    withStore(SEC, 10, (store) => {
      const [a, b] = oneLap(store);
      store.record(a, 35, T0 + 35 * SEC);
      assert.deepEqual(points(store, a), [[T0 + 35 * SEC, 35]]);
      assert.deepEqual(points(store, b), []);
      // Exactly one lap ahead reuses the position of the newest slot: also cleared.
      store.record(b, 45, T0 + 45 * SEC);
      assert.deepEqual(points(store, a), []);
      assert.deepEqual(points(store, b), [[T0 + 45 * SEC, 45]]);
    });
  });

  test('a slot where only other series were recorded holds nothing for this one', () => {
    withStore(SEC, 10, (store) => {
      const a = store.register('a');
      const b = store.register('b');
      const c = store.register('c');
      store.recordBatch([a, b, c], [1, 2, 3], T0);
      store.recordBatch([b, c], [4, 5], T0 + SEC);
      store.record(c, 6, T0 + 2 * SEC);
      assert.deepEqual(points(store, a), [[T0, 1]]);
      assert.deepEqual(points(store, b), [
        [T0, 2],
        [T0 + SEC, 4],
      ]);
      assert.equal(points(store, c).length, 3);
    });
  });
});

describe('late and out-of-order points', () => {
  test('late points within retention are stored, also in a slot skipped by a gap', () => {
    withStore(SEC, 10, (store) => {
      const [a, b] = oneLap(store);
      store.record(a, 15, T0 + 15 * SEC); // skips 10..14, whose positions held B's slots 0..4
      store.record(a, 12, T0 + 12 * SEC + 400);
      store.record(a, 7.5, T0 + 7 * SEC);
      assert.deepEqual(bySecond(store, a), [
        [6, 6],
        [7, 7.5],
        [8, 8],
        [9, 9],
        [12, 12],
        [15, 15],
      ]);
      // The late slot 12 reuses the position of slot 2: B's old value there must not reappear.
      assert.deepEqual(seconds(store, b), [6, 7, 8, 9]);
      assert.equal(newest(store), T0 + 15 * SEC);
      assert.equal(store.stats().droppedLate, 0);
    });
  });

  test('points older than the ring are dropped and counted, never thrown', () => {
    withStore(SEC, 10, (store) => {
      const a = store.register('a');
      store.record(a, 20, T0 + 20 * SEC); // ring holds 11..20
      store.record(a, 10, T0 + 10 * SEC + 999);
      store.recordBatch([a], [1], T0 + SEC);
      store.record(a, 11, T0 + 11 * SEC);
      assert.equal(store.stats().droppedLate, 2);
      assert.equal(store.stats().recorded, 2);
      assert.deepEqual(seconds(store, a), [11, 20]);
      // A late point before the first slot in use of an almost-empty ring is fine too.
      assert.equal(newest(store), T0 + 20 * SEC);
    });
  });

  test('a jump far into the future clears everything it skips', () => {
    withStore(SEC, 10, (store) => {
      const [a, b] = oneLap(store);
      const far = T0 + 1_000_003 * SEC;
      store.record(a, 99, far);
      assert.deepEqual(points(store, a), [[far, 99]]);
      assert.deepEqual(points(store, b), []);
      const info = store.info().schemas[0]!.tiers[0]!;
      assert.equal(info.slotsUsed, 1);
      assert.equal(info.oldest, far);
      assert.equal(info.newest, far);
      // Everything before the jump is now late.
      store.record(b, 1, T0 + 9 * SEC);
      assert.equal(store.stats().droppedLate, 1);
      assert.deepEqual(points(store, b), []);
    });
  });

  test('out-of-order writes never move the newest slot backwards', () => {
    withStore(SEC, 10, (store) => {
      const a = store.register('a');
      store.record(a, 5, T0 + 5 * SEC);
      store.record(a, 3, T0 + 3 * SEC);
      store.record(a, 4, T0 + 4 * SEC);
      assert.equal(newest(store), T0 + 5 * SEC);
      store.record(a, 6, T0 + 6 * SEC);
      store.record(a, 1, T0 + SEC);
      assert.equal(newest(store), T0 + 6 * SEC);
      assert.deepEqual(bySecond(store, a), [
        [1, 1],
        [3, 3],
        [4, 4],
        [5, 5],
        [6, 6],
      ]);
      // After late writes, a write into the newest slot (record's fast path) still lands there.
      store.record(a, 66, T0 + 6 * SEC + 1);
      assert.deepEqual(points(store, a, T0 + 6 * SEC), [[T0 + 6 * SEC, 66]]);
    });
  });

  test('timestamps must be at least the interval and fit the u64 ns column', () => {
    withStore(SEC, 10, (store) => {
      const a = store.register('a');
      throwsCode(() => store.record(a, 1, 999), 'ERR_RONDO_INVALID_TIMESTAMP');
      store.record(a, 1, 1000);
      assert.deepEqual(points(store, a), [[1000, 1]]);
      // 2^64 ns is about 1.8447e13 ms (year 2554): a later time cannot be stamped, so it must be
      // refused rather than silently lost (and leave the ring unable to take today's points).
      throwsCode(() => store.record(a, 1, 2e13), 'ERR_RONDO_INVALID_TIMESTAMP');
      throwsCode(() => store.recordBatch([a], [1], 2 ** 53 - 1), 'ERR_RONDO_INVALID_TIMESTAMP');
      const latest = 18_446_744_073_000; // last whole second whose ns fits in u64
      store.record(a, 2, latest + 709);
      assert.deepEqual(points(store, a, latest), [[latest, 2]]);
    });
  });

  test('far-future slots (high ns word ≥ 2^31, from the year 2262) are read back by writers and readers', () => {
    withStore(SEC, 10, (store, dir) => {
      const a = store.register('a');
      const reader = Store.open(dir, { readOnly: true });
      try {
        for (const t of [9_300_000_000_000, 10_000_000_000_000, 18_446_744_073_000]) {
          store.record(a, t / SEC, t);
          assert.deepEqual(points(store, a), [[t, t / SEC]], `writer at ${t}`);
          assert.deepEqual(points(reader, a), [[t, t / SEC]], `reader at ${t}`);
          assert.equal(store.info().schemas[0]!.tiers[0]!.slotsUsed, 1);
        }
      } finally {
        reader.close();
      }
    });
  });
});

/** Reference semantics of one ring: absolute slot → values, newest only grows. */
class Model {
  newest = 0;
  dropped = 0;
  recorded = 0;
  readonly cells = new Map<number, Map<number, number>>();
  constructor(readonly slots: number) {}
  oldest(): number {
    return this.newest === 0 ? 0 : Math.max(1, this.newest - this.slots + 1);
  }
  record(h: number, v: number, n: number): void {
    if (n > this.newest) this.newest = n;
    else if (n < this.oldest()) {
      this.dropped++;
      return;
    }
    this.recorded++;
    let cell = this.cells.get(n);
    if (cell === undefined) this.cells.set(n, (cell = new Map()));
    cell.set(h, v);
  }
  query(h: number, interval: number, start = -Infinity, end = Infinity): [number, number][] {
    const out: [number, number][] = [];
    if (this.newest === 0) return out;
    for (let n = this.oldest(); n <= this.newest; n++) {
      const v = this.cells.get(n)?.get(h);
      const t = n * interval;
      if (v !== undefined && !Number.isNaN(v) && t >= start && t < end) out.push([t, v]);
    }
    return out;
  }
}

type Op =
  | { kind: 'record'; h: number; v: number; off: number; frac: number }
  | { kind: 'batch'; vs: number[]; off: number; frac: number }
  | { kind: 'query'; h: number; a: number; b: number }
  | { kind: 'reopen' };

describe('model-based', () => {
  for (const [interval, slots] of [
    [10, 8],
    [1, 3],
    [SEC, 2],
  ] as const) {
    test(`random records, late points, gaps and reopens match the model (interval ${interval}, ${slots} slots)`, () => {
      const series = 3;
      const offset = fc.oneof(
        { weight: 6, arbitrary: fc.integer({ min: -1, max: 1 }) },
        { weight: 4, arbitrary: fc.integer({ min: -slots - 2, max: 0 }) },
        { weight: 3, arbitrary: fc.integer({ min: 1, max: 2 * slots + 2 }) },
        { weight: 1, arbitrary: fc.integer({ min: 1000, max: 1_000_000_000 }) },
      );
      const value = fc.oneof(
        { weight: 8, arbitrary: fc.integer({ min: -1000, max: 1000 }) },
        { weight: 1, arbitrary: fc.constant(Number.NaN) },
        { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
      );
      const frac = fc.integer({ min: 0, max: interval - 1 });
      const op: fc.Arbitrary<Op> = fc.oneof(
        {
          weight: 10,
          arbitrary: fc.record({
            kind: fc.constant('record' as const),
            h: fc.integer({ min: 0, max: series - 1 }),
            v: value,
            off: offset,
            frac,
          }),
        },
        {
          weight: 3,
          arbitrary: fc.record({
            kind: fc.constant('batch' as const),
            vs: fc.array(value, { minLength: series, maxLength: series }),
            off: offset,
            frac,
          }),
        },
        {
          weight: 2,
          arbitrary: fc.record({
            kind: fc.constant('query' as const),
            h: fc.integer({ min: 0, max: series - 1 }),
            a: fc.integer({ min: -slots - 2, max: 2 }),
            b: fc.integer({ min: -slots - 2, max: 3 }),
          }),
        },
        { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
      );
      fc.assert(
        fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), (ops) => {
          const dir = scratch();
          const schemas = [oneTier('s', interval, slots, 4)];
          let store = Store.open(dir, { schemas, maxFutureSkew: Number.POSITIVE_INFINITY });
          try {
            const handles = Array.from({ length: series }, (_, i) => store.register(`m${i}`));
            const model = new Model(slots);
            const base = Math.floor(T0 / interval);
            for (const o of ops) {
              if (o.kind === 'reopen') {
                store.close();
                store = Store.open(dir, { maxFutureSkew: Number.POSITIVE_INFINITY });
                model.dropped = 0;
                model.recorded = 0;
              } else if (o.kind === 'query') {
                const start = (model.newest + o.a) * interval;
                const end = Math.max(start, (model.newest + o.b) * interval);
                assert.deepEqual(
                  points(store, handles[o.h]!, start, end),
                  model.query(o.h, interval, start, end),
                );
              } else {
                const n = Math.max(1, (model.newest === 0 ? base : model.newest) + o.off);
                const t = n * interval + o.frac;
                if (o.kind === 'record') {
                  store.record(handles[o.h]!, o.v, t);
                  model.record(o.h, o.v, n);
                } else {
                  store.recordBatch(handles, o.vs, t);
                  o.vs.forEach((v, h) => {
                    model.record(h, v, n);
                  });
                }
              }
              for (let h = 0; h < series; h++) {
                assert.deepEqual(points(store, handles[h]!), model.query(h, interval));
              }
              assert.equal(newest(store), model.newest === 0 ? null : model.newest * interval);
              assert.equal(store.stats().droppedLate, model.dropped);
              assert.equal(store.stats().recorded, model.recorded);
            }
          } finally {
            store.close();
          }
        }),
        { seed: 20_240_601 + slots, numRuns: 120 },
      );
    });
  }
});
