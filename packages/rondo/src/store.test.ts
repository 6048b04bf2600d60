// The core store: creation layout, schema routing, handles, reopen, info(), flush().
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store, storeExists, writerActive } from './index.js';
import type { SchemaConfig } from './schema.js';
import { oneTier, scratchDirs, T0, throwsCode } from './test-fixtures/helpers.js';

const dir = scratchDirs('store');

const ROUTED: SchemaConfig[] = [
  { name: 'web', match: { job: 'web' }, maxSeries: 3, tiers: [{ interval: '1s', retention: '1m' }] },
  {
    name: 'db-prod',
    match: { job: 'db', env: 'prod' },
    maxSeries: 2,
    tiers: [{ interval: 10, retention: 200 }],
  },
  { name: 'rest', maxSeries: 5, tiers: [{ interval: '1m', retention: '1h' }] },
];

test('creation writes metadata, a lock and one full-size slab per schema and tier', () => {
  const d = dir();
  const store = Store.open(d, { schemas: ROUTED });
  assert.deepEqual(readdirSync(d).sort(), [
    'LOCK',
    'db-prod.0.slab',
    'rest.0.slab',
    'rondo.json',
    'series.journal',
    'web.0.slab',
  ]);
  assert.ok(storeExists(d));
  assert.equal(readFileSync(join(d, 'LOCK'), 'utf8').trim(), String(process.pid));
  const info = store.info();
  assert.equal(info.dir, d);
  assert.equal(info.readOnly, false);
  assert.equal(info.writerActive, true);
  assert.equal(info.seriesCount, 0);
  assert.deepEqual(
    info.schemas.map((s) => [s.name, s.match, s.maxSeries, s.series]),
    [
      ['web', { job: 'web' }, 3, 0],
      ['db-prod', { env: 'prod', job: 'db' }, 2, 0],
      ['rest', {}, 5, 0],
    ],
  );
  const expected = [
    { interval: 1000, retention: 60_000, slots: 60, maxSeries: 3 },
    { interval: 10, retention: 200, slots: 20, maxSeries: 2 },
    { interval: 60_000, retention: 3_600_000, slots: 60, maxSeries: 5 },
  ];
  let total = statSync(join(d, 'rondo.json')).size + statSync(join(d, 'series.journal')).size;
  info.schemas.forEach((s, i) => {
    assert.equal(s.tiers.length, 1);
    const t = s.tiers[0]!;
    const e = expected[i]!;
    const bytes = 4096 + e.slots * (1 + e.maxSeries) * 8;
    assert.deepEqual(
      {
        index: t.index,
        interval: t.interval,
        retention: t.retention,
        slots: t.slots,
        bytes: t.bytes,
        consolidation: t.consolidation,
        xff: t.xff,
        slotsUsed: t.slotsUsed,
        oldest: t.oldest,
        newest: t.newest,
      },
      {
        index: 0,
        interval: e.interval,
        retention: e.retention,
        slots: e.slots,
        bytes,
        consolidation: null,
        xff: 0,
        slotsUsed: 0,
        oldest: null,
        newest: null,
      },
    );
    assert.equal(t.file, join(d, `${s.name}.0.slab`));
    assert.equal(statSync(t.file).size, bytes, `${t.file} has its full size from creation`);
    total += bytes;
  });
  assert.equal(info.totalBytes, total);
  store.close();
  assert.equal(writerActive(d), false);
});

