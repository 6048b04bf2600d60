// startMaintenance(): consolidate() on an unreferenced timer, a stop function, and close() stops it.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RondoError } from './errors.js';
import { Store } from './store.js';
import { Fixture } from './test-fixtures/consolidation-common.js';
import { assertCode, scratchDirs, sleep, twoTiers, waitUntil } from './test-fixtures/helpers.js';

const scratch = scratchDirs('maintenance');

function openStore(): { store: Store; h: number } {
  const store = Store.open(scratch(), { schemas: [twoTiers('m', [1000, 60], [10_000, 60, 'sum'], 1)] });
  return { store, h: store.register('cpu') };
}

describe('startMaintenance', () => {
  it('consolidates on its own timer until stopped', async () => {
    const { store, h } = openStore();
    const stop = store.startMaintenance({ every: 20 });
    try {
      for (let s = 100; s <= 109; s++) store.record(h, 1, s * 1000);
      await waitUntil('the first window', () => store.query(h, { tier: 1 }).values.length === 1, 2000);
      assert.deepEqual([...store.query(h, { tier: 1 }).values], [10]);
      store.record(h, 5, 110_000);
      await waitUntil('the second window', () => store.query(h, { tier: 1 }).values.length === 2, 2000);
      assert.deepEqual([...store.query(h, { tier: 1 }).values], [10, 5]);
      assert.ok(store.stats().windowsWritten >= 2);
      stop();
      store.record(h, 7, 111_000);
      await sleep(120);
      assert.deepEqual([...store.query(h, { tier: 1 }).values], [10, 5], 'no consolidation after stop()');
      stop(); // idempotent
      assert.equal(store.consolidate(), 1);
      assert.deepEqual([...store.query(h, { tier: 1 }).values], [10, 12]);
    } finally {
      store.close();
    }
  });

  it('is stopped by close()', async () => {
    const { store, h } = openStore();
    const errors: unknown[] = [];
    let runs = 0;
    const consolidate = store.consolidate.bind(store);
    store.consolidate = () => {
      runs++;
      return consolidate();
    };
    store.startMaintenance({ every: 10, onError: (err) => errors.push(err) });
    store.startMaintenance({ every: 15, onError: (err) => errors.push(err) });
    store.record(h, 1, 100_000);
    await waitUntil('a few maintenance runs', () => runs >= 4, 2000);
    store.close();
    const after = runs;
    await sleep(100);
    assert.equal(runs, after, 'no run after close()');
    assert.deepEqual(errors, []);
  });

  it('reports errors of a scheduled consolidation to onError and keeps running', async () => {
    const { store } = openStore();
    const seen: unknown[] = [];
    store.consolidate = () => {
      throw new RondoError('ERR_RONDO_IO', 'disk on fire');
    };
    const stop = store.startMaintenance({ every: 10, onError: (err) => seen.push(err) });
    await waitUntil('two reported errors', () => seen.length >= 2, 2000);
    stop();
    assertCode(seen[0], 'ERR_RONDO_IO', /disk on fire/);
    store.close();
  });

  // Its errors (a bad interval, a reader, a closed store) are checked in errors.test.ts.

  it('does not keep the process alive', async () => {
    const dir = join(scratch(), 'store');
    const child = new Fixture('maintenance', [dir, '1s']);
    await child.waitFor('started');
    const startedAt = Date.now();
    const timeout = sleep(5000).then(() => 'timeout' as const);
    const result = await Promise.race([child.exited, timeout]);
    if (result === 'timeout') {
      await child.kill();
      assert.fail('the process with maintenance running did not exit by itself');
    }
    assert.equal(result.code, 0, child.stderr);
    assert.ok(
      Date.now() - startedAt < 3000,
      `exited ${Date.now() - startedAt} ms after starting maintenance`,
    );
    // Exiting with maintenance running loses nothing: the child recorded 30 points.
    const store = Store.open(dir);
    assert.equal(store.query(0, { tier: 0 }).values.length, 30);
    store.close();
  });
});
