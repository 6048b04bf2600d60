// `rondo query` run as a real process against a sample store: selectors, windows, tiers,
// formats, the chart, and early-closed output.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  BIN,
  hasScript,
  makeSampleStore,
  POINTS,
  rondo,
  rondoOnTty,
  T0,
  tempDir,
} from './test-fixtures/run.js';

interface JsonSeries {
  name: string;
  labels: Record<string, string>;
  tier: number;
  points: [number, number][];
}

const tmp = tempDir('rondo-cli-query-');
const store = join(tmp.dir, 'store');
before(() => makeSampleStore(store));
after(() => tmp.cleanup());

async function json(...args: string[]): Promise<JsonSeries[]> {
  const r = await rondo(['query', store, ...args, '--format', 'json']);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  const doc = JSON.parse(r.stdout) as { series: JsonSeries[] };
  assert.deepEqual(Object.keys(doc), ['series']);
  return doc.series;
}

/** ANSI escapes made visible, so regexes need no control characters. */
const vis = (s: string): string => s.replaceAll('\u001b', '<ESC>');

const ids = (series: JsonSeries[]): string[] =>
  series.map((s) => `${s.name}${JSON.stringify(s.labels)}`).sort();

describe('selectors', () => {
  test('a bare name matches every series of that name, in every schema', async () => {
    assert.deepEqual(ids(await json('cpu_usage')), [
      'cpu_usage{"host":"db1","role":"db"}',
      'cpu_usage{"host":"web1"}',
      'cpu_usage{"host":"web2"}',
    ]);
  });

  test('= on a label, with or without a name', async () => {
    assert.deepEqual(ids(await json('cpu_usage{host="web1"}')), ['cpu_usage{"host":"web1"}']);
    assert.deepEqual(ids(await json('{host="web1"}')), [
      'cpu_usage{"host":"web1"}',
      'http.requests{"host":"web1","method":"GET"}',
      'mem_bytes{"host":"web1"}',
    ]);
  });

  test('!=, =~ (anchored) and !~; a missing label counts as ""', async () => {
    assert.deepEqual(ids(await json('cpu_usage{host!="web1"}')), [
      'cpu_usage{"host":"db1","role":"db"}',
      'cpu_usage{"host":"web2"}',
    ]);
    assert.deepEqual(ids(await json('cpu_usage{host=~"web.*"}')), [
      'cpu_usage{"host":"web1"}',
      'cpu_usage{"host":"web2"}',
    ]);
    assert.deepEqual(ids(await json('{host!~"web.*"}')), ['cpu_usage{"host":"db1","role":"db"}']);
    assert.deepEqual(ids(await json('cpu_usage{role=""}')), [
      'cpu_usage{"host":"web1"}',
      'cpu_usage{"host":"web2"}',
    ]);
    // Anchored: "web" alone matches no host (all are web1, web2, db1).
    const r = await rondo(['query', store, '{host=~"web"}']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ERR_RONDO_NO_MATCH/);
  });

  test('dotted names: bare, quoted (Prometheus 3) and by __name__', async () => {
    const want = ['http.requests{"host":"web1","method":"GET"}'];
    assert.deepEqual(ids(await json('http.requests')), want);
    assert.deepEqual(ids(await json('{"http.requests", method="GET"}')), want);
    assert.deepEqual(ids(await json('{__name__=~"http\\..*"}')), want);
  });

  test('{} selects every series', async () => {
    assert.equal((await json('{}')).length, 5);
  });
});

