// query(h, { fn: 'rate' | 'increase' }): per-point increase and rate of counters with
// Prometheus' reset rule, the look-back for the first point's predecessor, coarse counter tiers,
// readers, and a property test against a plain reference over random counters with resets and gaps.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type QueryResult, Store } from './index.js';
import { applyCounterFn, counterIncrease } from './rate.js';
import { oneTier, scratchDirs, T0, throwsCode, twoTiers } from './test-fixtures/helpers.js';

const scratch = scratchDirs('rate');

function points(r: QueryResult): [number, number][] {
  return Array.from(r.timestamps, (t, i) => [t, r.values[i]!]);
}

describe('applyCounterFn', () => {
  const p = { timestamps: Float64Array.of(1000, 2000, 4000, 5000), values: Float64Array.of(10, 15, 3, 8) };

  it('increase: the gain since the previous point; a decrease is a reset counted from 0', () => {
    const r = applyCounterFn(p, 'increase', null);
    assert.deepEqual([...r.timestamps], [2000, 4000, 5000]);
    assert.deepEqual([...r.values], [5, 3, 5]);
  });

  it('rate: the increase per second of the time between the two points', () => {
    const r = applyCounterFn(p, 'rate', null);
    assert.deepEqual([...r.values], [5, 1.5, 5]);
  });

  it('a predecessor before the range gives the first point a value', () => {
    const r = applyCounterFn(p, 'rate', [0, 6]);
    assert.deepEqual([...r.timestamps], [1000, 2000, 4000, 5000]);
    assert.deepEqual([...r.values], [4, 5, 1.5, 5]);
  });

  it('one point without a predecessor, or none, gives nothing', () => {
    const one = { timestamps: Float64Array.of(1000), values: Float64Array.of(3) };
    assert.equal(applyCounterFn(one, 'rate', null).timestamps.length, 0);
    const none = { timestamps: new Float64Array(0), values: new Float64Array(0) };
    assert.equal(applyCounterFn(none, 'increase', [0, 1]).timestamps.length, 0);
  });

  it('counterIncrease: equal values gain nothing; a drop to 0 is a reset that gained 0', () => {
    assert.equal(counterIncrease(7, 7), 0);
    assert.equal(counterIncrease(7, 0), 0);
    assert.equal(counterIncrease(7, 2), 2);
  });
});

describe('query with fn', () => {
  function counterStore(): { store: Store; h: number } {
    const store = Store.open(scratch(), {
      schemas: [twoTiers('c', [1000, 60], [10_000, 30, 'avg'])],
      maxFutureSkew: Number.POSITIVE_INFINITY,
    });
    return { store, h: store.register('requests_total', {}, { type: 'counter' }) };
  }

  it('rate and increase over tier 0, with the predecessor found before start', () => {
    const { store, h } = counterStore();
    // 100, 110, (gap), 130, reset to 5, 25
    for (const [s, v] of [
      [0, 100],
      [1, 110],
      [3, 130],
      [4, 5],
      [5, 25],
    ] as const)
      store.record(h, v, T0 + s * 1000);
    assert.deepEqual(points(store.query(h, { fn: 'increase' })), [
      [T0 + 1000, 10],
      [T0 + 3000, 20],
      [T0 + 4000, 5],
      [T0 + 5000, 20],
    ]);
    assert.deepEqual(points(store.query(h, { fn: 'rate', start: T0 + 3000 })), [
      [T0 + 3000, 10],
      [T0 + 4000, 5],
      [T0 + 5000, 20],
    ]);
    // A range of one point still has its predecessor (two slots before).
    assert.deepEqual(points(store.query(h, { fn: 'increase', start: T0 + 3000, end: T0 + 3001 })), [
      [T0 + 3000, 20],
    ]);
    // The plain query is unchanged.
    assert.equal(store.query(h).values.length, 5);
    store.close();
  });

  it('finds a predecessor far back (past the first look-back) and none before the first point', () => {
    const store = Store.open(scratch(), { schemas: [oneTier('s', 1000, 600)] });
    const h = store.register('c', {}, { type: 'counter' });
    store.record(h, 1, T0);
    store.record(h, 301, T0 + 300_000);
    assert.deepEqual(points(store.query(h, { fn: 'rate', start: T0 + 1000 })), [[T0 + 300_000, 1]]);
    assert.deepEqual(points(store.query(h, { fn: 'rate', end: T0 + 1000 })), []);
    store.close();
  });

  it("coarse counter tiers keep each window's last value, so the rate over windows is right", () => {
    const { store, h } = counterStore();
    // 5 per second for 60 s (a schema averaging gauges would average the counter).
    for (let s = 0; s < 60; s++) store.record(h, 1000 + 5 * s, T0 + s * 1000);
    store.consolidate();
    const coarse = store.query(h, { tier: 1, fn: 'rate' });
    assert.equal(coarse.tier, 1);
    assert.ok(coarse.values.length >= 5);
    for (const v of coarse.values) assert.equal(v, 5);
    const inc = store.query(h, { tier: 1, fn: 'increase' });
    assert.deepEqual([...inc.values].slice(0, 5), [50, 50, 50, 50, 50]);
    store.close();
  });

  it('works on a reader, and for tier auto', () => {
    const { store, h } = counterStore();
    for (let s = 0; s < 10; s++) store.record(h, s * 3, T0 + s * 1000);
    const reader = Store.open(store.dir, { readOnly: true });
    const r = reader.query(h, { fn: 'rate', start: T0 + 5000, tier: 'auto' });
    assert.equal(r.tier, 0);
    assert.deepEqual([...r.values], [3, 3, 3, 3, 3]);
    reader.close();
    store.close();
  });

  it('an unknown fn is ERR_RONDO_INVALID_ARGUMENT; a misspelt key still is', () => {
    const { store, h } = counterStore();
    store.record(h, 1, T0);
    throwsCode(
      () => store.query(h, { fn: 'irate' as 'rate' }),
      'ERR_RONDO_INVALID_ARGUMENT',
      /'rate' or 'increase'/,
    );
    throwsCode(() => store.query(h, { fn: 3 as unknown as 'rate' }), 'ERR_RONDO_INVALID_ARGUMENT');
    throwsCode(() => store.query(h, { func: 'rate' } as never), 'ERR_RONDO_INVALID_ARGUMENT', /fn/);
    store.close();
  });
});

