// Store.migrate and Store.open({ migrate: true }) as an API: what the result reports, capacity
// and retired series, the writer lock, the mismatch message, readers of the old generation, a
// format-1 store, migrating twice, a store that keeps working after its migration, bad arguments.
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Child } from 'rondo-testkit';
import type { MigrateProgress, SchemaConfig } from './index.js';
import { Store } from './store.js';
import { patchBytes, u32 } from './test-fixtures/bytes.js';
import { oneTier, scratchDirs, T0, throwsCode, twoTiers } from './test-fixtures/helpers.js';
import {
  fill,
  generationOf,
  type SeriesPlan,
  samePoints,
  seriesRows,
  snapshot,
  storeFiles,
} from './test-fixtures/migrate-helpers.js';

const dir = scratchDirs('migrate-api');
const CHILD = fileURLToPath(new URL('./test-fixtures/migrate-child.js', import.meta.url));
const V1_STORE = fileURLToPath(new URL('../test-data/store-v1', import.meta.url));

/** [1 s × 60, 10 s × 30 avg] with `maxSeries` columns. */
const layout = (maxSeries: number, name = 's'): SchemaConfig =>
  twoTiers(name, [1000, 60], [10_000, 30, 'avg'], maxSeries);

/** Every file of `d` with its content (but LOCK, which each writer rewrites), to show that nothing changed. */
function contents(d: string): Map<string, string> {
  const files = storeFiles(d).filter((f) => f !== 'LOCK');
  return new Map(files.map((f) => [f, readFileSync(join(d, f)).toString('base64')]));
}

function storeWith(schemas: SchemaConfig[], plan: SeriesPlan[], seconds = 100) {
  const d = dir();
  const store = Store.open(d, { schemas });
  const fx = fill(store, plan, seconds);
  const before = snapshot(store);
  store.close();
  return { d, fx, before };
}

const THREE: SeriesPlan[] = [{ name: 'a' }, { name: 'b' }, { name: 'c' }];

test('an unchanged layout rewrites nothing; a new retireAfter alone is taken as it is', () => {
  const { d } = storeWith([layout(4)], THREE);
  const files = contents(d);
  const same = Store.migrate(d, { schemas: [layout(4)] });
  assert.deepEqual(same, {
    changed: false,
    summary: '',
    series: 0,
    dropped: [],
    points: 0,
    cursors: [],
    generation: 0,
  });
  assert.deepEqual(contents(d), files);
  const policy = Store.migrate(d, { schemas: [{ ...layout(4), retireAfter: '1h' }] });
  assert.equal(policy.changed, false);
  const store = Store.open(d, { readOnly: true });
  assert.equal(store.info().schemas[0]!.retireAfter, 3_600_000);
  store.close();
  assert.equal(generationOf(d), 0);
});

test('capacity too small for the live series: ERR_RONDO_MAX_SERIES, and nothing changes', () => {
  const { d } = storeWith([layout(4), oneTier('other', 1000, 60, 2)], THREE);
  const files = contents(d);
  throwsCode(
    () => Store.migrate(d, { schemas: [layout(2), oneTier('other', 1000, 60, 2)] }),
    'ERR_RONDO_MAX_SERIES',
    /schema s needs room for 1 more live series .*nothing was changed/,
  );
  assert.deepEqual(contents(d), files);
  throwsCode(() => Store.open(d, { schemas: [layout(2)], migrate: true }), 'ERR_RONDO_MAX_SERIES');
  assert.deepEqual(contents(d), files);
});

