// `rondo info`, the top-level help and every command's --help, run as real processes.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { Store } from 'rondo';
import { scratchDirs } from 'rondo-testkit';
import { assertCliError, makeSampleStore, rondo, SAMPLE_START } from './test-fixtures/run.js';

const scratch = scratchDirs('cli-info');
const tmp = scratch();
const store = join(tmp, 'store');
before(() => makeSampleStore(store));

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
    [1000, 3_600_000, 3600, 3600, SAMPLE_START, SAMPLE_START + 3_599_000],
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
  writeFileSync(join(tmp, 'file'), 'x');
  const usage = 'ERR_RONDO_USAGE';
  const cases: [string[], number, string, RegExp][] = [
    [
      ['info', join(tmp, 'absent')],
      1,
      'ERR_RONDO_NOT_FOUND',
      /^no rondo store at .*absent \(the path does not exist\) — /,
    ],
    [['info', join(tmp, 'file')], 1, 'ERR_RONDO_NOT_FOUND', /\(the path is a file, not a store directory\)/],
    [['info', tmp], 1, 'ERR_RONDO_NOT_FOUND', /\(the directory holds no rondo\.json\)/],
    [['info'], 2, usage, /^missing <store> — see rondo info --help$/],
    [['info', store, 'more'], 2, usage, /unexpected argument "more"/],
    [['info', store, '--jsn'], 2, usage, /unknown option --jsn/],
    [['info', store, '--json=yes'], 2, usage, /option --json takes no value/],
    [
      ['info', store, '--series-limit', '0'],
      2,
      usage,
      /--series-limit must be a whole number ≥ 1 or all, got "0"/,
    ],
    [['info', store, '--series-limit', 'lots'], 2, usage, /--series-limit must be a whole number ≥ 1 or all/],
    [['info', store, '--no-series', '--series-limit', '3'], 2, usage, /exclude each other/],
  ];
  for (const [args, exit, code, message] of cases) assertCliError(await rondo(args), exit, code, message);
});

test('info: a long label value is cut with an ellipsis; other rows keep their width', async () => {
  const dir = join(scratch(), 'store');
  const s = Store.open(dir, {
    schemas: [{ name: 's', maxSeries: 4, tiers: [{ interval: '1s', retention: '1m' }] }],
  });
  s.register('cpu', { host: 'web1' });
  s.register('cpu', { host: 'x'.repeat(10_000) });
  // An emoji at the cut is never split in half.
  s.register('🔥'.repeat(50), { k: 'v' });
  s.close();
  const r = await rondo(['info', dir]);
  assert.equal(r.code, 0, r.stderr);
  const longest = Math.max(...r.stdout.split('\n').map((l) => l.length));
  assert.ok(longest < 150, `the longest line has ${longest} characters`);
  assert.match(r.stdout, new RegExp(`^ {7}1  cpu\\{host="${'x'.repeat(39)}…"\\} +s$`, 'm'));
  assert.match(r.stdout, /^ {7}0 {2}cpu\{host="web1"\} +s$/m);
  assert.match(r.stdout, new RegExp(`^ {7}2  ${'🔥'.repeat(39)}…\\{k="v"\\} +s$`, 'mu'));
  assert.doesNotMatch(r.stdout, /[\uD800-\uDBFF](?![\uDC00-\uDFFF])/u, 'no half surrogate pair');
  // --json keeps everything whole.
  const doc = JSON.parse((await rondo(['info', dir, '--json'])).stdout);
  assert.equal(doc.series[1].labels.host.length, 10_000);
});

test('info --no-series and --series-limit', async () => {
  const none = await rondo(['info', store, '--no-series']);
  assert.equal(none.code, 0, none.stderr);
  assert.match(none.stdout, /^series {3}5$/m);
  assert.doesNotMatch(none.stdout, /^series \(/m);
  assert.doesNotMatch(none.stdout, /handle/);
  const two = await rondo(['info', store, '--series-limit', '2']);
  assert.match(
    two.stdout,
    /^series \(5\)\n {2}handle.*\n {7}0 .*\n {7}1 .*\n {2}… and 3 more series \(--series-limit all lists every one\)\n$/m,
  );
  const all = await rondo(['info', store, '--series-limit', 'all']);
  assert.match(all.stdout, /^ {7}4 {2}cpu_usage/m);
  assert.doesNotMatch(all.stdout, /more series/);
  const json = JSON.parse((await rondo(['info', store, '--json', '--series-limit', '2'])).stdout);
  assert.equal(json.series.length, 2);
  assert.equal(json.seriesCount, 5);
  const jsonNone = JSON.parse((await rondo(['info', store, '--json', '--no-series'])).stdout);
  assert.equal(jsonNone.series, undefined);
});

test('the table lists at most 100 series by default', async () => {
  const dir = join(scratch(), 'store');
  const s = Store.open(dir, {
    schemas: [{ name: 's', maxSeries: 128, tiers: [{ interval: '1s', retention: '1m' }] }],
  });
  for (let i = 0; i < 101; i++) s.register('m', { i: String(i) });
  s.close();
  const r = await rondo(['info', dir]);
  assert.match(r.stdout, /^ {6}99 {2}m\{i="99"\}/m);
  assert.doesNotMatch(r.stdout, /^ +100 {2}m/m);
  assert.match(r.stdout, /^ {2}… and 1 more series /m);
  assert.equal(JSON.parse((await rondo(['info', dir, '--json'])).stdout).series.length, 101);
});

test('top-level help lists the commands; no command is a usage error; unknown command', async () => {
  const help = await rondo(['--help']);
  assert.equal(help.code, 0);
  for (const cmd of ['info', 'query', 'bench', 'push', 'migrate', 'serve'])
    assert.match(help.stdout, new RegExp(`^ {2}${cmd} +\\S`, 'm'));
  const none = await rondo([]);
  assert.equal(none.code, 2);
  assert.equal(none.stdout, '', 'a usage error goes to stderr');
  assert.match(none.stderr, /^Usage: rondo <command>/);
  assert.match(help.stdout, /^Usage: rondo <command>/);
  assert.equal(help.stderr, '');
  assertCliError(
    await rondo(['frobnicate']),
    2,
    'ERR_RONDO_USAGE',
    /^unknown command "frobnicate" \(commands: info, query, bench/,
  );
});

test('--version prints the version; extra arguments are a usage error', async () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  for (const flag of ['--version', '-V']) {
    const r = await rondo([flag]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `rondo ${pkg.version} (node ${process.version})\n`);
  }
  assertCliError(await rondo(['--version', 'x']), 2, 'ERR_RONDO_USAGE', /--version takes no arguments/);
});

test('`rondo help <command>` is `rondo <command> --help`', async () => {
  for (const cmd of ['info', 'query', 'bench', 'push', 'migrate', 'serve']) {
    const viaHelp = await rondo(['help', cmd]);
    const viaFlag = await rondo([cmd, '--help']);
    assert.equal(viaHelp.code, 0);
    assert.equal(viaHelp.stdout, viaFlag.stdout);
    assert.match(viaHelp.stdout, new RegExp(`^Usage: rondo ${cmd}`));
  }
  assertCliError(await rondo(['help', 'nope']), 2, 'ERR_RONDO_USAGE', /^unknown command "nope"/);
  assertCliError(await rondo(['help', 'info', 'query']), 2, 'ERR_RONDO_USAGE', /help takes one command name/);
});

test('every command has --help (and -h) with usage, an example and the -h line', async () => {
  for (const cmd of ['info', 'query', 'bench', 'push', 'migrate', 'serve']) {
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
