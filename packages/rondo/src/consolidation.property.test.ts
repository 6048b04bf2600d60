// Property test of tiered consolidation against a plain reference model: random values, gaps, NaN,
// late points, big jumps, random consolidate() calls and reopens, all six functions, several xff
// values, 2–3 tiers with small rings. After every consolidate() (and at the end) every window each
// tier retains must equal the model, and droppedLate must equal the model's count.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { Store } from './store.js';
import {
  assertTierMatches,
  FUNCTIONS,
  type RefTier,
  referenceTiers,
  schemaOf,
} from './test-fixtures/consolidation-common.js';
import { scratchDirs } from './test-fixtures/helpers.js';

const scratch = scratchDirs('consolidation-prop');

type Op =
  | { k: 'rec'; series: number; dt: number; off: number; v: number }
  | { k: 'late'; series: number; back: number; off: number; v: number }
  | { k: 'cons' }
  | { k: 'reopen'; withSchemas: boolean };

interface Scenario {
  tiers: RefTier[];
  /** First tier-0 slot recorded. */
  base: number;
  ops: Op[];
}

const XFFS = [0, 0.2, 0.5, 2 / 3, 0.75, 1];
/**
 * Tier-0 interval (ms) and first slot: whole seconds at slot 1000, and 1 ms slots just below a
 * multiple of 2^32 (today's epoch in ms), so slot numbers, marks and ns stamps cross word boundaries.
 */
const TIMES: [number, number][] = [
  [1000, 1000],
  [1, 400 * 2 ** 32 - 60],
  [250, 4 * 2 ** 32 - 45],
];

const valueArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -1000, max: 1000 }) },
  { weight: 1, arbitrary: fc.constant(Number.NaN) },
  { weight: 2, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      k: fc.constant('rec' as const),
      series: fc.nat(1),
      dt: fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom(0, 1, 1, 1, 2, 3) },
        { weight: 1, arbitrary: fc.integer({ min: 4, max: 80 }) },
      ),
      off: fc.nat(999),
      v: valueArb,
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant('late' as const),
      series: fc.nat(1),
      back: fc.integer({ min: 1, max: 40 }),
      off: fc.nat(999),
      v: valueArb,
    }),
  },
  { weight: 2, arbitrary: fc.constant({ k: 'cons' as const }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('reopen' as const), withSchemas: fc.boolean() }) },
);

const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    three: fc.boolean(),
    r1: fc.integer({ min: 2, max: 4 }),
    r2: fc.integer({ min: 2, max: 3 }),
    extra0: fc.nat(20),
    extra1: fc.nat(4),
    slots2: fc.integer({ min: 2, max: 6 }),
    fn1: fc.constantFrom(...FUNCTIONS),
    fn2: fc.constantFrom(...FUNCTIONS),
    xff1: fc.constantFrom(...XFFS),
    xff2: fc.constantFrom(...XFFS),
    time: fc.constantFrom(...TIMES),
    ops: fc.array(opArb, { minLength: 1, maxLength: 90 }),
  })
  .map((c) => {
    // Each tier keeps at least two of the next tier's windows (the config rule), and no more than a few.
    const tiers: RefTier[] = [
      { interval: c.time[0], slots: 2 * c.r1 + c.extra0, fn: 'avg', xff: 0 },
      {
        interval: c.time[0] * c.r1,
        slots: c.three ? 2 * c.r2 + c.extra1 : 2 + c.extra1,
        fn: c.fn1,
        xff: c.xff1,
      },
    ];
    if (c.three) tiers.push({ interval: c.time[0] * c.r1 * c.r2, slots: c.slots2, fn: c.fn2, xff: c.xff2 });
    return { tiers, base: c.time[1], ops: c.ops };
  });

/** The late-point rule of the spec, for the newest tier-0 slot `newest0`: may slot n be kept? */
function modelAccepts(tiers: readonly RefTier[], newest0: number, n: number): boolean {
  if (n >= newest0) return true;
  let newest = newest0;
  let s = n;
  if (s < Math.max(1, newest - tiers[0]!.slots + 1)) return false;
  for (let k = 1; k < tiers.length; k++) {
    const r = tiers[k]!.interval / tiers[k - 1]!.interval;
    // The whole tier-k window of the slot must still be in tier k-1's ring (counted back from the
    // newest slot tier k-1 has, or will have once consolidated: consolidation timing must not matter).
    const start = Math.floor(s / r) * r;
    if (start < Math.max(1, newest - tiers[k - 1]!.slots + 1)) return false;
    s = start / r;
    newest = Math.floor(newest / r);
  }
  return true;
}

