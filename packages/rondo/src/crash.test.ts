// SIGKILL at random moments: what a writer reported as recorded (or registered) must survive.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from './store.js';
import { Child, oneTier, scratchDirs, sleep } from './test-fixtures/helpers.js';

const INTERVAL = 1000;
const SLOTS = 5000;
const dir = scratchDirs('crash');

test('a writer SIGKILLed while recording loses nothing it reported; the store reopens and takes writes', async () => {
  const d = dir();
  Store.open(d, { schemas: [oneTier('s', INTERVAL, SLOTS, 2)] }).close();
  const side = join(d, 'reported');
  // Fixed delays (ms after the child's first report) instead of random ones keep runs comparable;
  // the kill still lands at an arbitrary instruction of the record loop.
  const delays = [0, 3, 17, 41, 90, 150];
  let checkedTotal = 0;
  for (const [round, delay] of delays.entries()) {
    const child = new Child(['crash', d, side]);
    const start = Number((await child.waitFor('ready ')).slice(6));
    await sleep(delay);
    await child.kill();
    const reported = Number(readFileSync(side, 'latin1'));
    assert.ok(Number.isSafeInteger(reported) && reported >= start, `round ${round}: reported ${reported}`);

    const store = Store.open(d); // writer: runs crash recovery
    try {
      const [a, b] = [store.lookup('a')!, store.lookup('b')!];
      assert.deepEqual([a, b], [0, 1]);
      const newest = store.info().schemas[0]!.tiers[0]!.newest!;
      assert.ok(newest >= reported, `round ${round}: newest ${newest} < reported ${reported}`);
      const pa = store.query(a);
      const pb = store.query(b);
      const got = new Map<number, number>();
      // Every point returned is the one recorded for its time (unreported ones included).
      for (const [i, t] of pa.timestamps.entries()) {
        assert.equal(pa.values[i], t / INTERVAL, `a at ${t}`);
        got.set(t, pa.values[i]!);
      }
      for (const [i, t] of pb.timestamps.entries()) assert.equal(pb.values[i], -t / INTERVAL, `b at ${t}`);
      const gotB = new Set(pb.timestamps);
      // Every reported point still in the ring is there, in both series. The ring's oldest slot is
      // exempt: a kill in the middle of the next advance may have emptied its position already.
      const from = Math.max(start, newest - (SLOTS - 2) * INTERVAL);
      for (let t = from; t <= reported; t += INTERVAL) {
        assert.equal(got.get(t), t / INTERVAL, `round ${round}: a at ${t} lost (reported up to ${reported})`);
        assert.ok(gotB.has(t), `round ${round}: b at ${t} lost`);
        checkedTotal++;
      }
    } finally {
      store.close();
    }
  }
  assert.ok(checkedTotal > 1000, `only ${checkedTotal} reported points checked`);

  // After all the kills the store takes new writes, which survive a clean reopen.
  const store = Store.open(d);
  const newest = store.info().schemas[0]!.tiers[0]!.newest!;
  store.recordBatch([0, 1], [42, -42], newest + INTERVAL);
  store.record(0, 43, newest + 5 * INTERVAL);
  store.close();
  const again = Store.open(d, { readOnly: true });
  const p = again.query(0, { start: newest + INTERVAL });
  assert.deepEqual(Array.from(p.timestamps), [newest + INTERVAL, newest + 5 * INTERVAL]);
  assert.deepEqual(Array.from(p.values), [42, 43]);
  assert.deepEqual(Array.from(again.query(1, { start: newest + INTERVAL }).values), [-42]);
  again.close();
});

test('registration is durable when register() returns, even if the writer is SIGKILLed right after', async () => {
  const d = dir();
  Store.open(d, {
    schemas: [{ ...oneTier('web', INTERVAL, 10), match: { job: 'web' } }, oneTier('rest', INTERVAL, 10)],
  }).close();
  const registered: [string, Record<string, string>, number][] = [];
  for (const [name, labels] of [
    ['cpu', { job: 'web', host: 'a' }],
    ['mem', {}],
    ['cpu', { job: 'web', host: 'b' }],
  ] as const) {
    const child = new Child(['register', d, name, JSON.stringify(labels)]);
    const h = Number((await child.waitFor('registered ')).slice(11));
    await child.kill();
    registered.push([name, labels, h]);
  }
  assert.deepEqual(
    registered.map(([, , h]) => h),
    [0, 1, 2],
  );
  const store = Store.open(d);
  for (const [name, labels, h] of registered) {
    assert.equal(store.lookup(name, labels), h);
    assert.equal(store.register(name, labels), h);
  }
  assert.deepEqual(
    store.series().map((s) => [s.name, s.schema]),
    [
      ['cpu', 'web'],
      ['mem', 'rest'],
      ['cpu', 'web'],
    ],
  );
  assert.equal(store.info().schemas[0]!.series, 2);
  assert.equal(store.register('disk'), 3);
  store.close();
});
