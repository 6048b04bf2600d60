// `rondo query` run as a real process against a sample store: selectors, windows, tiers,
// formats, the chart, and early-closed output.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { Store } from 'rondo';
import { hasPty, scratchDirs, showEscapes, T0 } from 'rondo-testkit';
import {
  assertCliError,
  makeSampleStore,
  POINTS,
  rondo,
  rondoOnTty,
  SAMPLE_START,
  startRondo,
} from './test-fixtures/run.js';

interface JsonSeries {
  name: string;
  labels: Record<string, string>;
  tier: number;
  points: [number, number][];
}

const scratch = scratchDirs('cli-query');
const tmp = scratch();
const store = join(tmp, 'store');
before(() => makeSampleStore(store));

async function json(...args: string[]): Promise<JsonSeries[]> {
  const r = await rondo(['query', store, ...args, '--format', 'json']);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  const doc = JSON.parse(r.stdout) as { series: JsonSeries[] };
  assert.deepEqual(Object.keys(doc), ['series']);
  return doc.series;
}

/** The one series a query returns. */
async function one(...args: string[]): Promise<JsonSeries> {
  const series = await json(...args);
  assert.equal(series.length, 1, JSON.stringify(series.map((s) => s.labels)));
  const [first] = series;
  assert.ok(first);
  return first;
}

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
    const s = await one('cpu_usage{host="web1"}');
    assert.equal(s.tier, 0);
    assert.equal(s.points.length, POINTS);
    assert.deepEqual(s.points[0], [SAMPLE_START, 0]);
    assert.deepEqual(s.points.at(-1), [SAMPLE_START + (POINTS - 1) * 1000, POINTS - 1]);
  });

  test('--range 30s: the last 30 points', async () => {
    const s = await one('cpu_usage{host="web1"}', '--range', '30s');
    assert.deepEqual(
      s.points.map((p) => p[1]),
      Array.from({ length: 30 }, (_, i) => POINTS - 30 + i),
    );
  });

  test('--start/--end in RFC 3339 (with an offset) and epoch ms; end is exclusive', async () => {
    const a = await one('mem_bytes', '--start', '2024-05-01T14:00:10+02:00', '--end', '2024-05-01T12:00:13Z');
    assert.deepEqual(a.points, [
      [SAMPLE_START + 10_000, 2 ** 30],
      [SAMPLE_START + 11_000, 2 ** 30],
      [SAMPLE_START + 12_000, 2 ** 30],
    ]);
    const b = await one(
      'mem_bytes',
      '--start',
      String(SAMPLE_START + 10_000),
      '--end',
      String(SAMPLE_START + 13_000),
    );
    assert.deepEqual(b, a);
  });

  test('--end alone: --range counts back from it', async () => {
    const s = await one('cpu_usage{host="web1"}', '--end', '2024-05-01T12:01:00Z', '--range', '5s');
    assert.deepEqual(
      s.points.map((p) => p[1]),
      [55, 56, 57, 58, 59],
    );
  });

  test('--tier 1 reads the consolidated tier; auto picks it when tier 0 does not reach back', async () => {
    const fixed = await one('cpu_usage{host="web1"}', '--range', 'all', '--tier', '1');
    assert.equal(fixed.tier, 1);
    assert.equal(fixed.points.length, 60);
    assert.deepEqual(fixed.points[0], [SAMPLE_START, 29.5]); // avg of 0..59
    const auto = await one('cpu_usage{host="web1"}', '--start', '2024-04-30T13:00:00Z');
    assert.equal(auto.tier, 1);
    const fine = await one('cpu_usage{host="web1"}', '--start', '2024-05-01T12:30:00Z');
    assert.equal(fine.tier, 0);
    assert.equal(fine.points.length, 1800);
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
    const s = await one('cpu_usage{host="web2"}', '--start', '2020-01-01', '--end', '2020-01-02');
    assert.deepEqual(s.points, []);
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

  test('table is the default on a terminal', {
    skip: !hasPty && 'needs util-linux script (a pseudo-terminal)',
  }, () => {
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
    assert.doesNotMatch(showEscapes(out), /<ESC>\[/);
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
    skip: !hasPty && 'needs util-linux script (a pseudo-terminal)',
  }, async () => {
    const forced = await rondo(['query', store, 'cpu_usage', '--plot'], { FORCE_COLOR: '1' });
    assert.match(showEscapes(forced.stdout), /<ESC>\[32m\*+<ESC>\[0m/);
    const tty = rondoOnTty(['query', store, 'cpu_usage', '--plot']);
    assert.equal(tty.code, 0);
    assert.match(showEscapes(tty.stdout), /<ESC>\[33m\++<ESC>\[0m/);
    const plain = rondoOnTty(['query', store, 'cpu_usage', '--plot'], { NO_COLOR: '1' });
    assert.doesNotMatch(showEscapes(plain.stdout), /<ESC>\[3/);
  });
});

describe('errors and exit codes', () => {
  const usage = 'ERR_RONDO_USAGE';
  const cases: [string, string[], number, string, RegExp][] = [
    [
      'missing store',
      ['query', join(tmp, 'nope'), 'x'],
      1,
      'ERR_RONDO_NOT_FOUND',
      /^no rondo store at .*nope \(the path does not exist\) — check the path/,
    ],
    [
      'nothing matches',
      ['query', store, 'disk_free'],
      1,
      'ERR_RONDO_NO_MATCH',
      /^no series matches disk_free in .* — the store's 5 series are named cpu_usage, mem_bytes, http\.requests/,
    ],
    [
      'bad selector',
      ['query', store, 'cpu{host="a"'],
      2,
      usage,
      /^bad selector .*: expected , or \} at position 13 — see rondo query --help$/,
    ],
    ['bad regex', ['query', store, '{host=~"("}'], 2, usage, /^bad regex "\(" for host/],
    [
      'bad --range',
      ['query', store, 'cpu_usage', '--range', '1 hour'],
      2,
      usage,
      /^cannot parse --range "1 hour"/,
    ],
    // Zero is not "cannot parse": it says what is wrong with it.
    [
      '--range 0s',
      ['query', store, 'cpu_usage', '--range', '0s'],
      2,
      usage,
      /^--range must be longer than 0, got "0s"/,
    ],
    [
      '--range 0',
      ['query', store, 'cpu_usage', '--range', '0'],
      2,
      usage,
      /^--range must be longer than 0, got "0"/,
    ],
    [
      '--range 10 (no unit)',
      ['query', store, 'cpu_usage', '--range', '10'],
      2,
      usage,
      /^--range 10 needs a unit/,
    ],
    [
      'huge --range',
      ['query', store, 'cpu_usage', '--range', '100000000000w'],
      2,
      usage,
      /^--range 100000000000w is longer than all of time/,
    ],
    [
      'bad --start',
      ['query', store, 'cpu_usage', '--start', 'yesterday'],
      2,
      usage,
      /^cannot parse --start "yesterday" \(use RFC 3339/,
    ],
    [
      'an epoch time in seconds',
      ['query', store, 'cpu_usage', '--start', '1714564800'],
      2,
      usage,
      /^--start 1714564800 looks like epoch seconds \(as milliseconds it is 1970-01-20T20:16:04\.800Z\): write 1714564800s for seconds/,
    ],
    [
      'a time no Date can show',
      ['query', store, 'cpu_usage', '--end', '9000000000000000'],
      2,
      usage,
      /^--end 9000000000000000 is out of range/,
    ],
    [
      'impossible date',
      ['query', store, 'cpu_usage', '--end', '2024-02-30T00:00:00Z'],
      2,
      usage,
      /cannot parse --end "2024-02-30T00:00:00Z"/,
    ],
    [
      'start after end',
      ['query', store, 'cpu_usage', '--start', '2024-05-02', '--end', '2024-05-01'],
      2,
      usage,
      /--start \(2024-05-02T00:00:00Z\) must be before --end/,
    ],
    [
      'bad --tier',
      ['query', store, 'cpu_usage', '--tier', 'fine'],
      2,
      usage,
      /--tier must be auto or a tier number/,
    ],
    [
      'huge --tier',
      ['query', store, 'cpu_usage', '--tier', '99999999999999999999'],
      2,
      usage,
      /--tier must be auto or a tier number/,
    ],
    [
      'bad --format',
      ['query', store, 'cpu_usage', '--format', 'xml'],
      2,
      usage,
      /--format must be table, csv or json, got "xml"/,
    ],
    [
      '--plot with --format',
      ['query', store, 'cpu_usage', '--plot', '--format', 'csv'],
      2,
      usage,
      /--plot draws a chart/,
    ],
    [
      'unknown option',
      ['query', store, 'cpu_usage', '--since', '1h'],
      2,
      usage,
      /^unknown option --since — see rondo query --help$/,
    ],
    [
      'option without value',
      ['query', store, 'cpu_usage', '--range'],
      2,
      usage,
      /option --range needs a value/,
    ],
    // A negative value after a space gets the same message as with `=` (parseArgs calls it ambiguous).
    ...(['--range -1h', '--range=-1h'] as const).map((a): [string, string[], number, string, RegExp] => [
      a,
      ['query', store, 'cpu_usage', ...a.split(/[ =]/)],
      2,
      usage,
      /^--range -1h: a negative duration is not allowed \(.*--range 1h\)/,
    ]),
    ...(['--start -5', '--start=-5'] as const).map((a): [string, string[], number, string, RegExp] => [
      a,
      ['query', store, 'cpu_usage', ...a.split(/[ =]/)],
      2,
      usage,
      /^--start -5 is not a valid time: epoch times cannot be negative/,
    ]),
    ...(['--tier -1', '--tier=-1'] as const).map((a): [string, string[], number, string, RegExp] => [
      a,
      ['query', store, 'cpu_usage', ...a.split(/[ =]/)],
      2,
      usage,
      /^--tier must be auto or a tier number \(0, 1, …\), got "-1"/,
    ]),
    [
      'an option where a value belongs',
      ['query', store, 'cpu_usage', '--range', '--plot'],
      2,
      usage,
      /^option --range needs a value, got "--plot" \(write --range=--plot if that is the value\)/,
    ],
    ['missing selector', ['query', store], 2, usage, /missing <selector>/],
  ];
  for (const [what, args, exit, code, message] of cases) {
    test(what, async () => {
      assertCliError(await rondo(args), exit, code, message);
    });
  }

  test('--verbose adds the stack trace', async () => {
    const r = await rondo(['query', join(tmp, 'nope'), 'x', '--verbose']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\n\s+at openStore /);
  });
});

describe('fixes', () => {
  test('--range counts back from the newest point of the selected series, not of every schema', async () => {
    // Schema `late` has a point 5000 s after the last one of `main`: the store's newest slot.
    const dir = join(scratch(), 'store');
    const s = Store.open(dir, {
      schemas: [
        { name: 'late', match: { k: 'late' }, maxSeries: 2, tiers: [{ interval: '1s', retention: '2h' }] },
        { name: 'main', maxSeries: 2, tiers: [{ interval: '1s', retention: '1h' }] },
      ],
    });
    const cpu = s.register('cpu');
    for (let i = 0; i < 120; i++) s.record(cpu, i, T0 + i * 1000);
    s.record(s.register('other', { k: 'late' }), 1, T0 + 5_000_000);
    s.close();
    const r = await rondo(['query', dir, 'cpu', '--range', '10s', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { series: JsonSeries[] };
    assert.deepEqual(
      doc.series[0]?.points.map((p) => p[1]),
      [110, 111, 112, 113, 114, 115, 116, 117, 118, 119],
    );
    // A selector spanning both schemas counts back from the newer one.
    const both = await rondo(['query', dir, '{}', '--range', '10s', '--format', 'json']);
    const all = JSON.parse(both.stdout) as { series: JsonSeries[] };
    assert.deepEqual(
      all.series.map((x) => x.points.length),
      [0, 1],
    );
  });

  test('Unicode names: bare when they are letters, quoted otherwise (the error says how); (?i) works', async () => {
    const dir = join(scratch(), 'store');
    const s = Store.open(dir, {
      schemas: [{ name: 's', maxSeries: 4, tiers: [{ interval: '1s', retention: '1h' }] }],
    });
    s.record(s.register('température', { hôte: 'Web1' }), 21.5, T0);
    s.record(s.register('🔥', { host: 'a' }), 1, T0);
    s.close();
    const bare = await rondo(['query', dir, 'température{hôte=~"(?i)WEB1"}']);
    assert.equal(bare.code, 0, bare.stderr);
    assert.equal(bare.stdout, 'time,name,hôte,value\n2023-11-14T22:13:20Z,température,Web1,21.5\n');
    const quoted = await rondo(['query', dir, '{"🔥"}']);
    assert.equal(quoted.stdout, 'time,name,host,value\n2023-11-14T22:13:20Z,🔥,a,1\n');
    assertCliError(
      await rondo(['query', dir, '🔥']),
      2,
      'ERR_RONDO_USAGE',
      /^bad selector "🔥": unexpected "🔥" \(U\+1F525\) at position 1 \(.*must be quoted: \{"🔥"\} or \{__name__="🔥"\}\) — see rondo query --help$/,
    );
  });

  test('--start with epoch seconds and an s is the same instant as in ms', async () => {
    const secs = await one('mem_bytes', '--start', `${SAMPLE_START / 1000 + 3597}s`);
    const ms = await one('mem_bytes', '--start', `${SAMPLE_START + 3_597_000}`);
    assert.equal(secs.points.length, 3);
    assert.deepEqual(secs, ms);
  });

  test('"1 point", not "1 points", in the table heading and the chart legend', async () => {
    const t = await rondo(['query', store, 'mem_bytes', '--range', '1s', '--format', 'table']);
    assert.match(t.stdout, /^mem_bytes\{host="web1"\} {3}tier 0 \(1s\) {3}1 point$/m);
    const p = await rondo(['query', store, 'mem_bytes', '--range', '1s', '--plot']);
    assert.match(p.stdout, /\(tier 0, 1s, 1 point\)$/m);
  });

  test('--plot without a window fits the time axis to the points (a short store is not squeezed)', async () => {
    const dir = join(scratch(), 'store');
    const s = Store.open(dir, {
      schemas: [{ name: 's', maxSeries: 1, tiers: [{ interval: '1s', retention: '1h' }] }],
    });
    const h = s.register('short');
    for (let i = 0; i < 120; i++) s.record(h, i % 10, T0 + i * 1000);
    s.close();
    const fit = await rondo(['query', dir, 'short', '--plot']);
    assert.equal(fit.code, 0, fit.stderr);
    assert.match(fit.stdout, /2023-11-14T22:13:20Z → 2023-11-14T22:15:20Z \(UTC\)/);
    // Points in every quarter of the width: the data spans the chart.
    const rows = fit.stdout.split('\n').filter((l) => /[┤│]/.test(l));
    const columns = rows.flatMap((l) =>
      [...l.slice(l.search(/[┤│]/) + 1)].flatMap((c, i) => (c === '*' ? [i] : [])),
    );
    assert.ok(
      Math.min(...columns) < 10 && Math.max(...columns) > 60,
      `columns ${Math.min(...columns)}…${Math.max(...columns)}`,
    );
    // An explicit window is kept as asked.
    const asked = await rondo(['query', dir, 'short', '--plot', '--range', '1h']);
    assert.match(asked.stdout, /2023-11-14T21:15:20Z → 2023-11-14T22:15:20Z \(UTC\)/);
  });

  test('a series longer than one read chunk streams whole: every point once, in order, in every format', async () => {
    const dir = join(scratch(), 'store');
    const n = 70_000; // more than four chunks of 16,384 slots
    const s = Store.open(dir, {
      schemas: [{ name: 's', maxSeries: 2, tiers: [{ interval: '1s', retention: '1d' }] }],
    });
    const h = s.register('long', { k: 'v' });
    for (let i = 0; i < n; i++) s.record(h, i, T0 + i * 1000);
    s.close();
    const csv = await rondo(['query', dir, 'long', '--range', 'all']);
    assert.equal(csv.code, 0, csv.stderr);
    const lines = csv.stdout.trimEnd().split('\n');
    assert.equal(lines.length, n + 1);
    assert.equal(lines[1], '2023-11-14T22:13:20Z,long,v,0');
    assert.equal(
      lines[n],
      `${new Date(T0 + (n - 1) * 1000).toISOString().replace('.000Z', 'Z')},long,v,${n - 1}`,
    );
    for (let i = 1; i <= n; i++) if (!lines[i]?.endsWith(`,${i - 1}`)) assert.fail(`row ${i}: ${lines[i]}`);
    const json = JSON.parse(
      (await rondo(['query', dir, 'long', '--range', 'all', '--format', 'json'])).stdout,
    ) as {
      series: JsonSeries[];
    };
    const points = json.series[0]?.points ?? [];
    assert.equal(points.length, n);
    assert.ok(points.every(([t, v], i) => t === T0 + i * 1000 && v === i));
    const table = (await rondo(['query', dir, 'long', '--range', 'all', '--format', 'table'])).stdout.split(
      '\n',
    );
    assert.equal(table[0], `long{k="v"}   tier 0 (1s)   ${n} points`);
    assert.equal(table[1], '  time                  value');
    assert.equal(table[2], '  2023-11-14T22:13:20Z      0');
    assert.equal(table[n + 1], `  ${lines[n]?.slice(0, 20)}  ${n - 1}`);
  });
});

test('output closed early (| head -1) ends quietly with exit code 0', async () => {
  const child = startRondo(['query', store, '{}', '--format', 'csv']);
  await child.waitFor('time,');
  child.proc.stdout.destroy();
  const { code } = await child.exited;
  assert.equal(child.lines[0], 'time,name,host,method,role,value');
  assert.equal(child.stderr, '');
  assert.equal(code, 0);
});

test('query --help has the selector syntax and examples', async () => {
  const r = await rondo(['query', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: rondo query <store> <selector>/);
  assert.match(r.stdout, /=~/);
  assert.match(r.stdout, /Examples:\n {2}rondo query /);
});