function runScenario({ tiers, base, ops }: Scenario): void {
  const interval = tiers[0]!.interval;
  const dir = scratch();
  const schemas = [schemaOf('p', tiers, 2)];
  let store = Store.open(dir, { schemas, maxFutureSkew: Number.POSITIVE_INFINITY });
  // A reader opened once, before any data, across the writer's reopens: it must see what the writer sees.
  const reader = Store.open(dir, { readOnly: true });
  try {
    const handles = [store.register('a'), store.register('b')];
    const points = [new Map<number, number>(), new Map<number, number>()];
    let cursor = base; // tier-0 slot; far above the coarsest interval
    let newest0 = 0;
    let modelDropped = 0;
    let storeDropped = 0;

    const check = (what: string): void => {
      let newest = newest0;
      const info = store.info().schemas[0]!.tiers;
      for (let k = 0; k < tiers.length; k++) {
        if (k > 0) newest = Math.floor(newest / (tiers[k]!.interval / tiers[k - 1]!.interval));
        assert.equal(
          info[k]!.newest,
          newest === 0 ? null : newest * tiers[k]!.interval,
          `${what}: tier ${k} newest`,
        );
      }
      for (let c = 0; c < 2; c++) {
        const ref = referenceTiers(points[c]!, tiers);
        for (let k = 0; k < tiers.length; k++) {
          assertTierMatches(store, handles[c]!, k, tiers, ref[k]!, `${what}, series ${c}`);
          const w = store.query(handles[c]!, { tier: k });
          const r = reader.query(handles[c]!, { tier: k });
          assert.deepEqual([...r.timestamps], [...w.timestamps], `${what}: reader, series ${c} tier ${k}`);
          assert.deepEqual([...r.values], [...w.values], `${what}: reader, series ${c} tier ${k}`);
        }
        // 'auto' picks the finest tier whose ring, counted back from its newest slot, reaches start;
        // else the coarsest (that has data: an empty coarse tier would answer nothing).
        for (const start of [newest0 - 3, newest0 - 30, newest0 - 300].map((s) => s * interval)) {
          let want = 0;
          let covered = false;
          for (let k = 0; k < tiers.length; k++) {
            const newestMs = info[k]!.newest;
            if (newestMs !== null) want = k;
            if (newestMs !== null && newestMs - (tiers[k]!.slots - 1) * tiers[k]!.interval <= start) {
              want = k;
              covered = true;
              break;
            }
          }
          for (const s of [store, reader]) {
            const auto = s.query(handles[c]!, { start, tier: 'auto' });
            assert.deepEqual([auto.tier, auto.covered], [want, covered], `${what}: auto from ${start}`);
            assert.deepEqual(
              [...auto.values],
              [...s.query(handles[c]!, { start, tier: want }).values],
              `${what}: auto from ${start}`,
            );
          }
        }
      }
    };

    ops.forEach((op, i) => {
      switch (op.k) {
        case 'rec':
        case 'late': {
          let slot: number;
          if (op.k === 'rec' || newest0 === 0) {
            cursor += op.k === 'rec' ? op.dt : 0;
            slot = cursor;
          } else {
            slot = newest0 - op.back;
          }
          store.record(handles[op.series]!, op.v, slot * interval + (op.off % interval));
          if (modelAccepts(tiers, newest0, slot)) {
            points[op.series]!.set(slot, op.v);
            if (slot > newest0) newest0 = slot;
          } else {
            modelDropped++;
          }
          break;
        }
        case 'cons': {
          // The count returned includes windows the cascade wrote while a coarse ring advanced.
          const before = store.stats().windowsWritten;
          assert.equal(
            store.consolidate(),
            store.stats().windowsWritten - before,
            `op ${i}: windows written`,
          );
          check(`after consolidate() at op ${i}`);
          assert.equal(store.consolidate(), 0, `op ${i}: a second consolidate() with nothing new`);
          break;
        }
        case 'reopen':
          storeDropped += store.stats().droppedLate;
          store.close();
          store = Store.open(dir, {
            ...(op.withSchemas ? { schemas } : {}),
            maxFutureSkew: Number.POSITIVE_INFINITY,
          });
          break;
      }
    });
    store.consolidate();
    check('at the end');
    assert.equal(storeDropped + store.stats().droppedLate, modelDropped, 'droppedLate');
  } finally {
    reader.close();
    store.close();
  }
}

it('coarse tiers equal the reference model (random points, late points, consolidations, reopens)', () => {
  fc.assert(fc.property(scenarioArb, runScenario), { seed: 20261122, numRuns: 200 });
});

it('the reference model agrees with a hand-computed cascade', () => {
  // Guards the model itself: tier 1 = max over 2 slots with xff 1, tier 2 = sum of those over 2.
  const tiers: RefTier[] = [
    { interval: 1000, slots: 8, fn: 'avg', xff: 0 },
    { interval: 2000, slots: 4, fn: 'max', xff: 1 },
    { interval: 4000, slots: 4, fn: 'sum', xff: 0 },
  ];
  const ref = referenceTiers(
    new Map([
      [8, 1],
      [9, 5],
      [10, 2],
      [12, 7],
      [13, Number.NaN],
      [14, 3],
      [15, 4],
    ]),
    tiers,
  );
  assert.deepEqual(
    [...ref[1]!],
    [
      [4, 5],
      [5, Number.NaN],
      [6, Number.NaN],
      [7, 4],
    ],
  );
  assert.deepEqual(
    [...ref[2]!],
    [
      [2, 5],
      [3, 4],
    ],
  );
});
