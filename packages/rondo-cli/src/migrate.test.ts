// `rondo migrate`, run as a real process: a store rewritten into new schemas (points kept, info
// shows the new layout), nothing to do the second time, and its errors: a writer holding the
// store, a schemas file that cannot be read or holds no schemas, a bad command line.
import assert from 'node:assert/strict';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Child, scratchDirs } from 'rondo-testkit';
import { assertCliError, makeSampleStore, POINTS, rondo, SAMPLE_START, WRITER } from './test-fixtures/run.js';

const scratch = scratchDirs('cli-migrate');
const tmp = scratch();
const sample = join(tmp, 'sample');
before(() => makeSampleStore(sample));

/** The sample store's schemas with `web` grown: 16 series, 1s kept for 2h, and a 1h max tier added. */
const NEW_SCHEMAS = [
  { name: 'db', match: { role: 'db' }, maxSeries: 4, tiers: [{ interval: '10s', retention: '1d' }] },
  {
    name: 'web',
    maxSeries: 16,
    tiers: [
      { interval: '1s', retention: '2h' },
      { interval: '1m', retention: '1d', consolidation: 'avg' },
      { interval: '1h', retention: '1w', consolidation: 'max' },
    ],
  },
];

/** Writes `content` (JSON unless a string) to a file in the scratch directory; returns its path. */
function file(name: string, content: unknown): string {
  const path = join(tmp, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** A fresh copy of the sample store (migrate rewrites it). */
function copy(name: string): string {
  const dir = join(tmp, name);
  cpSync(sample, dir, { recursive: true });
  return dir;
}

interface TierDoc {
  interval: number;
  retention: number;
  slots: number;
  slotsUsed: number;
  consolidation: string | null;
}
interface InfoDoc {
  schemas: { name: string; maxSeries: number; series: number; tiers: TierDoc[] }[];
  seriesCount: number;
}

test('migrate rewrites the store into the new schemas; info shows the new layout; points are kept', async () => {
  const dir = copy('grow');
  const schemas = file('grow.json', { schemas: NEW_SCHEMAS });
  const r = await rondo(['migrate', dir, '--schemas', schemas]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '', 'no progress bar when stderr is not a terminal');
  const lines = r.stdout.split('\n');
  assert.match(
    lines[0] ?? '',
    new RegExp(`^migrated ${dir} \\(data generation 1\\): .*schema web: maxSeries 8 → 16`),
  );
  assert.equal(lines[1], '  series   5 series carried over, 0 dropped');
  assert.match(lines[2] ?? '', /^ {2}points {3}[\d,]+ written$/);

  const info = JSON.parse((await rondo(['info', dir, '--json'])).stdout) as InfoDoc;
  assert.equal(info.seriesCount, 5);
  const web = info.schemas.find((s) => s.name === 'web');
  assert.ok(web);
  assert.equal(web.maxSeries, 16);
  assert.deepEqual(
    web.tiers.map((t) => [t.interval, t.retention, t.slots, t.consolidation]),
    [
      [1000, 7_200_000, 7200, null],
      [60_000, 86_400_000, 1440, 'avg'],
      [3_600_000, 604_800_000, 168, 'max'],
    ],
  );
  assert.equal(web.tiers[2]?.slotsUsed, 1, 'the new 1h tier is filled from the finer data');
  const table = await rondo(['info', dir]);
  assert.match(table.stdout, /^schema web {3}match \{\} \(any series\) {3}series 4 of 16$/m);

  // Every point of the 1-second tier is still there, with its value.
  const q = await rondo([
    'query',
    dir,
    'cpu_usage{host="web1"}',
    '--tier',
    '0',
    '--format',
    'json',
    '--start',
    String(SAMPLE_START),
    '--end',
    String(SAMPLE_START + POINTS * 1000),
  ]);
  assert.equal(q.code, 0, q.stderr);
  const points = (JSON.parse(q.stdout) as { series: { points: [number, number][] }[] }).series[0]?.points;
  assert.equal(points?.length, POINTS);
  assert.deepEqual(points?.[10], [SAMPLE_START + 10_000, 10]);

  const again = await rondo(['migrate', dir, '--schemas', schemas]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, `${dir} already has these schemas: nothing to migrate\n`);
});

test('migrate --json prints the MigrationResult; the schemas file may be a bare array', async () => {
  const dir = copy('json');
  const r = await rondo(['migrate', dir, '--schemas', file('array.json', NEW_SCHEMAS), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as {
    changed: boolean;
    generation: number;
    series: number;
    dropped: unknown[];
  };
  assert.equal(doc.changed, true);
  assert.equal(doc.generation, 1);
  assert.equal(doc.series, 5);
  assert.deepEqual(doc.dropped, []);
});

test('migrate: a schemas file that cannot be read or holds no schemas is ERR_RONDO_CONFIG, exit 1', async () => {
  const dir = copy('config');
  const cases: [string, RegExp][] = [
    [join(tmp, 'missing.json'), /^cannot read the schemas in .*missing\.json: ENOENT/],
    [file('broken.json', '{"schemas": ['), /^cannot read the schemas in .*broken\.json: /],
    [
      file('none.json', { tiers: [] }),
      /none\.json holds no schemas: expected an array of schemas or \{ "schemas": \[\.\.\.\] \}$/,
    ],
    [file('null.json', 'null'), /null\.json holds no schemas/],
  ];
  for (const [path, message] of cases)
    assertCliError(await rondo(['migrate', dir, '--schemas', path]), 1, 'ERR_RONDO_CONFIG', message);
  // A schema the library refuses: its message names the field.
  const badTier = [{ name: 'web', maxSeries: 8, tiers: [{ interval: '1s', retention: '1y' }] }];
  assertCliError(
    await rondo(['migrate', dir, '--schemas', file('bad-tier.json', badTier)]),
    1,
    'ERR_RONDO_CONFIG',
    /schema web tier 0 retention: cannot parse duration "1y"/,
  );
  // Nothing was changed.
  const info = JSON.parse((await rondo(['info', dir, '--json'])).stdout) as InfoDoc;
  assert.equal(info.schemas.find((s) => s.name === 'web')?.maxSeries, 8);
});

test('migrate: no --schemas is a usage error; no store is ERR_RONDO_NOT_FOUND', async () => {
  assertCliError(await rondo(['migrate', sample]), 2, 'ERR_RONDO_USAGE', /^missing --schemas FILE\.json/);
  assertCliError(
    await rondo(['migrate', '--schemas', file('x.json', NEW_SCHEMAS)]),
    2,
    'ERR_RONDO_USAGE',
    /<store>/,
  );
  assertCliError(
    await rondo(['migrate', join(tmp, 'nowhere'), '--schemas', file('y.json', NEW_SCHEMAS)]),
    1,
    'ERR_RONDO_NOT_FOUND',
    /check the path/,
  );
});

let writer: Child | undefined;
after(async () => {
  await writer?.finish();
});

test('migrate refuses a store a writer holds (ERR_RONDO_LOCKED, exit 1) and leaves it as it was', async () => {
  const dir = join(tmp, 'live');
  const w = new Child(WRITER, [dir]);
  writer = w;
  assert.equal(await w.waitFor('ready'), `ready ${w.pid}`);
  const r = await rondo(['migrate', dir, '--schemas', file('live.json', NEW_SCHEMAS)]);
  assertCliError(
    r,
    1,
    'ERR_RONDO_LOCKED',
    new RegExp(
      `another writer \\(pid ${w.pid}\\) holds the store.* — stop the program that writes the store, then migrate$`,
    ),
  );
  const info = JSON.parse((await rondo(['info', dir, '--json'])).stdout) as InfoDoc & {
    writerActive: boolean;
  };
  assert.equal(info.writerActive, true);
  assert.deepEqual(
    info.schemas.map((s) => s.name),
    ['live'],
  );
  assert.equal(w.proc.exitCode, null, 'the writer is still running');
  const { code } = await w.finish();
  assert.equal(code, 0, w.stderr);
});