describe('time window and tiers', () => {
  test('the default 1h counts back from the newest point, not the wall clock', async () => {
    const [s] = await json('cpu_usage{host="web1"}');
    assert.equal(s!.tier, 0);
    assert.equal(s!.points.length, POINTS);
    assert.deepEqual(s!.points[0], [T0, 0]);
    assert.deepEqual(s!.points.at(-1), [T0 + (POINTS - 1) * 1000, POINTS - 1]);
  });

  test('--range 30s: the last 30 points', async () => {
    const [s] = await json('cpu_usage{host="web1"}', '--range', '30s');
    assert.deepEqual(
      s!.points.map((p) => p[1]),
      Array.from({ length: 30 }, (_, i) => POINTS - 30 + i),
    );
  });

  test('--start/--end in RFC 3339 (with an offset) and epoch ms; end is exclusive', async () => {
    const a = await json(
      'mem_bytes',
      '--start',
      '2024-05-01T14:00:10+02:00',
      '--end',
      '2024-05-01T12:00:13Z',
    );
    assert.deepEqual(a[0]!.points, [
      [T0 + 10_000, 2 ** 30],
      [T0 + 11_000, 2 ** 30],
      [T0 + 12_000, 2 ** 30],
    ]);
    const b = await json('mem_bytes', '--start', String(T0 + 10_000), '--end', String(T0 + 13_000));
    assert.deepEqual(b, a);
  });

  test('--end alone: --range counts back from it', async () => {
    const [s] = await json('cpu_usage{host="web1"}', '--end', '2024-05-01T12:01:00Z', '--range', '5s');
    assert.deepEqual(
      s!.points.map((p) => p[1]),
      [55, 56, 57, 58, 59],
    );
  });

  test('--tier 1 reads the consolidated tier; auto picks it when tier 0 does not reach back', async () => {
    const [fixed] = await json('cpu_usage{host="web1"}', '--range', 'all', '--tier', '1');
    assert.equal(fixed!.tier, 1);
    assert.equal(fixed!.points.length, 60);
    assert.deepEqual(fixed!.points[0], [T0, 29.5]); // avg of 0..59
    const [auto] = await json('cpu_usage{host="web1"}', '--start', '2024-04-30T13:00:00Z');
    assert.equal(auto!.tier, 1);
    const [fine] = await json('cpu_usage{host="web1"}', '--start', '2024-05-01T12:30:00Z');
    assert.equal(fine!.tier, 0);
    assert.equal(fine!.points.length, 1800);
  });

  test('a tier the schema does not have is a runtime error naming the tiers', async () => {
    const r = await rondo(['query', store, 'cpu_usage', '--tier', '1']);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^rondo: ERR_RONDO_INVALID_TIER: .*tier 1 does not exist \(schema db has tiers 0\.\.0/,
    );
    assert.equal(r.stdout, '');
  });

  test('a window with no points gives empty series, not an error', async () => {
    const s = await json('cpu_usage{host="web2"}', '--start', '2020-01-01', '--end', '2020-01-02');
    assert.deepEqual(s[0]!.points, []);
  });
});

describe('formats', () => {
  test('csv is the default when piped: header, RFC 3339 time, one column per label key', async () => {
    const r = await rondo(['query', store, '{host=~"web1|db1"}', '--range', '10s']);
    assert.equal(r.code, 0);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'time,name,host,method,role,value');
    assert.ok(lines.includes('2024-05-01T12:59:59Z,cpu_usage,web1,,,3599'));
    assert.ok(lines.includes('2024-05-01T12:59:50Z,cpu_usage,db1,,db,7.25'));
    assert.ok(lines.includes('2024-05-01T12:59:51Z,http.requests,web1,GET,,1795.5'));
    assert.equal(lines.length, 1 + 10 * 3 + 1);
  });

  test('table: a heading per series and aligned time/value columns', async () => {
    const r = await rondo(['query', store, 'cpu_usage{host="web2"}', '--range', '3s', '--format', 'table']);
    assert.equal(r.code, 0);
    assert.equal(
      r.stdout,
      [
        'cpu_usage{host="web2"}   tier 0 (1s)   3 points',
        '  time                  value',
        '  2024-05-01T12:59:57Z   4597',
        '  2024-05-01T12:59:58Z   4598',
        '  2024-05-01T12:59:59Z   4599',
        '',
      ].join('\n'),
    );
  });

  test('table is the default on a terminal', { skip: !hasScript && 'needs util-linux script' }, () => {
    const r = rondoOnTty(['query', store, 'mem_bytes', '--range', '2s']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /mem_bytes\{host="web1"\}\s+tier 0 \(1s\)\s+2 points/);
    assert.match(r.stdout, /2024-05-01T12:59:59Z\s+1073741824/);
  });
});

