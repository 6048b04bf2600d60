// Store.migrate, layout changes: for each kind of change the issue lists, every series' points in
// every tier of the new layout are compared with a reference computed from the raw points
// recorded and the old coarse tiers (test-fixtures/migrate-helpers.ts), and handles are kept.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Consolidation, SchemaConfig } from './index.js';
import { Store } from './store.js';
import { scratchDirs } from './test-fixtures/helpers.js';
import {
  expectMigrated,
  type Fixture,
  fill,
  route,
  type SeriesPlan,
  type Snapshot,
  samePoints,
  seriesRows,
  snapshot,
} from './test-fixtures/migrate-helpers.js';

const dir = scratchDirs('migrate');

type TierSpec = [interval: number, slots: number, fn?: Consolidation, xff?: number];

/** A schema from [interval s, slots, fn, xff] tuples. */
function schema(
  name: string,
  match: Record<string, string>,
  maxSeries: number,
  tiers: TierSpec[],
): SchemaConfig {
  return {
    name,
    match,
    maxSeries,
    tiers: tiers.map(([i, slots, fn, xff]) => ({
      interval: i * 1000,
      retention: i * 1000 * slots,
      ...(fn === undefined ? {} : { consolidation: fn, xff: xff ?? 0 }),
    })),
  };
}

const WEB: TierSpec[] = [
  [1, 120],
  [10, 20, 'avg'],
  [60, 10, 'max'],
];
const REST: TierSpec[] = [
  [1, 60],
  [20, 30, 'sum'],
];
/** The old layout: web (tier 0 reaches 120 s back, tier 1 200 s, tier 2 all 400 s) and a catch-all. */
const OLD: SchemaConfig[] = [schema('web', { job: 'web' }, 4, WEB), schema('rest', {}, 4, REST)];

const PLAN: SeriesPlan[] = [
  { name: 'cpu', labels: { job: 'web', host: 'a' } },
  { name: 'cpu', labels: { job: 'web', host: 'b' } },
  { name: 'requests', labels: { job: 'web' }, counter: true },
  { name: 'mem', labels: { host: 'a' } },
  { name: 'disk', labels: { host: 'a', kind: 'ssd' } },
  { name: 'gone', labels: { host: 'z' }, retireAfter: 350 },
];
const SECONDS = 400;

/** A store in the old layout with PLAN recorded; its snapshot taken before the migration. */
function oldStore(): { d: string; fx: Fixture; before: Snapshot; rows: string[] } {
  const d = dir();
  const store = Store.open(d, { schemas: OLD });
  const fx = fill(store, PLAN, SECONDS);
  const before = snapshot(store);
  const rows = seriesRows(store);
  store.close();
  return { d, fx, before, rows };
}

/**
 * Migrates a fresh old store to `schemas` and checks every series of every tier against the
 * reference; returns the new snapshot, the old one and the result.
 */
function migrateAndCheck(schemas: SchemaConfig[]) {
  const { d, fx, before, rows } = oldStore();
  const result = Store.migrate(d, { schemas });
  const store = Store.open(d, { readOnly: true });
  const after = snapshot(store);
  const newRows = seriesRows(store);
  store.close();
  for (const x of fx.series) {
    const oldSchema = route(OLD, x.labels)!;
    const newSchema = route(schemas, x.labels);
    if (newSchema === undefined) {
      assert.equal(after.has(x.handle), false, `${x.name}: no schema matches, dropped`);
      continue;
    }
    const got = after.get(x.handle);
    assert.ok(got, `series ${x.handle} (${x.name}) kept under its handle`);
    const want = expectMigrated(x, oldSchema, before.get(x.handle)!, newSchema, fx.end);
    assert.equal(got.length, want.length);
    for (const [k, pts] of want.entries())
      samePoints(got[k]!, pts, `${x.name}${JSON.stringify(x.labels)} tier ${k}`);
  }
  return { d, fx, before, after, rows, newRows, result };
}

/** Asserts that every series kept every point of every tier (same tiers before and after). */
function keptEverything(before: Snapshot, after: Snapshot): void {
  for (const [h, tiers] of before)
    for (const [k, pts] of tiers.entries()) samePoints(after.get(h)![k]!, pts, `handle ${h} tier ${k}`);
}

test('more series slots: every point of every tier is kept, handles and series unchanged', () => {
  const schemas = [schema('web', { job: 'web' }, 8, WEB), schema('rest', {}, 16, REST)];
  const { before, after, rows, newRows, result } = migrateAndCheck(schemas);
  keptEverything(before, after);
  assert.deepEqual(newRows, rows);
  assert.equal(result.changed, true);
  assert.equal(result.summary, 'schema web: maxSeries 4 → 8; schema rest: maxSeries 4 → 16');
  assert.equal(result.series, PLAN.length);
  assert.deepEqual(result.dropped, []);
  assert.equal(result.generation, 1);
  let points = 0;
  for (const tiers of after.values()) for (const t of tiers) points += t.size;
  assert.equal(result.points, points, 'points = every point and window written');
});

