// Rings clear only the columns of registered series when they reuse a position, so a column
// must be emptied when its series is registered: spare capacity never shows through.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Store } from './index.js';
import { scratchDirs, T0, twoTiers } from './test-fixtures/helpers.js';

const scratch = scratchDirs('columns');

test('a series registered after others were recorded has no points from before, in any tier', () => {
  const dir = scratch();
  const store = Store.open(dir, { schemas: [twoTiers('s', [1000, 10], [5000, 12, 'sum'])] });
  const a = store.register('a');
  // Three laps of tier 0, consolidated: every position of every tier is stamped.
  for (let i = 0; i < 30; i++) store.record(a, i + 1, T0 + i * 1000);
  store.consolidate();
  const b = store.register('b'); // column 1: zeros in a fresh file, never cleared so far
  for (const tier of [0, 1]) {
    assert.deepEqual([...store.query(b, { tier }).values], [], `tier ${tier} of the new series is empty`);
  }
  store.record(b, 7, T0 + 29_000);
  store.record(b, 8, T0 + 30_000);
  store.consolidate();
  assert.deepEqual([...store.query(b).values], [7, 8]);
  assert.deepEqual([...store.query(b, { tier: 1 }).values], [7, 8]);
  store.close();

  // The same after reopening, for a column that stayed unregistered across the reopen.
  const again = Store.open(dir);
  const c = again.register('c');
  for (const tier of [0, 1]) assert.deepEqual([...again.query(c, { tier }).values], []);
  assert.deepEqual([...again.query(a).values].slice(-2), [29, 30]);
  again.close();
});