test('info() follows the data: oldest, newest, slots used, series count, sizes unchanged', () => {
  const d = dir();
  const store = Store.open(d, { schemas: [oneTier('s', 1000, 10, 3)] });
  const a = store.register('a');
  const b = store.register('b', { x: 'y' });
  for (let i = 0; i < 4; i++) store.record(a, i, T0 + i * 1000);
  store.record(b, 1, T0 + 7000);
  let t = store.info().schemas[0]!.tiers[0]!;
  assert.deepEqual([t.oldest, t.newest, t.slotsUsed], [T0, T0 + 7000, 5]);
  for (let i = 8; i < 14; i++) store.record(a, i, T0 + i * 1000);
  t = store.info().schemas[0]!.tiers[0]!;
  // Ring holds 4..13; slots 4, 5 and 6 were skipped, 7..13 are stamped.
  assert.deepEqual([t.oldest, t.newest, t.slotsUsed], [T0 + 7000, T0 + 13_000, 7]);
  const info = store.info();
  assert.equal(info.seriesCount, 2);
  assert.equal(info.schemas[0]!.series, 2);
  assert.equal(statSync(t.file).size, 4096 + 10 * 4 * 8);
  assert.equal(t.bytes, 4096 + 10 * 4 * 8);
  assert.equal(
    info.totalBytes,
    t.bytes + statSync(join(d, 'rondo.json')).size + statSync(join(d, 'series.journal')).size,
  );
  assert.deepEqual(store.stats(), {
    recorded: 11,
    droppedLate: 0,
    windowsWritten: 0,
    autoConsolidations: 0,
    registered: 2,
    retired: 0,
  });
  store.close();
});

test('routing: the first schema in configuration order whose match the labels satisfy', () => {
  const d = dir();
  const store = Store.open(d, { schemas: ROUTED });
  const cases: [string, Record<string, string>, string][] = [
    ['cpu', { job: 'web', host: 'a' }, 'web'],
    ['cpu', { job: 'db', env: 'prod' }, 'db-prod'],
    ['cpu', { job: 'db', env: 'dev' }, 'rest'],
    ['cpu', { job: 'db' }, 'rest'],
    ['cpu', { env: 'prod' }, 'rest'],
    ['cpu', {}, 'rest'],
    ['cpu', { job: 'WEB' }, 'rest'],
  ];
  const handles = cases.map(([name, labels]) => store.register(name, labels));
  assert.deepEqual(handles, [0, 1, 2, 3, 4, 5, 6]);
  const listed = store.series();
  cases.forEach(([name, labels, schema], h) => {
    assert.equal(listed[h]!.handle, h);
    assert.equal(listed[h]!.name, name);
    assert.deepEqual(listed[h]!.labels, labels);
    assert.equal(listed[h]!.schema, schema, `${name} ${JSON.stringify(labels)}`);
  });
  assert.deepEqual(
    store.info().schemas.map((s) => s.series),
    [1, 1, 5],
  );
  // Routed points land in their schema's slots (db-prod has 10 ms slots, rest 1 min slots).
  store.record(1, 5, T0 + 15);
  store.record(2, 6, T0 + 15);
  assert.deepEqual(Array.from(store.query(1).timestamps), [T0 + 10]);
  assert.deepEqual(Array.from(store.query(2).timestamps), [Math.floor((T0 + 15) / 60_000) * 60_000]);
  store.close();

  // Order decides: a catch-all first takes everything.
  const d2 = dir();
  const s2 = Store.open(d2, { schemas: [ROUTED[2]!, ROUTED[0]!] });
  s2.register('cpu', { job: 'web' });
  assert.equal(s2.series()[0]!.schema, 'rest');
  s2.close();
});

test('the same name and labels, in any key order, give the same handle', () => {
  const store = Store.open(dir(), { schemas: [oneTier('s', 1000, 10, 8)] });
  const h = store.register('cpu', { host: 'a', dc: 'x', core: '1' });
  assert.equal(store.register('cpu', { core: '1', dc: 'x', host: 'a' }), h);
  assert.equal(store.register('cpu', { dc: 'x', host: 'a', core: '1' }), h);
  assert.equal(store.lookup('cpu', { dc: 'x', core: '1', host: 'a' }), h);
  assert.notEqual(store.register('cpu', { host: 'a', dc: 'x' }), h);
  assert.notEqual(store.register('mem', { host: 'a', dc: 'x', core: '1' }), h);
  assert.notEqual(store.register('cpu', { host: 'a', dc: 'x', core: '2' }), h);
  assert.equal(store.series().length, 4);
  assert.deepEqual(Object.keys(store.series()[h]!.labels), ['core', 'dc', 'host']);
  // lookup never registers.
  assert.equal(store.lookup('disk'), undefined);
  assert.equal(store.lookup('cpu', { host: 'a' }), undefined);
  assert.equal(store.series().length, 4);
  assert.equal(store.stats().registered, 4);
  store.close();
});

