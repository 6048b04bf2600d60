// Drain cursors across Store.migrate: after the migration a drain ships exactly what had not been
// shipped (nothing committed is sent again, nothing is lost), an uncommitted batch is drained
// again, an unreadable cursor is reset with a note, and a drainer still open blocks the migration.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DrainBatch, SchemaConfig } from './index.js';
import { Store } from './store.js';
import { scratchDirs, T0, throwsCode, twoTiers } from './test-fixtures/helpers.js';
import { generationOf } from './test-fixtures/migrate-helpers.js';

const dir = scratchDirs('migrate-cursors');

/** "handle@seconds after T0" for each point of a batch. */
function shipped(batch: DrainBatch): string[] {
  return batch.series.flatMap((s) => [...s.timestamps].map((t) => `${s.handle}@${(t - T0) / 1000}`));
}

/** Drains cursor `name` of `tier` to the end, committing each batch; returns every point shipped. */
function drainAll(store: Store, name: string, tier: number): string[] {
  const out: string[] = [];
  for (;;) {
    const b = store.drain(name, { tier, maxSamples: 25 });
    out.push(...shipped(b));
    b.commit();
    if (!b.more) return out;
  }
}

/** Records value s at T0 + s seconds for each handle, for s in [from, to). */
function record(store: Store, handles: number[], from: number, to: number): void {
  for (let s = from; s < to; s++) for (const h of handles) store.record(h, s, T0 + s * 1000);
}

/** Every point "h@s" that tier 0 holds for `handles` in [from, to) seconds. */
function points(handles: number[], from: number, to: number): string[] {
  const out: string[] = [];
  for (const h of handles) for (let s = from; s < to; s++) out.push(`${h}@${s}`);
  return out;
}

test('a drain after the migration ships exactly what was not shipped before, in the moved and resized tiers', () => {
  const d = dir();
  const store = Store.open(d, { schemas: [twoTiers('s', [1000, 120], [10_000, 30, 'avg'])] });
  const hs = [store.register('a'), store.register('b')];
  record(store, hs, 0, 50);
  store.consolidate();
  // Tier 0: 30 points committed (a's first 30 s). Tier 1: windows 0 … 30 s committed.
  const first = store.drain('prom', { maxSamples: 30 });
  first.commit();
  assert.deepEqual(shipped(first), points([0], 0, 30));
  const coarse = drainAll(store, 'prom', 1);
  assert.deepEqual(
    coarse,
    [...points([0], 0, 4), ...points([1], 0, 4)].map((p) => p.replace(/@(\d+)/, (_, s) => `@${s * 10}`)),
  );
  // A batch drained and not committed (a crash before its commit): dropped by the migration.
  record(store, hs, 50, 70);
  assert.ok(store.drain('prom').samples > 0);
  store.close();

  // The schema is renamed (its series move), tier 1 goes from 10 s to 20 s windows.
  const schemas: SchemaConfig[] = [twoTiers('t', [1000, 120], [20_000, 30, 'avg'], 8)];
  const result = Store.migrate(d, { schemas });
  assert.deepEqual(result.cursors, [
    { name: 'prom', kept: true, note: 'tier 0: an uncommitted batch will be drained again' },
  ]);
  const after = Store.open(d);
  record(after, hs, 70, 90);
  after.consolidate();
  const rest = drainAll(after, 'prom', 0);
  // Everything not committed before, once; nothing committed before.
  assert.deepEqual(rest.sort(), [...points([0], 30, 89), ...points([1], 0, 89)].sort());
  // Tier 1: the committed windows ended at 40 s, so the 20 s windows start at 40 s.
  const rest1 = drainAll(after, 'prom', 1);
  assert.deepEqual(rest1, ['0@40', '0@60', '1@40', '1@60']);
  after.close();
});

test('tier 0 with a coarser interval: no timestamp at or before the last one shipped is sent again', () => {
  const d = dir();
  const store = Store.open(d, { schemas: [twoTiers('s', [1000, 120], [10_000, 30, 'max'])] });
  const hs = [store.register('a')];
  record(store, hs, 0, 40);
  const b = store.drain('prom', { maxSamples: 31 }); // through 30 s; the next slot is 31 s
  b.commit();
  store.close();
  Store.migrate(d, { schemas: [twoTiers('s', [2000, 60], [10_000, 30, 'max'])] });
  const after = Store.open(d);
  record(after, hs, 40, 50);
  const rest = drainAll(after, 'prom', 0);
  // 2 s slots from 32 s on: 30 s (which holds the point of 31 s) was shipped as a 1 s slot.
  assert.deepEqual(
    rest,
    Array.from({ length: 8 }, (_, i) => `0@${32 + 2 * i}`),
  );
  after.close();
});

