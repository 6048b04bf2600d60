// Stores of format 1 (series listed in rondo.json; test-data/store-v1, see its README): a writer
// upgrades them in place, keeping handles, points and cursor positions; a reader reads them as
// they are; an upgrade killed midway opens correctly.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { REC_REGISTER } from './catalog/journal.js';
import { type SchemaConfig, Store } from './index.js';
import { OFFSET } from './slab.js';
import { patchBytes, u32 } from './test-fixtures/bytes.js';
import { scratchDirs, T0, throwsCode } from './test-fixtures/helpers.js';
import { journalRecords } from './test-fixtures/lifecycle-common.js';

const V1 = fileURLToPath(new URL('../test-data/store-v1', import.meta.url));
const scratch = scratchDirs('upgrade');

/** The schemas store-v1 was made with (test-data/README.md). */
const V1_SCHEMAS: SchemaConfig[] = [
  {
    name: 'vm',
    match: { kind: 'vm' },
    maxSeries: 4,
    tiers: [
      { interval: '1s', retention: '20s' },
      { interval: '5s', retention: '1m', consolidation: 'avg' },
    ],
  },
  { name: 'rest', maxSeries: 3, tiers: [{ interval: '10s', retention: '100s' }] },
];

/** A fresh copy of store-v1 (never opened in place). */
function copyV1(): string {
  const d = join(scratch(), 'store');
  cpSync(V1, d, { recursive: true });
  return d;
}

/** Every file of a store directory (recursively) with its bytes. */
function files(d: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const e of readdirSync(d, { recursive: true, withFileTypes: true })) {
    if (e.isFile())
      out.set(join(e.parentPath, e.name).slice(d.length), readFileSync(join(e.parentPath, e.name)));
  }
  return out;
}

/** The series of `s` and every point of each, in every tier of its schema. */
function snapshot(s: Store): unknown {
  const tiers = new Map(s.info().schemas.map((x) => [x.name, x.tiers.length]));
  return s.series().map((x) => ({
    ...x,
    tiers: Array.from({ length: tiers.get(x.schema)! }, (_, tier) => {
      const r = s.query(x.handle, { tier });
      return Array.from(r.timestamps, (t, i) => [(t - T0) / 1000, r.values[i]]);
    }),
  }));
}

/** What store-v1 holds, worked out from the program in test-data/README.md. */
const V1_CONTENT = [
  {
    handle: 0,
    name: 'cpu',
    labels: { kind: 'vm', vm: 'a' },
    schema: 'vm',
    type: 'gauge',
    tiers: [
      Array.from({ length: 20 }, (_, k) => [10 + k, 10 + k]),
      [0, 5, 10, 15, 20, 25].map((w) => [w, w + 2]),
    ],
  },
  {
    handle: 1,
    name: 'cpu',
    labels: { kind: 'vm', vm: 'b' },
    schema: 'vm',
    type: 'gauge',
    tiers: [
      [12, 15, 18, 21, 24, 27].map((i) => [i, 100 + i]),
      [
        [0, 101.5],
        [5, 107.5],
        [10, 112],
        [15, 116.5],
        [20, 122.5],
        [25, 127],
      ],
    ],
  },
  {
    handle: 2,
    name: 'mem.used',
    labels: { host: 'x' },
    schema: 'rest',
    type: 'gauge',
    tiers: [
      [
        [0, 4.5],
        [10, 9.5],
        [20, 14.5],
      ],
    ],
  },
];

function metadata(d: string): { version: number; generation?: number; series?: unknown } {
  return JSON.parse(readFileSync(join(d, 'rondo.json'), 'utf8')) as {
    version: number;
    generation?: number;
    series?: unknown;
  };
}

/** Checks that `d` is the upgraded store-v1: format 2, the journal, the same series and points. */
function assertUpgraded(d: string): void {
  const meta = metadata(d);
  assert.deepEqual([meta.version, meta.generation, meta.series], [2, 0, undefined]);
  const { records, end, size } = journalRecords(join(d, 'series.journal'));
  assert.equal(end, size, 'no torn tail');
  assert.deepEqual(
    records.map((r) => (r.type === REC_REGISTER ? [r.handle, r.schema, r.column, r.floor, r.flags] : r)),
    [
      [0, 0, 0, 0, 0],
      [1, 0, 1, 0, 0],
      [2, 1, 0, 0, 0],
    ],
  );
  assert.equal(existsSync(`${join(d, 'series.journal')}.tmp-${process.pid}`), false);
}