test('retired series are kept while there is room, the most recently retired first; the rest are reported', () => {
  // a and b are retired (b later), c and d stay live; 3 columns hold c, d and b.
  const plan: SeriesPlan[] = [
    { name: 'a', retireAfter: 70 },
    { name: 'b', retireAfter: 80 },
    { name: 'c' },
    { name: 'd' },
  ];
  const { d, fx, before } = storeWith([layout(4)], plan);
  const result = Store.migrate(d, { schemas: [layout(3)] });
  assert.equal(result.series, 3);
  assert.deepEqual(result.dropped, [{ handle: 0, name: 'a', labels: {}, reason: 'no room' }]);
  const store = Store.open(d);
  assert.deepEqual(
    store.series().map((s) => [s.handle, s.name, s.retired ?? 'live']),
    [
      [1, 'b', fx.series[1]!.retiredAt],
      [2, 'c', 'live'],
      [3, 'd', 'live'],
    ],
  );
  const after = snapshot(store);
  for (const h of [1, 2, 3])
    for (const k of [0, 1]) samePoints(after.get(h)![k]!, before.get(h)![k]!, `${h}/${k}`);
  // The retired series stays retired and holds its column; handles are never given again.
  throwsCode(() => store.record(1, 1, fx.end), 'ERR_RONDO_INVALID_HANDLE', 'retired');
  throwsCode(() => store.register('e'), 'ERR_RONDO_MAX_SERIES', '1 retired series still hold columns');
  store.close();
  Store.migrate(d, { schemas: [layout(5)] });
  const grown = Store.open(d);
  assert.equal(grown.register('a'), 4, 'a new series, not the dropped handle 0');
  grown.close();
});

test('over a hundred steps: at most a hundred progress reports, the last one { done: total, total }, with points or none', () => {
  for (const withPoints of [true, false]) {
    const d = dir();
    const store = Store.open(d, { schemas: [layout(60)] });
    for (let i = 0; i < 60; i++) {
      const h = store.register(`m${i}`);
      if (withPoints) for (let s = 0; s < 3; s++) store.record(h, s, T0 + s * 1000);
    }
    store.close();
    const reports: MigrateProgress[] = [];
    Store.migrate(d, { schemas: [layout(64)], onProgress: (p) => reports.push(p) });
    const what = withPoints ? 'with points' : 'no points';
    assert.ok(reports.length >= 1 && reports.length <= 100, `${what}: ${reports.length} reports`);
    assert.deepEqual(reports.at(-1), { done: 120, total: 120 }, what);
    assert.ok(
      reports.every((p, i) => i === 0 || p.done > reports[i - 1]!.done),
      what,
    );
  }
});

test('counters keep their type and `last` in coarse tiers; the progress reports count series × tiers', () => {
  const { d, before } = storeWith([layout(4)], [{ name: 'n', counter: true }, { name: 'g' }]);
  const reports: MigrateProgress[] = [];
  const result = Store.migrate(d, {
    schemas: [twoTiers('s', [1000, 60], [20_000, 30, 'avg'], 8)],
    onProgress: (p) => reports.push(p),
  });
  assert.deepEqual(reports.at(-1), { done: 4, total: 4 });
  assert.ok(reports.every((p, i) => i === 0 || p.done > reports[i - 1]!.done));
  assert.equal(result.summary, 'schema s: maxSeries 4 → 8, tier 1 10s/5m avg → 20s/10m avg');
  const store = Store.open(d, { readOnly: true });
  assert.deepEqual(
    store.series().map((s) => s.type),
    ['counter', 'gauge'],
  );
  // 20 s windows of the counter hold the last of its 10 s windows (the last 1 s point where tier 0 reaches).
  const n = store.query(0, { tier: 1 });
  const old = before.get(0)![1]!;
  for (const [i, t] of n.timestamps.entries()) {
    const last = old.get(t + 10_000) ?? old.get(t);
    assert.equal(n.values[i], last, `counter window at ${t}`);
  }
  store.close();
});

test('ERR_RONDO_LOCKED while a writer holds the store (in this process or another); nothing changes', async () => {
  const { d } = storeWith([layout(4)], THREE);
  const files = contents(d);
  const writer = Store.open(d);
  throwsCode(() => Store.migrate(d, { schemas: [layout(8)] }), 'ERR_RONDO_LOCKED');
  writer.close();
  const child = new Child(CHILD, ['hold', d]);
  try {
    await child.waitFor('ready');
    throwsCode(
      () => Store.migrate(d, { schemas: [layout(8)] }),
      'ERR_RONDO_LOCKED',
      `another writer (pid ${child.pid}) holds the store`,
    );
    throwsCode(() => Store.open(d, { schemas: [layout(8)], migrate: true }), 'ERR_RONDO_LOCKED');
  } finally {
    await child.finish();
  }
  assert.deepEqual(contents(d), files);
  assert.equal(Store.migrate(d, { schemas: [layout(8)] }).changed, true);
});