/** One step of a random counter: how many slots later, and what it does. */
interface Step {
  dt: number;
  kind: 'inc' | 'reset' | 'skip';
  amount: number;
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  dt: fc.oneof(
    { weight: 6, arbitrary: fc.constant(1) },
    { weight: 1, arbitrary: fc.integer({ min: 2, max: 40 }) },
  ),
  kind: fc.oneof(
    { weight: 8, arbitrary: fc.constant('inc' as const) },
    { weight: 1, arbitrary: fc.constant('reset' as const) },
    { weight: 2, arbitrary: fc.constant('skip' as const) },
  ),
  amount: fc.integer({ min: 0, max: 1000 }),
});

/** The reference: at each point with a predecessor in `all`, the increase or rate since it. */
function reference(
  all: [number, number][],
  fn: 'rate' | 'increase',
  start: number,
  end: number,
): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 1; i < all.length; i++) {
    const [t, v] = all[i]!;
    const [t0, v0] = all[i - 1]!;
    if (t < start || t >= end) continue;
    const inc = v < v0 ? v : v - v0;
    out.push([t, fn === 'increase' ? inc : inc / ((t - t0) / 1000)]);
  }
  return out;
}

/** Prometheus' increase() without extrapolation: last − first plus the value before each reset. */
function promIncrease(values: number[]): number {
  let correction = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! < values[i - 1]!) correction += values[i - 1]!;
  return values.at(-1)! - values[0]! + correction;
}

function near(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

it('property: rate and increase equal the reference over random counters, ranges and tiers', () => {
  const dir = scratch();
  let run = 0;
  fc.assert(
    fc.property(
      fc.array(stepArb, { minLength: 1, maxLength: 150 }),
      fc.nat(250),
      fc.nat(250),
      fc.constantFrom(0, 1),
      fc.constantFrom('rate' as const, 'increase' as const),
      (steps, a, b, tier, fn) => {
        const store = Store.open(`${dir}/${run++}`, {
          schemas: [twoTiers('c', [1000, 120], [5000, 40, 'avg'])],
          maxFutureSkew: Number.POSITIVE_INFINITY,
        });
        try {
          const h = store.register('c_total', {}, { type: 'counter' });
          let slot = 0;
          let value = 0;
          for (const s of steps) {
            slot += s.dt;
            if (s.kind === 'skip') continue;
            value = s.kind === 'reset' ? s.amount % 10 : value + s.amount;
            store.record(h, value, T0 + slot * 1000);
          }
          store.consolidate();
          const all = points(store.query(h, { tier }));
          const start = T0 + Math.min(a, b) * 1000;
          const end = T0 + (Math.max(a, b) + 1) * 1000;
          const got = points(store.query(h, { tier, fn, start, end }));
          const want = reference(all, fn, start, end);
          assert.equal(got.length, want.length, `${fn} tier ${tier}: point count`);
          got.forEach(([t, v], i) => {
            assert.equal(t, want[i]![0]);
            assert.ok(near(v, want[i]![1]), `${fn} at ${t}: ${v} ≠ ${want[i]![1]}`);
          });
          // Summed over everything, the increases are Prometheus' increase() of the points kept.
          if (fn === 'increase' && all.length > 1) {
            const sum = [...store.query(h, { tier, fn }).values].reduce((x, y) => x + y, 0);
            const prom = promIncrease(all.map(([, v]) => v));
            assert.ok(near(sum, prom), `sum of increases ${sum} ≠ Prometheus' increase ${prom}`);
          }
        } finally {
          store.close();
        }
      },
    ),
    { numRuns: 100 },
  );
});