test('fewer series slots that still fit the series: everything is kept', () => {
  const schemas = [schema('web', { job: 'web' }, 3, WEB), schema('rest', {}, 3, REST)];
  const { before, after, rows, newRows } = migrateAndCheck(schemas);
  keptEverything(before, after);
  assert.deepEqual(newRows, rows);
});

test('longer retention keeps everything; the longer rings are not filled with invented data', () => {
  const schemas = [
    schema('web', { job: 'web' }, 4, [
      [1, 300],
      [10, 40, 'avg'],
      [60, 30, 'max'],
    ]),
    schema('rest', {}, 4, [
      [1, 200],
      [20, 60, 'sum'],
    ]),
  ];
  const { before, after } = migrateAndCheck(schemas);
  keptEverything(before, after);
  // Same points, no more: 300 s of tier 0 cannot be made up from 120 s of raw points.
  for (const [h, tiers] of after)
    for (const [k, pts] of tiers.entries())
      assert.equal(pts.size, before.get(h)![k]!.size, `handle ${h} tier ${k}`);
});

test('shorter retention keeps the newest points of each tier', () => {
  const schemas = [
    schema('web', { job: 'web' }, 4, [
      [1, 30],
      [10, 12, 'avg'],
      [60, 5, 'max'],
    ]),
    schema('rest', {}, 4, [
      [1, 40],
      [20, 3, 'sum'],
    ]),
  ];
  const { before, after, fx } = migrateAndCheck(schemas);
  const cpu = fx.series[0]!.handle;
  const newest = [...before.get(cpu)![0]!.keys()].at(-1)!;
  assert.deepEqual(
    [...after.get(cpu)![0]!.keys()],
    [...before.get(cpu)![0]!.keys()].filter((t) => t > newest - 30_000),
  );
  // Every point kept is the old one.
  for (const [h, tiers] of after)
    for (const [k, pts] of tiers.entries())
      for (const [t, v] of pts) assert.equal(v, before.get(h)![k]!.get(t), `handle ${h} tier ${k} at ${t}`);
});

test('tiers added: a new coarse tier is filled by consolidating the finest data available', () => {
  const schemas = [
    schema('web', { job: 'web' }, 4, [...WEB, [300, 4, 'avg']]),
    // rest's new 60 s tier: from the raw points where tier 0 reaches, else the old 20 s sums, maxed.
    schema('rest', {}, 4, [...REST, [60, 20, 'max']]),
  ];
  const { before, after, result, fx } = migrateAndCheck(schemas);
  assert.equal(
    result.summary,
    'schema web: tier 3 added (5m/20m avg); schema rest: tier 2 added (1m/20m max)',
  );
  for (const [h, tiers] of before)
    for (const k of tiers.keys()) samePoints(after.get(h)![k]!, tiers[k]!, `${h}/${k}`);
  // The new tier has windows that tier 0 alone could not give (the raw points reach 60 s back).
  const mem = fx.series[3]!.handle;
  assert.ok(after.get(mem)![2]!.size >= 6, `rest tier 2 has ${after.get(mem)![2]!.size} windows`);
});

test('a middle tier removed: the coarse tier keeps its old windows, and is the new cascade where raw points reach', () => {
  const schemas = [schema('web', { job: 'web' }, 4, [WEB[0]!, WEB[2]!]), schema('rest', {}, 4, [REST[0]!])];
  const { before, after, result } = migrateAndCheck(schemas);
  assert.equal(
    result.summary,
    'schema web: tier 1 10s/200s avg → 1m/10m max, tier 2 removed (1m/10m max); schema rest: tier 1 removed (20s/10m sum)',
  );
  for (const [h, tiers] of after) {
    samePoints(tiers[0]!, before.get(h)![0]!, `${h} tier 0`);
    if (tiers.length === 1) continue;
    // Before tier 0's reach: the old 1 m windows (max of 10 s averages) as they were; within it:
    // the max of the raw points, as [1 s, 1 m max] folds them (the reference above checks both).
    const reach = Math.min(...before.get(h)![0]!.keys());
    const old = new Map([...before.get(h)![2]!].filter(([t]) => t < reach));
    samePoints(new Map([...tiers[1]!].filter(([t]) => t < reach)), old, `${h} old windows`);
    assert.ok(old.size >= 3, `${old.size} old windows checked`);
  }
});

test('tier intervals changed: the coarser windows fold the finest source that holds them whole', () => {
  const schemas = [
    schema('web', { job: 'web' }, 4, [
      [1, 120],
      [30, 10, 'avg'],
      [120, 5, 'max'],
    ]),
    schema('rest', {}, 4, [
      [1, 60],
      [30, 20, 'sum'],
    ]),
  ];
  migrateAndCheck(schemas);
});

