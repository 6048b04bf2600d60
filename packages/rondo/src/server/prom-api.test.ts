// Prometheus' /api/v1 over a store: the response shapes of Prometheus' documentation
// (docs/querying/api.md), the points and tiers a selector gets, and the bounds and errors.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { scratchDirs, T0 } from 'rondo-testkit';
import type { Store } from '../index.js';
import { FILL_END, fillStore, getJson, serveOn, valueAt } from '../test-fixtures/serve.js';
import { formatPromValue } from './prom-json.js';
import type { RondoServer } from './serve.js';

const scratch = scratchDirs('serve-api');

// Responses as Prometheus' HTTP API documentation shows them (values from its examples).
const DOCUMENTED = {
  series: {
    status: 'success',
    data: [
      { __name__: 'up', job: 'prometheus', instance: 'localhost:9090' },
      { __name__: 'process_start_time_seconds', job: 'prometheus', instance: 'localhost:9090' },
    ],
  },
  labels: { status: 'success', data: ['__name__', 'call', 'code', 'config', 'dialer_name'] },
  labelValues: { status: 'success', data: ['node', 'prometheus'] },
  queryRange: {
    status: 'success',
    data: {
      resultType: 'matrix',
      result: [
        {
          metric: { __name__: 'up', job: 'prometheus', instance: 'localhost:9090' },
          values: [
            [1435781430.781, '1'],
            [1435781445.781, '1'],
          ],
        },
      ],
    },
  },
  query: {
    status: 'success',
    data: {
      resultType: 'vector',
      result: [
        {
          metric: { __name__: 'up', job: 'prometheus', instance: 'localhost:9090' },
          value: [1435781451.781, '1'],
        },
      ],
    },
  },
  error: { status: 'error', errorType: 'bad_data', error: 'invalid parameter "query": 1:1: parse error' },
};

/** The structure of a JSON value: keys and types, arrays by their first element, label sets as one. */
function shape(v: unknown, key = ''): unknown {
  if (Array.isArray(v)) return v.length === 0 ? [] : [shape(v[0], key)];
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    if (key === 'metric' || (key === 'data[]' && entries.every(([, x]) => typeof x === 'string'))) {
      return entries.every(([k, x]) => typeof k === 'string' && typeof x === 'string')
        ? 'labels'
        : 'bad labels';
    }
    return Object.fromEntries(entries.sort().map(([k, x]) => [k, shape(x, Array.isArray(x) ? `${k}[]` : k)]));
  }
  return typeof v;
}

let store: Store;
let server: RondoServer;
let small: RondoServer;
const sec = (ms: number): number => ms / 1000;

before(async () => {
  store = fillStore(scratch());
  server = await serveOn(store);
  small = await serveOn(store, {
    limits: { defaultPointsPerSeries: 100, maxPointsPerSeries: 5000, maxPointsPerResponse: 6000 },
  });
});
after(async () => {
  await server.close();
  await small.close();
  store.close();
});

