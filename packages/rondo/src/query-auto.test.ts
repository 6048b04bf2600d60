// query(h, { tier: 'auto' }): the finest tier whose retention, counted back from that tier's own
// newest slot, covers start; otherwise the coarsest, with covered = false. Writers and readers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Store } from './store.js';
import { ReaderProcess, type RefTier, schemaOf } from './test-fixtures/consolidation-common.js';
import { scratchDirs } from './test-fixtures/helpers.js';

const scratch = scratchDirs('query-auto');

// Tier 0 keeps 10 s, tier 1 40 s, tier 2 120 s.
const TIERS: RefTier[] = [
  { interval: 1000, slots: 10, fn: 'avg', xff: 0 },
  { interval: 5000, slots: 8, fn: 'avg', xff: 0 },
  { interval: 20_000, slots: 6, fn: 'max', xff: 0 },
];

/** A store with slots 100..199 recorded (value = slot) and consolidated. */
function filled(): { dir: string; store: Store; h: number } {
  const dir = scratch();
  const store = Store.open(dir, { schemas: [schemaOf('q', TIERS, 1)] });
  const h = store.register('m');
  for (let s = 100; s <= 199; s++) store.record(h, s, s * 1000);
  store.consolidate();
  return { dir, store, h };
}

// Newest slots: tier 0 199 (covers from 190 000), tier 1 39 (from 160 000), tier 2 9 (from 80 000).
const CASES: [number, number, boolean][] = [
  [195_000, 0, true],
  [190_000, 0, true],
  [189_999, 1, true],
  [160_000, 1, true],
  [159_999, 2, true],
  [80_000, 2, true],
  [79_999, 2, false],
  [1000, 2, false],
];

describe("query tier 'auto'", () => {
  it('picks the finest tier whose retention covers start, else the coarsest (not covered)', () => {
    const { store, h } = filled();
    for (const [start, tier, covered] of CASES) {
      const r = store.query(h, { start, end: 200_000, tier: 'auto' });
      assert.equal(r.tier, tier, `start ${start}`);
      assert.equal(r.covered, covered, `start ${start}`);
      const same = store.query(h, { start, end: 200_000, tier });
      assert.deepEqual([...r.timestamps], [...same.timestamps], `start ${start}`);
      assert.deepEqual([...r.values], [...same.values], `start ${start}`);
      assert.ok(
        r.timestamps.length > 0 && r.timestamps[0]! >= start,
        `start ${start}: data from ${r.timestamps[0]}`,
      );
    }
    // Sanity of the data itself: tier 1 averages five slots, tier 2 takes their max.
    const t1 = store.query(h, { start: 160_000, end: 170_000, tier: 'auto' });
    assert.deepEqual([...t1.values], [162, 167]);
    const t2 = store.query(h, { start: 100_000, end: 140_000, tier: 'auto' });
    assert.deepEqual([...t2.values], [117, 137]);
    store.close();
  });

  it("counts each tier's retention back from that tier's own newest slot", () => {
    const { store, h } = filled();
    // Tier 0 moves on (covers from 195 000) but tier 1 is not consolidated yet: still from 160 000.
    for (let s = 200; s <= 204; s++) store.record(h, s, s * 1000);
    assert.equal(store.query(h, { start: 192_000, tier: 'auto' }).tier, 1);
    assert.equal(store.query(h, { start: 162_000, tier: 'auto' }).tier, 1);
    store.consolidate(); // tier 1's newest is now 40: it covers from 165 000
    const r = store.query(h, { start: 162_000, tier: 'auto' });
    assert.equal(r.tier, 2);
    assert.equal(r.covered, true);
    store.close();
  });

  it('uses the coarsest tier that has data before any consolidation, and tier 0 on an empty store', () => {
    const dir = scratch();
    const store = Store.open(dir, { schemas: [schemaOf('q', TIERS, 1)] });
    const h = store.register('m');
    const empty = store.query(h, { start: 50_000, tier: 'auto' });
    assert.equal(empty.tier, 0);
    assert.equal(empty.covered, false);
    assert.equal(empty.values.length, 0);
    for (let s = 100; s <= 105; s++) store.record(h, s, s * 1000);
    const early = store.query(h, { start: 50_000, tier: 'auto' });
    assert.deepEqual([early.tier, early.covered, early.values.length], [0, false, 6]);
    store.close();
  });

  it('works for an in-process reader and for a reader process opened before the data', async () => {
    const dir = scratch();
    const writer = Store.open(dir, { schemas: [schemaOf('q', TIERS, 1)] });
    const h = writer.register('m');
    const reader = Store.open(dir, { readOnly: true });
    const child = new ReaderProcess(dir);
    try {
      await child.waitFor('ready');
      for (let s = 100; s <= 199; s++) writer.record(h, s, s * 1000);
      writer.consolidate();
      for (const [start, tier, covered] of CASES) {
        const mine = reader.query(h, { start, end: 200_000, tier: 'auto' });
        assert.deepEqual([mine.tier, mine.covered], [tier, covered], `reader, start ${start}`);
        const want = writer.query(h, { start, end: 200_000, tier: 'auto' });
        assert.deepEqual([...mine.values], [...want.values]);
        assert.deepEqual(
          await child.query(h, 'auto', start, 200_000),
          { tier, covered, timestamps: [...want.timestamps], values: [...want.values] },
          `reader process, start ${start}`,
        );
      }
      assert.equal((await child.finish()).code, 0, child.stderr);
    } finally {
      await child.kill();
      reader.close();
      writer.close();
    }
  });
});