test('a writer upgrades a format-1 store in place: same handles, points and cursor positions; then new series', () => {
  const d = copyV1();
  const store = Store.open(d);
  assertUpgraded(d);
  assert.deepEqual(snapshot(store), V1_CONTENT);
  assert.deepEqual([store.info().seriesCount, store.info().retiredCount], [3, 0]);
  // The cursor stopped at the open slot 29 (vm) and at slot 20 (rest): it resumes exactly there.
  store.record(0, 30, T0 + 30_000);
  store.record(1, 130, T0 + 30_000);
  store.record(2, 15, T0 + 30_000);
  const batch = store.drain('prom');
  assert.deepEqual(
    batch.series.map((s) => [
      s.handle,
      Array.from(s.timestamps, (t) => (t - T0) / 1000),
      Array.from(s.values),
    ]),
    [
      [0, [29], [29]],
      [2, [20], [14.5]],
    ],
  );
  batch.commit();
  // New series get handles above the old ones, and the free columns.
  const d4 = store.register('cpu', { kind: 'vm', vm: 'd' });
  const m = store.register('mem.used', { host: 'y' }, { type: 'counter' });
  assert.deepEqual([d4, m], [3, 4]);
  store.record(d4, 1, T0 + 31_000);
  const recs = journalRecords(join(d, 'series.journal')).records;
  assert.deepEqual(
    recs.slice(3).map((r) => (r.type === REC_REGISTER ? [r.handle, r.schema, r.column, r.flags] : r)),
    [
      [3, 0, 2, 0],
      [4, 1, 1, 1],
    ],
  );
  store.retire(1);
  store.close();
  const again = Store.open(d);
  assert.deepEqual(
    again.series().map((s) => [s.handle, s.retired]),
    [
      [0, undefined],
      [1, T0 + 32_000],
      [2, undefined],
      [3, undefined],
      [4, undefined],
    ],
  );
  assert.deepEqual(Array.from(again.query(d4).values), [1]);
  const reader = Store.open(d, { readOnly: true });
  assert.deepEqual(snapshot(reader), snapshot(again));
  reader.close();
  again.close();
});

test('a writer given the schemas (also another retireAfter) upgrades the store and keeps its series', () => {
  for (const retireAfter of [undefined, '1h']) {
    const d = copyV1();
    const schemas = V1_SCHEMAS.map((s) => (retireAfter === undefined ? s : { ...s, retireAfter }));
    const store = Store.open(d, { schemas });
    assertUpgraded(d);
    assert.deepEqual(snapshot(store), V1_CONTENT, `retireAfter ${retireAfter}`);
    assert.equal(store.info().schemas[0]!.retireAfter, retireAfter === undefined ? null : 3_600_000);
    store.close();
    const again = Store.open(d);
    assert.deepEqual(snapshot(again), V1_CONTENT);
    again.close();
  }
});

test('a reader opens a format-1 store as it is, writing nothing', () => {
  const d = copyV1();
  const before = files(d);
  const reader = Store.open(d, { readOnly: true });
  assert.deepEqual(snapshot(reader), V1_CONTENT);
  const info = reader.info();
  assert.deepEqual([info.seriesCount, info.retiredCount, info.writerActive], [3, 0, false]);
  assert.equal(reader.lookup('cpu', { kind: 'vm', vm: 'b' }), 1);
  throwsCode(() => reader.retire(0), 'ERR_RONDO_READ_ONLY');
  const batch = reader.drain('other');
  assert.equal(batch.samples, 27, 'every tier-0 point but the open slots');
  reader.close();
  const after = files(d);
  after.delete('/cursors/other.json');
  after.delete('/cursors/other.lock');
  assert.deepEqual(after, before);
});