describe('--plot', () => {
  test('axes, one glyph per series, legend; no colour when piped', async () => {
    const r = await rondo(['query', store, 'cpu_usage{host=~"web.*"}', '--range', '10m', '--plot']);
    assert.equal(r.code, 0);
    const out = r.stdout;
    assert.doesNotMatch(vis(out), /<ESC>\[/);
    assert.match(out, /^ *5000 ┤/m); // y ticks are round numbers around 3000..4599
    assert.match(out, /^ *3000 ┤/m);
    assert.match(out, /└┬?─+/);
    assert.match(out, /^ +12:50 +12:52 +12:54 +12:56 +12:58$/m); // round time ticks
    assert.match(out, /2024-05-01T12:50:00Z → 2024-05-01T13:00:00Z \(UTC\)/);
    assert.match(out, /^ {2}\* cpu_usage\{host="web1"\} {2}\(tier 0, 1s, 600 points\)$/m);
    assert.match(out, /^ {2}\+ cpu_usage\{host="web2"\} {2}\(tier 0, 1s, 600 points\)$/m);
    const rows = out.split('\n').filter((l) => /[┤│]/.test(l));
    assert.ok(rows.some((l) => l.includes('*')) && rows.some((l) => l.includes('+')));
    // web2 (1000 above web1) is drawn in higher rows than web1.
    const firstRow = (g: string): number =>
      rows.findIndex(
        (l) => l.slice(l.indexOf('┤') + 1).includes(g) || l.slice(l.indexOf('│') + 1).includes(g),
      );
    assert.ok(firstRow('+') < firstRow('*'));
  });

  test('colour with FORCE_COLOR or on a terminal; NO_COLOR wins', {
    skip: !hasScript && 'needs util-linux script',
  }, async () => {
    const forced = await rondo(['query', store, 'cpu_usage', '--plot'], { FORCE_COLOR: '1' });
    assert.match(vis(forced.stdout), /<ESC>\[32m\*+<ESC>\[0m/);
    const tty = rondoOnTty(['query', store, 'cpu_usage', '--plot']);
    assert.equal(tty.code, 0);
    assert.match(vis(tty.stdout), /<ESC>\[33m\++<ESC>\[0m/);
    const plain = rondoOnTty(['query', store, 'cpu_usage', '--plot'], { NO_COLOR: '1' });
    assert.doesNotMatch(vis(plain.stdout), /<ESC>\[3/);
  });
});

describe('errors and exit codes', () => {
  const cases: [string, string[], number, RegExp][] = [
    [
      'missing store',
      ['query', join(tmp.dir, 'nope'), 'x'],
      1,
      /^rondo: ERR_RONDO_NOT_FOUND: no rondo store at .*nope \(the path does not exist\) — check the path/,
    ],
    [
      'nothing matches',
      ['query', store, 'disk_free'],
      1,
      /^rondo: ERR_RONDO_NO_MATCH: no series matches disk_free in .* — the store's 5 series are named cpu_usage, mem_bytes, http\.requests/,
    ],
    [
      'bad selector',
      ['query', store, 'cpu{host="a"'],
      2,
      /^rondo: ERR_RONDO_USAGE: bad selector .*: expected , or \} at position 13 — see rondo query --help/,
    ],
    ['bad regex', ['query', store, '{host=~"("}'], 2, /^rondo: ERR_RONDO_USAGE: bad regex "\(" for host/],
    [
      'bad --range',
      ['query', store, 'cpu_usage', '--range', '1 hour'],
      2,
      /^rondo: ERR_RONDO_USAGE: cannot parse --range "1 hour"/,
    ],
    [
      'bad --start',
      ['query', store, 'cpu_usage', '--start', 'yesterday'],
      2,
      /^rondo: ERR_RONDO_USAGE: cannot parse --start "yesterday" \(use RFC 3339/,
    ],
    [
      'impossible date',
      ['query', store, 'cpu_usage', '--end', '2024-02-30T00:00:00Z'],
      2,
      /cannot parse --end "2024-02-30T00:00:00Z"/,
    ],
    [
      'start after end',
      ['query', store, 'cpu_usage', '--start', '2024-05-02', '--end', '2024-05-01'],
      2,
      /--start \(2024-05-02T00:00:00Z\) must be before --end/,
    ],
    [
      'bad --tier',
      ['query', store, 'cpu_usage', '--tier', 'fine'],
      2,
      /--tier must be auto or a tier number/,
    ],
    [
      'bad --format',
      ['query', store, 'cpu_usage', '--format', 'xml'],
      2,
      /--format must be table, csv or json, got "xml"/,
    ],
    [
      '--plot with --format',
      ['query', store, 'cpu_usage', '--plot', '--format', 'csv'],
      2,
      /--plot draws a chart/,
    ],
    [
      'unknown option',
      ['query', store, 'cpu_usage', '--since', '1h'],
      2,
      /^rondo: ERR_RONDO_USAGE: unknown option --since — see rondo query --help/,
    ],
    ['option without value', ['query', store, 'cpu_usage', '--range'], 2, /option --range needs a value/],
    // A negative value after a space gets the same message as with `=` (parseArgs calls it ambiguous).
    ...(['--range -1h', '--range=-1h'] as const).map((a): [string, string[], number, RegExp] => [
      a,
      ['query', store, 'cpu_usage', ...a.split(/[ =]/)],
      2,
      /^rondo: ERR_RONDO_USAGE: --range -1h: a negative duration is not allowed \(.*--range 1h\)/,
    ]),
    ...(['--start -5', '--start=-5'] as const).map((a): [string, string[], number, RegExp] => [
      a,
      ['query', store, 'cpu_usage', ...a.split(/[ =]/)],
      2,
      /^rondo: ERR_RONDO_USAGE: --start -5 is not a valid time: epoch milliseconds cannot be negative/,
    ]),
    ...(['--tier -1', '--tier=-1'] as const).map((a): [string, string[], number, RegExp] => [
      a,
      ['query', store, 'cpu_usage', ...a.split(/[ =]/)],
      2,
      /^rondo: ERR_RONDO_USAGE: --tier must be auto or a tier number \(0, 1, …\), got "-1"/,
    ]),
    [
      'an option where a value belongs',
      ['query', store, 'cpu_usage', '--range', '--plot'],
      2,
      /^rondo: ERR_RONDO_USAGE: option --range needs a value, got "--plot" \(write --range=--plot if that is the value\)/,
    ],
    ['missing selector', ['query', store], 2, /missing <selector>/],
  ];
  for (const [what, args, code, message] of cases) {
    test(what, async () => {
      const r = await rondo(args);
      assert.equal(r.code, code, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, 'one line, no stack');
      assert.equal(r.stdout, '');
    });
  }

  test('--verbose adds the stack trace', async () => {
    const r = await rondo(['query', join(tmp.dir, 'nope'), 'x', '--verbose']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\n\s+at openStore /);
  });
});

test('output closed early (| head -1) ends quietly with exit code 0', async () => {
  const child = spawn(process.execPath, [BIN, 'query', store, '{}', '--format', 'csv'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  let first = '';
  child.stdout.once('data', (d: Buffer) => {
    first = d.toString('utf8').split('\n')[0]!;
    child.stdout.destroy();
  });
  const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
  assert.equal(first, 'time,name,host,method,role,value');
  assert.equal(stderr, '');
  assert.equal(code, 0);
});

test('query --help has the selector syntax and examples', async () => {
  const r = await rondo(['query', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: rondo query <store> <selector>/);
  assert.match(r.stdout, /=~/);
  assert.match(r.stdout, /Examples:\n {2}rondo query /);
});