test('open without migrate: the mismatch in one line with how to migrate; with migrate: true it migrates', () => {
  const { d, before } = storeWith([layout(4)], THREE);
  const wanted = [twoTiers('s', [1000, 120], [10_000, 30, 'max'], 4)];
  const err = throwsCode(
    () => Store.open(d, { schemas: wanted }),
    'ERR_RONDO_SCHEMA_MISMATCH',
    "the store's schemas differ: schema s: tier 0 1s/1m → 1s/2m, tier 1 10s/5m avg → 10s/5m max",
  );
  assert.ok(!err.message.includes('\n'), 'one line');
  assert.match(
    err.message,
    /open with \{ schemas, migrate: true \}, call Store\.migrate\(dir, \{ schemas \}\)/,
  );
  throwsCode(
    () => Store.open(d, { schemas: wanted, readOnly: true }),
    'ERR_RONDO_SCHEMA_MISMATCH',
    'a reader cannot migrate',
  );
  throwsCode(
    () => Store.open(d, { schemas: wanted, readOnly: true, migrate: true }),
    'ERR_RONDO_SCHEMA_MISMATCH',
  );
  assert.equal(generationOf(d), 0);

  const store = Store.open(d, { schemas: wanted, migrate: true });
  assert.equal(generationOf(d), 1);
  assert.equal(store.info().schemas[0]!.tiers[1]!.consolidation, 'max');
  samePoints(snapshot(store).get(0)![0]!, before.get(0)![0]!, 'tier 0 kept');
  store.close();
  // The same configuration again opens the store as it is.
  Store.open(d, { schemas: wanted, migrate: true }).close();
  assert.equal(generationOf(d), 1);
});

test('a reader of the old generation gets ERR_RONDO_CLOSED after the switch; reopened, it reads the new layout', () => {
  const { d } = storeWith([layout(4)], THREE);
  const reader = Store.open(d, { readOnly: true });
  assert.equal(reader.query(0).values.length > 0, true);
  Store.migrate(d, { schemas: [layout(8)] });
  for (const [what, call] of [
    ['query', () => reader.query(0)],
    ['series', () => reader.series()],
    ['info', () => reader.info()],
    ['lookup', () => reader.lookup('a')],
    ['drain', () => reader.drain('x')],
  ] as const)
    throwsCode(call, 'ERR_RONDO_CLOSED', 'open it again', what);
  reader.close();
  const again = Store.open(d, { readOnly: true });
  assert.equal(again.info().schemas[0]!.maxSeries, 8);
  assert.equal(again.query(0).values.length > 0, true);
  again.close();
});

test('a reader that opens a generation already marked superseded (it raced the switch) does not read it', () => {
  const { d } = storeWith([layout(4)], THREE);
  Store.migrate(d, { schemas: [layout(8)] });
  // The state a reader meets when it read rondo.json just before a switch and maps the old
  // files just after the migration marked them: superseded, with catalogSeq already bumped.
  patchBytes(join(d, 'g1', 's.0.slab'), 100, u32(1));
  throwsCode(() => Store.open(d, { readOnly: true }), 'ERR_RONDO_CLOSED', 'is being migrated');
  patchBytes(join(d, 'g1', 's.0.slab'), 100, u32(0));
  Store.open(d, { readOnly: true }).close();
});

test('a format-1 store migrates too: its series, points and cursor carried over', () => {
  const d = dir();
  cpSync(V1_STORE, d, { recursive: true });
  const reader = Store.open(d, { readOnly: true });
  const before = snapshot(reader);
  const rows = seriesRows(reader);
  reader.close();
  const meta = JSON.parse(readFileSync(join(d, 'rondo.json'), 'utf8')) as { schemas: SchemaConfig[] };
  const schemas = meta.schemas.map((s) => (s.name === 'vm' ? { ...s, maxSeries: 8 } : s));
  const result = Store.migrate(d, { schemas });
  assert.equal(result.summary, 'schema vm: maxSeries 4 → 8');
  assert.deepEqual(result.cursors, [{ name: 'prom', kept: true, note: 'positions converted by time' }]);
  const store = Store.open(d);
  assert.deepEqual(seriesRows(store), rows);
  const after = snapshot(store);
  for (const [h, tiers] of before)
    for (const [k, pts] of tiers.entries()) samePoints(after.get(h)![k]!, pts, `${h}/${k}`);
  // The cursor resumes where it was: vm's series at slot 1700000029 (T0 + 29 s), nothing before.
  const batch = store.drain('prom', { includeOpen: true });
  for (const s of batch.series)
    if (s.schema === 'vm') assert.ok(s.timestamps[0]! >= T0 + 29_000, `${s.handle}`);
  store.close();
  assert.equal(JSON.parse(readFileSync(join(d, 'rondo.json'), 'utf8')).version, 2);
});