describe('response shapes match Prometheus documentation', () => {
  test('series, labels, label values', async () => {
    const series = await getJson(server, '/api/v1/series?match[]=cpu_usage');
    assert.equal(series.status, 200);
    assert.deepEqual(shape(series.body), shape(DOCUMENTED.series));
    assert.deepEqual(shape((await getJson(server, '/api/v1/labels')).body), shape(DOCUMENTED.labels));
    assert.deepEqual(
      shape((await getJson(server, '/api/v1/label/host/values')).body),
      shape(DOCUMENTED.labelValues),
    );
  });

  test('query_range (matrix), query (vector), errors', async () => {
    const range = await getJson(
      server,
      `/api/v1/query_range?query=cpu_usage&start=${sec(FILL_END - 10_000)}&end=${sec(FILL_END)}&step=1`,
    );
    assert.equal(range.status, 200);
    assert.equal(range.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.deepEqual(shape(range.body), shape(DOCUMENTED.queryRange));
    const instant = await getJson(server, `/api/v1/query?query=cpu_usage&time=${sec(FILL_END)}`);
    assert.deepEqual(shape(instant.body), shape(DOCUMENTED.query));
    const error = await getJson(server, '/api/v1/query?query=rate(cpu_usage[5m])');
    assert.equal(error.status, 400);
    assert.deepEqual(shape(error.body), shape(DOCUMENTED.error));
  });
});

describe('query_range', () => {
  test('tier 0 points in [start, end], both inclusive: seconds and string values', async () => {
    const start = FILL_END - 10_000;
    const end = FILL_END - 1000;
    const { body } = await getJson(
      server,
      `/api/v1/query_range?query=cpu_usage{host="web2"}&start=${sec(start)}&end=${sec(end)}&step=1s`,
    );
    assert.deepEqual(body.data.result, [
      {
        metric: { __name__: 'cpu_usage', host: 'web2' },
        values: Array.from({ length: 10 }, (_, i) => [
          sec(start + i * 1000),
          String(valueAt(1, start + i * 1000)),
        ]),
      },
    ]);
    assert.equal(body.warnings, undefined);
  });

  test('tier auto: the coarsest tier that reaches start with an interval ≤ step', async () => {
    const at = async (range: number, step: string, tier = '') => {
      const q = `query=cpu_usage{host="web1"}&start=${sec(FILL_END - range)}&end=${sec(FILL_END - 1)}&step=${step}${tier}`;
      const values: [number, string][] = (await getJson(server, `/api/v1/query_range?${q}`)).body.data
        .result[0].values;
      return { n: values.length, spacing: values.length > 1 ? values[1]![0] - values[0]![0] : null };
    };
    assert.deepEqual(await at(600_000, '1'), { n: 600, spacing: 1 }); // tier 0 reaches back 10 min
    assert.deepEqual(await at(600_000, '60'), { n: 60, spacing: 10 }); // tier 1: 10 s ≤ 60 s
    assert.deepEqual(await at(7_200_000, '1'), { n: 720, spacing: 10 }); // 2 h: tier 0 (1 h) falls short
    assert.deepEqual(await at(7_200_000, '600'), { n: 24, spacing: 300 }); // tier 2: 5 min ≤ 10 min
    assert.deepEqual(await at(600_000, '60', '&tier=0'), { n: 600, spacing: 1 }); // explicit tier
    const bad = await getJson(server, `/api/v1/query_range?query=cpu_usage&start=1&end=2&step=1&tier=7`);
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /tiers 0\.\.2/);
  });

  test('consolidated tiers hold averages of the stored points (last values for a counter)', async () => {
    const start = FILL_END - 3_600_000;
    const first = async (query: string) => {
      const q = `query=${query}&start=${sec(start)}&end=${sec(start + 50_000)}&step=10&tier=1`;
      return (await getJson(server, `/api/v1/query_range?${q}`)).body.data.result[0].values[0];
    };
    // web1 rises by 1/4 per second within the window: its 10 s average is the value 4.5 s in.
    assert.deepEqual(await first('cpu_usage{host="web1"}'), [
      sec(start),
      String(valueAt(0, start) + 4.5 / 4),
    ]);
    // A counter (registered as one) keeps the window's last value.
    assert.deepEqual(await first('requests_total'), [sec(start), String((start - T0) / 1000 + 9)]);
  });

  test('a range beyond every retention answers what there is, with a warning', async () => {
    const q = `query=cpu_usage{host="web1"}&start=${sec(T0 - 30 * 86_400_000)}&end=${sec(FILL_END)}&step=3600`;
    const { body } = await getJson(server, `/api/v1/query_range?${q}`);
    assert.equal(body.status, 'success');
    assert.ok(body.data.result[0].values.length > 0);
    assert.match(body.warnings[0], /retention/);
  });

  test('points per series and per response are bounded (400), max_points raises the first', async () => {
    const q = (extra: string) =>
      `/api/v1/query_range?query=cpu_usage{host="web1"}&start=${sec(FILL_END - 600_000)}&end=${sec(FILL_END)}&step=1${extra}`;
    const over = await getJson(small, q(''));
    assert.equal(over.status, 400);
    assert.match(
      over.body.error,
      /would return up to 601 points from tier 0 \(1s\), more than 100 per series/,
    );
    assert.equal((await getJson(small, q('&max_points=1000'))).status, 200);
    const cap = await getJson(small, q('&max_points=5001'));
    assert.equal(cap.status, 400);
    assert.match(cap.body.error, /max_points.*1\.\.5000/);
    const all = await getJson(
      small,
      `/api/v1/query_range?query={}&start=${sec(FILL_END - 3_000_000)}&end=${sec(FILL_END)}&step=1&max_points=5000`,
    );
    assert.equal(all.status, 400);
    assert.match(all.body.error, /4 series would return up to \d+ points, more than the 6000/);
  });

  test('POST with a form body, as Grafana and Prometheus clients send it', async () => {
    const form = new URLSearchParams({
      query: 'cpu_usage{host="web1"}',
      start: String(sec(FILL_END - 3000)),
      end: String(sec(FILL_END - 1000)),
      step: '1',
    });
    const res = await getJson(server, '/api/v1/query_range', { method: 'POST', body: form });
    assert.equal(res.status, 200);
    assert.equal(res.body.data.result[0].values.length, 3);
    const json = await getJson(server, '/api/v1/query_range', {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(json.status, 415);
  });

  test('bad requests: PromQL, missing or malformed parameters', async () => {
    const cases: [string, RegExp][] = [
      ['query=sum(cpu_usage)&start=1&end=2&step=1', /plain series selectors only.*remote read/],
      ['query=cpu_usage[5m]&start=1&end=2&step=1', /remote read/],
      ['query=cpu_usage&start=1&end=2', /missing parameter step/],
      ['query=cpu_usage&end=2&step=1', /missing parameter start/],
      ['query=cpu_usage&start=yesterday&end=2&step=1', /invalid parameter start/],
      ['query=cpu_usage&start=3&end=2&step=1', /end timestamp must not be before start/],
      ['query=cpu_usage&start=1&end=2&step=-1', /invalid parameter step/],
      ['query=cpu_usage&start=1&end=2&step=1&tier=x', /invalid parameter tier/],
      ['query=&start=1&end=2&step=1', /empty selector/],
    ];
    for (const [q, message] of cases) {
      const res = await getJson(server, `/api/v1/query_range?${q}`);
      assert.equal(res.status, 400, q);
      assert.equal(res.body.status, 'error');
      assert.equal(res.body.errorType, 'bad_data');
      assert.match(res.body.error, message, q);
    }
  });

  test('RFC 3339 times are accepted', async () => {
    const iso = (ms: number) => new Date(ms).toISOString();
    const q = `query=cpu_usage{host="web1"}&start=${iso(FILL_END - 3000)}&end=${iso(FILL_END - 1000)}&step=1s`;
    const res = await getJson(server, `/api/v1/query_range?${q}`);
    assert.equal(res.body.data.result[0].values.length, 3);
  });
});

describe('query (instant)', () => {
  test('the newest point within 5 minutes, stamped with the evaluation time', async () => {
    const time = sec(FILL_END + 120_000);
    const { body } = await getJson(
      server,
      `/api/v1/query?query={__name__=~"cpu_usage|mem.used"}&time=${time}`,
    );
    assert.deepEqual(body.data.result, [
      { metric: { __name__: 'cpu_usage', host: 'web1' }, value: [time, String(valueAt(0, FILL_END - 1000))] },
      { metric: { __name__: 'cpu_usage', host: 'web2' }, value: [time, String(valueAt(1, FILL_END - 1000))] },
      { metric: { __name__: 'mem.used', host: 'web1' }, value: [time, String(valueAt(3, FILL_END - 1000))] },
    ]);
    const late = await getJson(server, `/api/v1/query?query=cpu_usage&time=${sec(FILL_END + 301_000)}`);
    assert.deepEqual(late.body.data.result, []);
  });
});

describe('series, labels and label values', () => {
  test('match[] selects; several are a union; start/end keep series with data then', async () => {
    const { body } = await getJson(
      server,
      `/api/v1/series?match[]=mem.used&match[]=${encodeURIComponent('{path=~".+"}')}`,
    );
    assert.deepEqual(body.data, [
      { __name__: 'requests_total', host: 'web1', path: '/a"b\\c' },
      { __name__: 'mem.used', host: 'web1' },
    ]);
    const before = await getJson(
      server,
      `/api/v1/series?match[]=cpu_usage&start=1&end=${sec(T0 - 30 * 86_400_000)}`,
    );
    assert.deepEqual(before.body.data, []);
    const missing = await getJson(server, '/api/v1/series');
    assert.equal(missing.status, 400);
    assert.match(missing.body.error, /no match\[\] parameter provided/);
  });

  test('label names and values, sorted; an invalid label name is a 400', async () => {
    assert.deepEqual((await getJson(server, '/api/v1/labels')).body.data, ['__name__', 'host', 'path']);
    assert.deepEqual((await getJson(server, '/api/v1/labels?match[]=cpu_usage')).body.data, [
      '__name__',
      'host',
    ]);
    assert.deepEqual((await getJson(server, '/api/v1/label/__name__/values')).body.data, [
      'cpu_usage',
      'mem.used',
      'requests_total',
    ]);
    assert.deepEqual((await getJson(server, '/api/v1/label/host/values?match[]=cpu_usage')).body.data, [
      'web1',
      'web2',
    ]);
    assert.deepEqual((await getJson(server, '/api/v1/label/nope/values')).body.data, []);
    const bad = await getJson(server, '/api/v1/label/1x/values');
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /invalid label name/);
  });
});

test('values are spelled like Go FormatFloat(v, f, -1): never an exponent', () => {
  assert.equal(formatPromValue(1e21), '1000000000000000000000');
  assert.equal(formatPromValue(-2.5e22), '-25000000000000000000000');
  assert.equal(formatPromValue(1e-7), '0.0000001');
  assert.equal(formatPromValue(-1.25e-8), '-0.0000000125');
  assert.equal(formatPromValue(123.456), '123.456');
  assert.equal(formatPromValue(0), '0');
  assert.equal(formatPromValue(Number.NaN), 'NaN');
  assert.equal(formatPromValue(Number.NEGATIVE_INFINITY), '-Inf');
  for (const v of [1e21, 1.2345e-7, 9.87654321e25, 5e-324, 1.7976931348623157e308]) {
    assert.equal(Number(formatPromValue(v)), v);
  }
});
