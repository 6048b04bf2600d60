// `rondo info`, the top-level help and every command's --help, run as real processes.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeSampleStore, rondo, T0, tempDir } from './test-fixtures/run.js';

const tmp = tempDir('rondo-cli-info-');
const store = join(tmp.dir, 'store');
before(() => makeSampleStore(store));
after(() => tmp.cleanup());

test('info: schemas, tiers, series, bytes and writer, aligned for people', async () => {
  const r = await rondo(['info', store]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const out = r.stdout;
  assert.match(out, /^store {4}.*store$/m);
  assert.match(out, /^writer {3}none$/m);
  assert.match(out, /^series {3}5$/m);
  assert.match(out, /^on disk {2}\d+\.\d KiB$/m);
  assert.match(out, /^schema db {3}match \{role="db"\} {3}series 1 of 4$/m);
  assert.match(out, /^schema web {3}match \{\} \(any series\) {3}series 4 of 8$/m);
  assert.match(
    out,
    /^ {2}tier {2}interval {2}retention {2}consolidate {2}xff {2}slots {2}used {7}size {2}oldest {16}newest$/m,
  );
  assert.match(
    out,
    /^ {5}0 {2}1s {8}1h {9}- {14}- {3}3600 {2}3600 {2}\d{3}\.\d KiB {2}2024-05-01T12:00:00Z {2}2024-05-01T12:59:59Z$/m,
  );
  assert.match(
    out,
    /^ {5}1 {2}1m {8}1d {9}avg {12}0 {3}1440 {4}60 .* {2}2024-05-01T12:00:00Z {2}2024-05-01T12:59:00Z$/m,
  );
  assert.match(out, /^ {5}0 {2}10s {7}1d {9}- .* 8640 {3}360 /m);
  assert.match(out, /^series \(5\)$/m);
  assert.match(out, /^ {7}3 {2}http\.requests\{host="web1",method="GET"\} {2}web$/m);
  assert.match(out, /^ {7}4 {2}cpu_usage\{host="db1",role="db"\} {10}db$/m);
});

test('info --json: one document with StoreInfo, the series and the writer', async () => {
  const r = await rondo(['info', store, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.seriesCount, 5);
  assert.equal(doc.writerActive, false);
  assert.equal(doc.writerPid, null);
  assert.equal(doc.readOnly, true);
  assert.deepEqual(
    doc.schemas.map((s: { name: string }) => s.name),
    ['db', 'web'],
  );
  const t0 = doc.schemas[1].tiers[0];
  assert.deepEqual(
    [t0.interval, t0.retention, t0.slots, t0.slotsUsed, t0.oldest, t0.newest],
    [1000, 3_600_000, 3600, 3600, T0, T0 + 3_599_000],
  );
  assert.equal(doc.schemas[1].tiers[1].consolidation, 'avg');
  assert.deepEqual(doc.series[3], {
    handle: 3,
    name: 'http.requests',
    labels: { host: 'web1', method: 'GET' },
    schema: 'web',
    type: 'gauge',
  });
  const sum = doc.schemas
    .flatMap((s: { tiers: { bytes: number }[] }) => s.tiers)
    .reduce((a: number, t: { bytes: number }) => a + t.bytes, 0);
  assert.ok(doc.totalBytes > sum, 'slabs plus rondo.json');
});

test('info errors: missing store, a file, a directory that is not a store, usage', async () => {
  writeFileSync(join(tmp.dir, 'file'), 'x');
  const cases: [string[], number, RegExp][] = [
    [
      ['info', join(tmp.dir, 'absent')],
      1,
      /^rondo: ERR_RONDO_NOT_FOUND: no rondo store at .*absent \(the path does not exist\) — /,
    ],
    [['info', join(tmp.dir, 'file')], 1, /\(the path is a file, not a store directory\)/],
    [['info', tmp.dir], 1, /\(the directory holds no rondo\.json\)/],
    [['info'], 2, /^rondo: ERR_RONDO_USAGE: missing <store> — see rondo info --help$/],
    [['info', store, 'more'], 2, /unexpected argument "more"/],
    [['info', store, '--jsn'], 2, /unknown option --jsn/],
    [['info', store, '--json=yes'], 2, /option --json takes no value/],
  ];
  for (const [args, code, message] of cases) {
    const r = await rondo(args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr.trimEnd(), message);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1);
    assert.equal(r.stdout, '');
  }
});

test('top-level help lists the commands; no command is a usage error; unknown command', async () => {
  const help = await rondo(['--help']);
  assert.equal(help.code, 0);
  for (const cmd of ['info', 'query', 'bench', 'push'])
    assert.match(help.stdout, new RegExp(`^ {2}${cmd} +\\S`, 'm'));
  const none = await rondo([]);
  assert.equal(none.code, 2);
  assert.equal(none.stdout, '', 'a usage error goes to stderr');
  assert.match(none.stderr, /^Usage: rondo <command>/);
  assert.match(help.stdout, /^Usage: rondo <command>/);
  assert.equal(help.stderr, '');
  const unknown = await rondo(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(
    unknown.stderr,
    /^rondo: ERR_RONDO_USAGE: unknown command "frobnicate" \(commands: info, query, bench/,
  );
});

test('every command has --help (and -h) with usage, an example and the -h line', async () => {
  for (const cmd of ['info', 'query', 'bench', 'push']) {
    for (const flag of ['--help', '-h']) {
      const r = await rondo([cmd, flag]);
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`^Usage: rondo ${cmd}`));
      assert.match(r.stdout, new RegExp(`Examples?:\\n {2}rondo ${cmd} `));
      assert.match(r.stdout, /^ {2}-h, --help +show this help$/m);
      // The help names every column it prints.
      if (cmd === 'info') assert.match(r.stdout, /consolidation, xff, slots/);
    }
  }
});
