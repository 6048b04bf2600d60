// The consolidation mark of a coarse tier (`consolidatedTo`, a slot of its *source* tier):
// stores with any tier ratio reopen after consolidating, at today's time and near the end of
// u64 ns; a damaged mark (or dirty-from slot) is recomputed at open, never left to stop or
// skip consolidation.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from './index.js';
import { OFFSET } from './slab.js';
import { patchBytes, readBytes, u64 } from './test-fixtures/bytes.js';
import {
  assertTierMatches,
  type RefTier,
  referenceTiers,
  schemaOf,
} from './test-fixtures/consolidation-common.js';
import { scratchDirs } from './test-fixtures/helpers.js';
import { MAX_TIMESTAMP_MS } from './timestamp.js';

const scratch = scratchDirs('marks');
const REPLAY = { maxFutureSkew: Number.POSITIVE_INFINITY };

test('every tier ratio reopens after consolidating, today and near the end of u64 ns', () => {
  // [source interval, ratio]: small, at the old wall (~5,090×), and far beyond it.
  const ratios: [number, number][] = [
    [1000, 2],
    [1000, 5091],
    [1, 60_000],
    [1000, 7200],
    [10_000, 8640],
    [1000, 86_400],
    [1000, 604_800],
  ];
  for (const [interval, ratio] of ratios) {
    for (const at of [Date.now(), MAX_TIMESTAMP_MS - 3 * ratio * interval]) {
      const what = `${interval} ms × ${ratio} at ${at}`;
      const tiers: RefTier[] = [
        { interval, slots: 2 * ratio, fn: 'avg', xff: 0 },
        { interval: interval * ratio, slots: 3, fn: 'max', xff: 0 },
      ];
      const d = scratch();
      const store = Store.open(d, { schemas: [schemaOf('r', tiers, 1)], ...REPLAY });
      const h = store.register('m');
      const base = Math.floor(at / (interval * ratio)) * interval * ratio;
      // Points in two whole coarse windows, then one into a third so both close.
      const offsets = [...new Set([0, 1, ratio - 1, ratio, Math.min(ratio + 7, 2 * ratio - 1), 2 * ratio])];
      for (const [i, s] of offsets.sort((a, b) => a - b).entries()) store.record(h, i, base + s * interval);
      store.consolidate();
      const before = [...store.query(h, { tier: 1 }).values];
      assert.ok(before.length >= 2, `${what}: windows written`);
      store.close();
      for (const options of [REPLAY, { readOnly: true }]) {
        const again = Store.open(d, options);
        assert.deepEqual([...again.query(h, { tier: 1 }).values], before, what);
        again.close();
      }
    }
  }
});

/** A store with two tiers, points in 10 windows, consolidated, then `damage` done to tier 1's header. */
function damaged(damage: (d: string) => void): { d: string; tiers: RefTier[]; points: Map<number, number> } {
  const tiers: RefTier[] = [
    { interval: 1000, slots: 60, fn: 'avg', xff: 0 },
    { interval: 10_000, slots: 20, fn: 'sum', xff: 0 },
  ];
  const d = scratch();
  const store = Store.open(d, { schemas: [schemaOf('m', tiers, 1)] });
  const h = store.register('x');
  const points = new Map<number, number>();
  const t0 = 1_700_000_000;
  for (let s = 0; s < 55; s++) {
    store.record(h, s, (t0 + s) * 1000);
    points.set(t0 + s, s);
  }
  store.consolidate();
  store.close();
  damage(d);
  return { d, tiers, points };
}

const markAt = (d: string): string => join(d, 'm.1.slab');

test('a damaged mark is recomputed at open: not a whole window, or far beyond the source', () => {
  const cases: [string, (d: string) => void][] = [
    ['a mark inside a window', (d) => patchBytes(markAt(d), OFFSET.consolidatedTo, u64(1_700_000_033n))],
    ['a mark far in the future', (d) => patchBytes(markAt(d), OFFSET.consolidatedTo, u64(1_800_000_000n))],
    [
      'a dirty-from slot beyond the ring',
      (d) => patchBytes(join(d, 'm.0.slab'), OFFSET.dirtyFrom, u64(1_800_000_000n)),
    ],
  ];
  for (const [what, damage] of cases) {
    const { d, tiers, points } = damaged(damage);
    const store = Store.open(d);
    const h = 0;
    const t0 = 1_700_000_000;
    for (let s = 55; s < 75; s++) {
      store.record(h, s, (t0 + s) * 1000);
      points.set(t0 + s, s);
    }
    store.consolidate();
    const ref = referenceTiers(points, tiers);
    assert.ok(assertTierMatches(store, h, 1, tiers, ref[1]!, what) >= 5, `${what}: windows compared`);
    store.close();
    const mark = readBytes(markAt(d), OFFSET.consolidatedTo, 8).readBigUInt64LE();
    assert.equal(mark % 10n, 0n, `${what}: the mark is a whole window again`);
  }
});