test('migrating twice: generation 1 then 2, and the files of the older generations are gone', () => {
  const { d, before } = storeWith([layout(4)], THREE);
  const s = Store.open(d);
  s.drain('prom').commit();
  s.close();
  assert.equal(Store.migrate(d, { schemas: [layout(8)] }).generation, 1);
  assert.equal(Store.migrate(d, { schemas: [layout(6)] }).generation, 2);
  assert.deepEqual(storeFiles(d), [
    'LOCK',
    'g2/cursors/prom.json',
    'g2/s.0.slab',
    'g2/s.1.slab',
    'g2/series.journal',
    'rondo.json',
  ]);
  const store = Store.open(d, { readOnly: true });
  assert.deepEqual(snapshot(store), before);
  store.close();
});

test('after a migration the store records and consolidates on: the open window is folded whole', () => {
  const { d, fx } = storeWith([layout(4)], [{ name: 'a' }], 95);
  Store.migrate(d, { schemas: [twoTiers('s', [1000, 120], [10_000, 30, 'sum'], 4)] });
  const store = Store.open(d);
  const a = fx.series[0]!;
  const raw = new Map([...a.raw].filter(([t]) => t >= fx.end - 60_000));
  for (let t = fx.end; t < fx.end + 30_000; t += 1000) {
    store.record(a.handle, 1, t);
    raw.set(t, 1);
  }
  store.consolidate();
  const tier1 = store.query(a.handle, { tier: 1, start: fx.end - 10_000 });
  // The window open at the migration (T0 + 90 s … 100 s) holds the old points and the new ones.
  assert.deepEqual(
    [...tier1.timestamps].map((t) => (t - T0) / 1000),
    [90, 100, 110, 120],
  );
  for (const [i, w] of tier1.timestamps.entries()) {
    const sum = [...raw].filter(([t]) => t >= w && t < w + 10_000).reduce((s, [, v]) => s + v, 0);
    assert.equal(tier1.values[i], sum, `window ${(w - T0) / 1000}`);
  }
  store.close();
});

test('a store that holds series but no points, and one with no series, migrate too', () => {
  const d = dir();
  const s = Store.open(d, { schemas: [layout(4)] });
  s.register('quiet');
  s.close();
  const r = Store.migrate(d, { schemas: [layout(8)] });
  assert.deepEqual([r.series, r.points], [1, 0]);
  const store = Store.open(d);
  store.record(0, 5, T0);
  assert.deepEqual([...store.query(0).values], [5]);
  store.close();
  const empty = dir();
  Store.open(empty, { schemas: [layout(4)] }).close();
  assert.equal(Store.migrate(empty, { schemas: [layout(2)] }).series, 0);
});

test('bad arguments: ERR_RONDO_CONFIG before anything is touched; no store: ERR_RONDO_NOT_FOUND', () => {
  const { d } = storeWith([layout(4)], THREE);
  const files = contents(d);
  const bad: [unknown, unknown, string][] = [
    ['', { schemas: [layout(8)] }, 'dir must be a non-empty path'],
    [d, null, 'options must be an object'],
    [d, {}, 'schemas are required'],
    [d, { schemas: [layout(8)], shemas: 1 }, 'shemas'],
    [d, { schemas: [{ ...layout(8), maxSeries: 0 }] }, 'maxSeries'],
    [d, { schemas: [layout(8)], onProgress: 'yes' }, 'onProgress must be a function'],
  ];
  for (const [where, options, message] of bad)
    throwsCode(
      () => Store.migrate(where as string, options as { schemas: SchemaConfig[] }),
      'ERR_RONDO_CONFIG',
      message,
      message,
    );
  assert.deepEqual(contents(d), files);
  throwsCode(() => Store.migrate(join(d, 'none'), { schemas: [layout(8)] }), 'ERR_RONDO_NOT_FOUND');
});