test('series, handles and points survive close and reopen, with and without schemas', () => {
  const d = dir();
  let store = Store.open(d, { schemas: ROUTED });
  const hs = [
    store.register('a', { job: 'web' }),
    store.register('b'),
    store.register('c', { job: 'db', env: 'prod' }),
  ];
  store.recordBatch(hs, [1, 2, 3], T0);
  store.record(hs[0]!, 4, T0 + 1000);
  store.flush();
  const before = store.series();
  const query = (s: Store) =>
    hs.map((h) => [Array.from(s.query(h).timestamps), Array.from(s.query(h).values)]);
  const points = query(store);
  store.close();
  for (const options of [{}, { schemas: ROUTED }, { readOnly: true }]) {
    store = Store.open(d, options);
    assert.deepEqual(store.series(), before);
    assert.deepEqual(query(store), points);
    assert.equal(store.lookup('b'), hs[1]);
    assert.equal(store.info().seriesCount, 3);
    assert.equal(store.info().schemas[0]!.tiers[0]!.newest, T0 + 1000);
    store.close();
  }
  store = Store.open(d);
  assert.equal(store.register('c', { env: 'prod', job: 'db' }), hs[2]);
  assert.equal(store.register('d', { job: 'web' }), 3);
  // Later writes continue the same rings.
  store.record(hs[0]!, 5, T0 + 2000);
  store.close();
  store = Store.open(d, { readOnly: true });
  assert.deepEqual(Array.from(store.query(hs[0]!).values), [1, 4, 5]);
  assert.equal(store.series()[3]!.schema, 'web');
  store.close();
});

test('flush() syncs without changing anything visible', () => {
  const d = dir();
  const store = Store.open(d, { schemas: [oneTier('s', 1000, 10)] });
  store.flush(); // empty store
  const h = store.register('a');
  for (let i = 0; i < 25; i++) store.record(h, i, T0 + i * 1000);
  const before = store.query(h);
  store.flush();
  store.flush();
  assert.deepEqual(store.query(h), before);
  assert.equal(before.values.length, 10);
  store.close();
  const again = Store.open(d);
  assert.deepEqual(again.query(h), before);
  again.close();
});

test('consolidate() on a single-tier store has nothing to do', () => {
  const store = Store.open(dir(), { schemas: [oneTier('s', 1000, 10)] });
  const h = store.register('a');
  store.record(h, 1, T0);
  assert.equal(store.consolidate(), 0);
  const stop = store.startMaintenance({ every: '10ms' });
  stop();
  stop();
  store.close();
});

test('newestEnd() is the end of the newest tier-0 slot over all schemas, for writers and readers', () => {
  const d = dir();
  const store = Store.open(d, {
    schemas: [{ ...oneTier('a', 1000, 60, 2), match: { s: 'a' } }, oneTier('b', 10_000, 60, 2)],
  });
  assert.equal(store.newestEnd(), null);
  const a = store.register('x', { s: 'a' });
  const b = store.register('y');
  store.record(a, 1, T0 + 1500);
  store.record(b, 1, T0);
  assert.equal(store.newestEnd(), T0 + 10_000, "b's 10 s slot ends last");
  store.record(a, 1, T0 + 12_000);
  const reader = Store.open(d, { readOnly: true });
  assert.equal(reader.newestEnd(), T0 + 13_000);
  throwsCode(() => reader.newestEnd(5), 'ERR_RONDO_INVALID_TIER');
  assert.equal(reader.newestEnd(0, ['a']), T0 + 13_000);
  assert.equal(reader.newestEnd(0, ['b']), T0 + 10_000, 'only the schemas named count');
  throwsCode(() => reader.newestEnd(0, ['nope']), 'ERR_RONDO_NOT_FOUND');
  reader.close();
  store.close();
});