test('a reader of a format-1 store follows a format-1 writer adding a series (rondo.json and the header count)', () => {
  const d = copyV1();
  const reader = Store.open(d, { readOnly: true });
  assert.equal(reader.series().length, 3);
  // What rondo 0.1 did to register: clear the column, list the series, raise the count.
  const doc = JSON.parse(readFileSync(join(d, 'rondo.json'), 'utf8')) as { series: unknown[] };
  doc.series.push({ name: 'cpu', labels: { kind: 'vm', vm: 'c' }, schema: 'vm', column: 2 });
  for (const tier of [0, 1]) {
    const slab = join(d, `vm.${tier}.slab`);
    const slots = tier === 0 ? 20 : 12;
    patchBytes(slab, 4096 + slots * 8 * 3, Buffer.from(new Float64Array(slots).fill(Number.NaN).buffer));
  }
  writeFileSync(join(d, 'rondo.json'), JSON.stringify(doc));
  for (const tier of [0, 1]) patchBytes(join(d, `vm.${tier}.slab`), OFFSET.seriesCount, u32(3));
  assert.equal(reader.lookup('cpu', { kind: 'vm', vm: 'c' }), 3);
  assert.deepEqual(
    reader.series().map((x) => x.handle),
    [0, 1, 2, 3],
  );
  assert.deepEqual(Array.from(reader.query(3).values), []);
  assert.deepEqual((snapshot(reader) as unknown[]).slice(0, 3), V1_CONTENT);
  reader.close();
});

test('a reader of a format-1 store is told to reopen once a writer has upgraded it', () => {
  const d = copyV1();
  const reader = Store.open(d, { readOnly: true });
  assert.equal(reader.series().length, 3);
  const writer = Store.open(d);
  writer.register('new');
  throwsCode(() => reader.query(0), 'ERR_RONDO_CLOSED', /upgraded by its writer: open it again/);
  reader.close();
  const again = Store.open(d, { readOnly: true });
  assert.equal(again.lookup('new'), 3);
  again.close();
  writer.close();
});

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync('true');
  assert.equal(r.status, 0);
  return r.pid!;
}

test('an upgrade killed midway opens correctly: journal written but rondo.json still format 1, or a stale temp file', () => {
  // The journal an upgrade writes, taken from an upgraded copy.
  const done = copyV1();
  Store.open(done).close();
  const journal = readFileSync(join(done, 'series.journal'));
  const cases: [string, (d: string) => void][] = [
    ['journal renamed into place', (d) => writeFileSync(join(d, 'series.journal'), journal)],
    ['journal still a temp file', (d) => writeFileSync(join(d, `series.journal.tmp-${deadPid()}`), journal)],
    [
      'half a journal in a temp file',
      (d) => writeFileSync(join(d, `series.journal.tmp-${deadPid()}`), journal.subarray(0, 70)),
    ],
    [
      'a journal from an earlier try, then a temp file',
      (d) => {
        writeFileSync(join(d, 'series.journal'), journal);
        writeFileSync(join(d, `series.journal.tmp-${deadPid()}`), journal.subarray(0, 90));
        writeFileSync(join(d, `rondo.json.tmp-${deadPid()}`), '{"format":');
      },
    ],
    [
      'a torn journal',
      (d) => writeFileSync(join(d, 'series.journal'), journal.subarray(0, journal.length - 5)),
    ],
  ];
  for (const [what, crash] of cases) {
    const d = copyV1();
    crash(d);
    // A reader still reads format 1 from rondo.json, whatever journal lies beside it.
    const reader = Store.open(d, { readOnly: true });
    assert.deepEqual(snapshot(reader), V1_CONTENT, `${what}: reader`);
    reader.close();
    const store = Store.open(d);
    assertUpgraded(d);
    assert.deepEqual(snapshot(store), V1_CONTENT, what);
    assert.equal(store.register('next'), 3, what);
    store.close();
    assert.deepEqual(
      readdirSync(d).filter((n) => n.includes('.tmp-')),
      [],
      `${what}: temp files removed`,
    );
    rmSync(d, { recursive: true });
  }
});