test('consolidation functions changed (and xff): windows from raw points use the new function', () => {
  const schemas = [
    schema('web', { job: 'web' }, 4, [
      [1, 120],
      [10, 20, 'min', 0.5],
      [60, 10, 'avg'],
    ]),
    schema('rest', {}, 4, [
      [1, 60],
      [20, 30, 'count'],
    ]),
  ];
  const { before, after, fx } = migrateAndCheck(schemas);
  // The counter keeps `last` whatever the schema says.
  const req = fx.series[2]!.handle;
  for (const [t, v] of after.get(req)![1]!) assert.equal(v, before.get(req)![1]!.get(t), `counter at ${t}`);
  // Where tier 0 has gone, the old windows' values are folded with the new function (one each).
  const mem = fx.series[3]!.handle;
  const oldest0 = Math.min(...before.get(mem)![0]!.keys());
  const counts = [...after.get(mem)![1]!].filter(([t]) => t < oldest0 - 20_000).map(([, v]) => v);
  assert.ok(counts.length > 5 && counts.every((c) => c === 1), `count of the old sums: ${counts}`);
});

test('tier 0 interval changed: each new slot takes the last old point in it', () => {
  const schemas = [
    schema('web', { job: 'web' }, 4, [
      [2, 60],
      [10, 20, 'avg'],
      [60, 10, 'max'],
    ]),
    schema('rest', {}, 4, [
      [5, 20],
      [20, 30, 'sum'],
    ]),
  ];
  const { after, fx } = migrateAndCheck(schemas);
  const cpu = fx.series[0]!;
  const t = [...after.get(cpu.handle)![0]!.keys()].at(-2)!;
  assert.equal(after.get(cpu.handle)![0]!.get(t), cpu.raw.get(t + 1000) ?? cpu.raw.get(t));
});

test('re-routed by new matchers; a schema added, one removed (its series dropped, reported)', () => {
  const schemas = [
    schema('hostA', { host: 'a' }, 4, [
      [1, 120],
      [10, 20, 'avg'],
    ]),
    schema('web', { job: 'web' }, 4, WEB),
  ];
  const { before, after, newRows, result, fx } = migrateAndCheck(schemas);
  assert.equal(result.summary, 'schema hostA added; schema rest removed');
  assert.deepEqual(
    newRows.map((r) => r.split(' ').slice(0, 3).join(' ')),
    [
      '0 cpu{"host":"a","job":"web"} hostA',
      '1 cpu{"host":"b","job":"web"} web',
      '2 requests{"job":"web"} web',
      '3 mem{"host":"a"} hostA',
      '4 disk{"host":"a","kind":"ssd"} hostA',
    ],
  );
  assert.deepEqual(
    result.dropped.map((x) => [x.handle, x.name, x.reason]),
    [[5, 'gone', 'no matching schema']],
  );
  assert.equal(result.series, 5);
  // mem moved from rest (60 s of 1 s points) to hostA: tier 0 is the same raw points.
  samePoints(after.get(fx.series[3]!.handle)![0]!, before.get(fx.series[3]!.handle)![0]!, 'mem tier 0');
});

test('schemas reordered: series are routed by the new order (the catch-all first takes them all)', () => {
  const schemas = [schema('rest', {}, 8, REST), schema('web', { job: 'web' }, 4, WEB)];
  const { newRows, result, before, after, fx } = migrateAndCheck(schemas);
  assert.equal(result.summary, 'schema rest: maxSeries 4 → 8');
  assert.ok(newRows.every((r) => r.includes(' rest ')));
  // cpu moved from web (120 s of tier 0) to rest (60 s): the newest 60 s are kept.
  const cpu = fx.series[0]!.handle;
  assert.equal(
    after.get(cpu)![0]!.size,
    [...before.get(cpu)![0]!.keys()].filter((t) => t >= fx.end - 60_000).length,
  );
});

test('schemas only reordered (disjoint matchers): the summary says so and everything is kept', () => {
  const a = schema('a', { host: 'a' }, 4, [[1, 60]]);
  const b = schema('b', {}, 4, [[1, 60]]);
  const d = dir();
  const store = Store.open(d, { schemas: [a, { ...b, match: { host: 'b' } }] });
  const fx = fill(
    store,
    [
      { name: 'x', labels: { host: 'a' } },
      { name: 'y', labels: { host: 'b' } },
    ],
    30,
  );
  const before = snapshot(store);
  store.close();
  const result = Store.migrate(d, { schemas: [{ ...b, match: { host: 'b' } }, a] });
  assert.equal(result.summary, 'schemas reordered (a, b → b, a)');
  const again = Store.open(d);
  assert.deepEqual(snapshot(again), before);
  assert.deepEqual(
    again.series().map((s) => [s.handle, s.schema]),
    fx.series.map((x) => [x.handle, x.labels['host']]),
  );
  again.close();
});

test('a schema renamed: its series and all their points move to the new name', () => {
  const schemas = [schema('www', { job: 'web' }, 4, WEB), schema('rest', {}, 4, REST)];
  const { before, after, newRows, result } = migrateAndCheck(schemas);
  keptEverything(before, after);
  assert.equal(result.summary, 'schema www added; schema web removed');
  assert.equal(newRows.filter((r) => r.includes(' www ')).length, 3);
});