test('an unreadable cursor is reset, with the reason in the result; the others are carried over', () => {
  const d = dir();
  const store = Store.open(d, { schemas: [twoTiers('s', [1000, 120], [10_000, 30, 'avg'])] });
  const hs = [store.register('a')];
  record(store, hs, 0, 20);
  store.drain('good').commit();
  store.close();
  mkdirSync(join(d, 'cursors'), { recursive: true });
  writeFileSync(join(d, 'cursors', 'bad.json'), '{ not json');
  const result = Store.migrate(d, { schemas: [twoTiers('s', [1000, 120], [10_000, 30, 'avg'], 8)] });
  assert.deepEqual(
    result.cursors.map((c) => [c.name, c.kept]),
    [
      ['bad', false],
      ['good', true],
    ],
  );
  assert.match(result.cursors[0]!.note, /^unreadable, reset: .*not valid JSON/);
  const after = Store.open(d);
  assert.equal(drainAll(after, 'bad', 0).length, 19, 'bad starts from the oldest point');
  assert.equal(drainAll(after, 'good', 0).length, 0, 'good resumes where it was');
  after.close();
});

test('a reader still holding a cursor it drained blocks the migration (ERR_RONDO_LOCKED), nothing changes', () => {
  const d = dir();
  const store = Store.open(d, { schemas: [twoTiers('s', [1000, 120], [10_000, 30, 'avg'])] });
  record(store, [store.register('a')], 0, 20);
  store.close();
  const reader = Store.open(d, { readOnly: true });
  const batch = reader.drain('push');
  throwsCode(
    () => Store.migrate(d, { schemas: [twoTiers('s', [1000, 120], [10_000, 30, 'avg'], 8)] }),
    'ERR_RONDO_LOCKED',
    'cursor push is in use by a drainer',
  );
  assert.equal(generationOf(d), 0);
  // Had the migration gone on, this commit would have gone to the old generation and been lost.
  batch.commit();
  reader.close();
  Store.migrate(d, { schemas: [twoTiers('s', [1000, 120], [10_000, 30, 'avg'], 8)] });
  const after = Store.open(d);
  assert.deepEqual(drainAll(after, 'push', 0), []);
  after.close();
});

test('a cursor of a schema named constructor, toString or __proto__ is carried over like any other', () => {
  for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
    const d = dir();
    const store = Store.open(d, { schemas: [twoTiers(name, [1000, 120], [10_000, 30, 'avg'])] });
    const hs = [store.register('a')];
    record(store, hs, 0, 20);
    assert.equal(drainAll(store, 'prom', 0).length, 19, name);
    store.close();
    const result = Store.migrate(d, { schemas: [twoTiers(name, [1000, 120], [10_000, 30, 'avg'], 8)] });
    assert.deepEqual(
      result.cursors,
      [{ name: 'prom', kept: true, note: 'positions converted by time' }],
      name,
    );
    const after = Store.open(d);
    record(after, hs, 20, 25);
    assert.deepEqual(drainAll(after, 'prom', 0), points([0], 19, 24), `${name}: only what was not shipped`);
    after.close();
  }
});

test('a reader holding a cursor whose drains were all empty (a lock, no file yet) blocks the migration too', () => {
  const d = dir();
  const store = Store.open(d, { schemas: [twoTiers('s', [1000, 120], [10_000, 30, 'avg'])] });
  store.register('a');
  store.close();
  const reader = Store.open(d, { readOnly: true });
  const batch = reader.drain('push');
  assert.equal(batch.samples, 0);
  batch.commit();
  assert.ok(!existsSync(join(d, 'cursors', 'push.json')), 'an empty drain writes no cursor file');
  throwsCode(
    () => Store.migrate(d, { schemas: [twoTiers('s', [1000, 120], [10_000, 30, 'avg'], 8)] }),
    'ERR_RONDO_LOCKED',
    'cursor push is in use by a drainer',
  );
  assert.equal(generationOf(d), 0);
  reader.close();
  // The lock file stays behind once the reader is gone: no longer held, and no cursor to convert.
  const result = Store.migrate(d, { schemas: [twoTiers('s', [1000, 120], [10_000, 30, 'avg'], 8)] });
  assert.deepEqual(result.cursors, []);
  assert.equal(generationOf(d), 1);
});
