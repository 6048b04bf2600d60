// Readers: in-process and in another process, seeing a live writer's series and points
// without reopening, and never pairing a value with the wrong time while the ring wraps.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from './store.js';
import { Child, oneTier, scratchDirs, T0 } from './test-fixtures/helpers.js';

const dir = scratchDirs('reader');

test('an in-process reader sees the writer at once, including series registered after it opened', () => {
  const d = dir();
  const w = Store.open(d, { schemas: [oneTier('s', 1000, 10)] });
  const a = w.register('a');
  const r = Store.open(d, { readOnly: true });
  assert.equal(r.query(a).values.length, 0);
  w.record(a, 1, T0);
  assert.deepEqual(Array.from(r.query(a).values), [1]);
  // A handle registered after the reader opened can be queried directly (no series() call first).
  const b = w.register('b', { k: 'v' });
  w.record(b, 2, T0 + 1000);
  assert.deepEqual(Array.from(r.query(b).timestamps), [T0 + 1000]);
  const c = w.register('c');
  assert.equal(r.lookup('c'), c);
  assert.equal(r.series().length, 3);
  assert.equal(r.info().seriesCount, 3);
  // Reader's view of the ring follows the writer: wraps, gaps and info().
  for (let i = 2; i < 30; i++) w.record(a, i, T0 + i * 1000);
  assert.deepEqual(
    Array.from(r.query(a).values),
    Array.from({ length: 10 }, (_, k) => 20 + k),
  );
  assert.equal(r.query(b).values.length, 0);
  const rt = r.info().schemas[0]!.tiers[0]!;
  assert.deepEqual([rt.oldest, rt.newest, rt.slotsUsed], [T0 + 20_000, T0 + 29_000, 10]);
  assert.equal(r.info().readOnly, true);
  assert.equal(r.info().writerActive, true);
  w.close();
  assert.equal(r.info().writerActive, false);
  // The reader keeps working after the writer is gone.
  assert.equal(r.query(a).values.length, 10);
  r.close();
});

test('a reader in another process sees what the writer added after it opened, without reopening', async () => {
  const d = dir();
  const w = Store.open(d, { schemas: [oneTier('s', 1000, 60)] });
  const a = w.register('a');
  w.close();
  const r = Store.open(d, { readOnly: true });
  assert.equal(r.series().length, 1);
  assert.equal(r.info().writerActive, false);
  const child = new Child(['append', d, String(T0)]);
  try {
    const done = JSON.parse((await child.waitFor('done ')).slice(5)) as { handle: number; times: number[] };
    assert.equal(r.info().writerActive, true);
    assert.equal(r.lookup('late', { host: 'x' }), done.handle);
    assert.deepEqual(
      r.series().map((s) => [s.handle, s.name, s.labels]),
      [
        [a, 'a', {}],
        [done.handle, 'late', { host: 'x' }],
      ],
    );
    const pa = r.query(a);
    assert.deepEqual(Array.from(pa.timestamps), done.times);
    assert.deepEqual(Array.from(pa.values), [0, 1, 2, 3, 4]);
    const pl = r.query(done.handle, { start: done.times[1], end: done.times[4] });
    assert.deepEqual(Array.from(pl.values), [101, 102, 103]);
    assert.equal(r.info().schemas[0]!.tiers[0]!.newest, done.times[4]);
  } finally {
    assert.equal((await child.finish()).code, 0, child.stderr);
  }
  assert.equal(r.info().writerActive, false);
  r.close();
});

test('while a writer in another process wraps a 20-slot ring, every (t, v) a reader returns is right', async () => {
  const d = dir();
  const w = Store.open(d, { schemas: [oneTier('fast', 1, 20, 2)] });
  w.register('t'); // value = t at every slot
  w.register('even'); // value = -t at even slots only
  w.close();
  const r = Store.open(d, { readOnly: true });
  const stop = join(d, 'stop');
  const child = new Child(['wrap', d, '1800', stop]);
  let reads = 0;
  let pointsChecked = 0;
  let evenChecked = 0;
  const mismatches: string[] = [];
  const newestSeen = new Set<number | null>();
  try {
    await child.waitFor('ready');
    // At least 1.3 s of reads, and on (up to 20 s) until the counts below are reached: a loaded
    // machine makes the reader slower, and then it reads for longer rather than check less.
    const until = Date.now() + 1300;
    const deadline = Date.now() + 20_000;
    const enough = (): boolean => pointsChecked > 20_000 && evenChecked > 5_000 && newestSeen.size > 20;
    while (Date.now() < until || (!enough() && Date.now() < deadline)) {
      const p = r.query(0);
      const e = r.query(1);
      reads++;
      for (let i = 0; i < p.timestamps.length; i++) {
        const t = p.timestamps[i]!;
        if (p.values[i] !== t) mismatches.push(`t: ${t} → ${p.values[i]}`);
        if (i > 0 && !(t > p.timestamps[i - 1]!)) mismatches.push(`t: not ascending at ${t}`);
      }
      for (let i = 0; i < e.timestamps.length; i++) {
        const t = e.timestamps[i]!;
        if (e.values[i] !== -t || t % 2 !== 0) mismatches.push(`even: ${t} → ${e.values[i]}`);
      }
      if (p.timestamps.length > 0 && p.timestamps.at(-1)! - p.timestamps[0]! >= 20) {
        mismatches.push(`more than one lap: ${p.timestamps[0]}..${p.timestamps.at(-1)}`);
      }
      pointsChecked += p.timestamps.length;
      evenChecked += e.timestamps.length;
      if (reads % 64 === 0) newestSeen.add(r.info().schemas[0]!.tiers[0]!.newest);
    }
    writeFileSync(stop, '');
    const done = await child.waitFor('done ', 30_000);
    assert.ok(Number(done.slice(5)) > 10_000, `the writer only wrote ${done}`);
  } finally {
    await child.kill();
    r.close();
  }
  assert.deepEqual(mismatches.slice(0, 10), []);
  assert.ok(pointsChecked > 20_000, `only ${pointsChecked} points checked in ${reads} reads`);
  assert.ok(evenChecked > 5_000, `only ${evenChecked} even points checked`);
  assert.ok(newestSeen.size > 20, `the reader saw only ${newestSeen.size} distinct newest slots`);
});
