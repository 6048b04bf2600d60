// The server itself: options, binding and auth, bounded bodies, timeouts, unknown paths and
// traversal attempts, JSON errors, closing; and rondo's own endpoints (/metrics, /api/rondo/*).
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { rejectsCode, scratchDirs, T0 } from 'rondo-testkit';
import { Store } from '../index.js';
import {
  FILL_END,
  fillStore,
  getJson,
  rawJson,
  rawRequest,
  SERVE_SCHEMAS,
  serveOn,
  valueAt,
} from '../test-fixtures/serve.js';
import { isLoopback, parseListen, type RondoServer, serve } from './serve.js';

const scratch = scratchDirs('serve');
let store: Store;
let server: RondoServer;
let secured: RondoServer;
const TOKEN = 's3cret-token';

before(async () => {
  store = fillStore(scratch());
  server = await serveOn(store, { requestTimeout: '1s', limits: { maxFormBytes: 1000, maxReadBytes: 2000 } });
  secured = await serveOn(store, { token: TOKEN });
});
after(async () => {
  await server.close();
  await secured.close();
  store.close();
});

describe('options', () => {
  test('listen addresses parse; only loopback goes without a token', async () => {
    assert.deepEqual(parseListen('127.0.0.1:9464'), { host: '127.0.0.1', port: 9464 });
    assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
    assert.deepEqual(parseListen(':9000'), { host: '127.0.0.1', port: 9000 });
    assert.ok(isLoopback('127.0.0.2') && isLoopback('::1') && isLoopback('localhost'));
    assert.ok(!isLoopback('0.0.0.0') && !isLoopback('::') && !isLoopback('10.0.0.1'));
    for (const listen of ['9464', 'host', '1.2.3.4:70000', '[::1:80', '']) {
      await rejectsCode(serve(store, { listen }), 'ERR_RONDO_CONFIG', /HOST:PORT/);
    }
    await rejectsCode(serve(store, { listen: '0.0.0.0:0' }), 'ERR_RONDO_CONFIG', /give a token/);
    await rejectsCode(serve(store, { listen: '[::]:0' }), 'ERR_RONDO_CONFIG', /give a token/);
    await rejectsCode(
      serve(store, { listen: '127.0.0.1:0', token: 'has space' }),
      'ERR_RONDO_CONFIG',
      /token/,
    );
    await rejectsCode(serve(store, { listen: '127.0.0.1:0', token: '' }), 'ERR_RONDO_CONFIG', /token/);
    await rejectsCode(serve(store, { requestTimeout: 'soon' }), 'ERR_RONDO_CONFIG', /requestTimeout/);
    await rejectsCode(serve(store, { limits: { maxFormBytes: -1 } }), 'ERR_RONDO_CONFIG', /maxFormBytes/);
    await rejectsCode(serve(store, null as never), 'ERR_RONDO_CONFIG', /options/);
  });

  test('a port in use is ERR_RONDO_IO; a closed store is ERR_RONDO_CLOSED', async () => {
    await rejectsCode(serve(store, { listen: `127.0.0.1:${server.port}` }), 'ERR_RONDO_IO', /EADDRINUSE/);
    const other = Store.open(scratch(), { schemas: SERVE_SCHEMAS });
    other.close();
    await rejectsCode(serve(other, { listen: '127.0.0.1:0' }), 'ERR_RONDO_CLOSED');
  });
});

describe('auth', () => {
  test('with a token, every API request needs the bearer token; the page itself does not', async () => {
    for (const path of ['/api/v1/labels', '/metrics', '/api/rondo/info', '/api/v1/query?query=x']) {
      const res = await getJson(secured, path);
      assert.equal(res.status, 401, path);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="rondo"');
      assert.deepEqual(Object.keys(res.body).sort(), ['error', 'errorType', 'status']);
      const wrong = await getJson(secured, path, { headers: { authorization: `Bearer ${TOKEN}x` } });
      assert.equal(wrong.status, 401);
    }
    const ok = await getJson(secured, '/api/v1/labels', { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200);
    const metrics = await fetch(new URL('/metrics', secured.url), {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(metrics.status, 200);
    const page = await fetch(secured.url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>rondo<\/title>/);
    // An unknown path is 404 either way, and says nothing about auth.
    assert.equal((await getJson(secured, '/nope')).status, 404);
  });
});

describe('paths, methods and bodies', () => {
  test('the dashboard files, with ETags; nothing else is served', async () => {
    for (const [path, type] of [
      ['/', 'text/html'],
      ['/dashboard.js', 'text/javascript'],
      ['/uPlot.iife.min.js', 'text/javascript'],
      ['/uPlot.min.css', 'text/css'],
      ['/uPlot.LICENSE.txt', 'text/plain'],
    ] as const) {
      const res = await fetch(new URL(path, server.url));
      assert.equal(res.status, 200, path);
      assert.ok(res.headers.get('content-type')!.startsWith(type), path);
      const etag = res.headers.get('etag')!;
      const again = await fetch(new URL(path, server.url), { headers: { 'if-none-match': etag } });
      assert.equal(again.status, 304);
    }
    // Raw request lines: fetch would normalise the dots away.
    for (const path of [
      '/../package.json',
      '/%2e%2e/%2e%2e/package.json',
      '/dashboard.js/../../serve.js',
      '/..%2fserve.js',
      '/uPlot.iife.min.js%00',
      '/index.html/',
      '//etc/passwd',
      '/dashboard/',
    ]) {
      const res = rawJson(
        await rawRequest(server, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
      );
      assert.equal(res.status, 404, path);
      assert.equal(res.body['errorType'], 'not_found');
    }
  });

  test('wrong methods are 405 with Allow', async () => {
    const del = await getJson(server, '/api/v1/series?match[]=x', { method: 'DELETE' });
    assert.equal(del.status, 405);
    assert.equal(del.headers.get('allow'), 'GET, POST');
    const read = await getJson(server, '/api/v1/read');
    assert.equal(read.status, 405);
    assert.equal(read.headers.get('allow'), 'POST');
  });

  test('bodies are bounded: 413 before reading more', async () => {
    const big = await getJson(server, '/api/v1/query_range', {
      method: 'POST',
      body: new URLSearchParams({ query: 'x'.repeat(2000) }),
    });
    assert.equal(big.status, 413);
    assert.match(big.body.error, /larger than 1000 bytes/);
    const read = await getJson(server, '/api/v1/read', { method: 'POST', body: Buffer.alloc(3000) });
    assert.equal(read.status, 413);
    // A declared length far beyond the limit is refused from the header alone.
    const declared = rawJson(
      await rawRequest(
        server,
        'POST /api/v1/read HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\nContent-Type: application/x-protobuf\r\n\r\n',
      ),
    );
    assert.equal(declared.status, 413);
  });

  test('malformed and slow requests get a JSON error and the connection is closed', async () => {
    const junk = rawJson(await rawRequest(server, 'NOT HTTP AT ALL\r\n\r\n'));
    assert.equal(junk.status, 400);
    assert.equal(junk.body['status'], 'error');
    // Headers that never finish: the server gives up after its requestTimeout (1 s here).
    const started = Date.now();
    const slow = await rawRequest(server, 'GET /api/v1/labels HTTP/1.1\r\nHost: x\r\n');
    assert.ok(Date.now() - started < 10_000);
    assert.equal(rawJson(slow).status, 408);
  });

  test('close() ends keep-alive connections and frees the port; it can be called twice', async () => {
    const extra = await serveOn(store);
    const agentless = await new Promise<number>((resolve, reject) => {
      const req = request(
        new URL('/api/v1/labels', extra.url),
        { headers: { connection: 'keep-alive' } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(agentless, 200);
    await Promise.all([extra.close(), extra.close()]);
    await assert.rejects(fetch(extra.url));
    const again = await serve(store, { listen: `127.0.0.1:${extra.port}` });
    await again.close();
  });

  test('dashboard: false serves the API only', async () => {
    const api = await serveOn(store, { dashboard: false });
    try {
      assert.equal((await getJson(api, '/')).status, 404);
      assert.equal((await getJson(api, '/api/v1/labels')).status, 200);
    } finally {
      await api.close();
    }
  });
});

describe('/metrics', () => {
  test('the newest value of each series with a point in the last 5 minutes, in the text format', async () => {
    const res = await fetch(new URL('/metrics', server.url));
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const last = FILL_END - 1000;
    assert.equal(
      await res.text(),
      [
        '# TYPE cpu_usage gauge',
        `cpu_usage{host="web1"} ${valueAt(0, last)}`,
        `cpu_usage{host="web2"} ${valueAt(1, last)}`,
        '# TYPE mem_used gauge',
        `mem_used{host="web1"} ${valueAt(3, last)}`,
        '# TYPE requests_total counter',
        `requests_total{host="web1",path="/a\\"b\\\\c"} ${(last - T0) / 1000}`,
        '',
      ].join('\n'),
    );
  });

  test('a series silent for more than 5 minutes of the store, or retired, is left out', async () => {
    const s = Store.open(scratch(), { schemas: SERVE_SCHEMAS });
    const quiet = s.register('quiet');
    const busy = s.register('busy');
    s.record(quiet, 1, T0);
    s.record(busy, 2, T0);
    s.record(busy, 3, T0 + 301_000);
    const srv = await serveOn(s);
    try {
      assert.equal(await (await fetch(new URL('/metrics', srv.url))).text(), '# TYPE busy gauge\nbusy 3\n');
      // A retired series is history: queryable, but no longer exposed.
      s.retire(busy);
      assert.equal(await (await fetch(new URL('/metrics', srv.url))).text(), '');
      const series = await getJson(srv, '/api/v1/series?match[]=busy');
      assert.deepEqual(series.body.data, [{ __name__: 'busy' }]);
    } finally {
      await srv.close();
      s.close();
    }
  });
});

describe('/api/rondo', () => {
  test('info and series', async () => {
    const info = await getJson(server, '/api/rondo/info');
    assert.equal(info.body.data.writerPid, process.pid);
    assert.equal(info.body.data.seriesCount, 4);
    assert.equal(info.body.data.newestEnd, FILL_END);
    assert.deepEqual(
      info.body.data.schemas[0].tiers.map((t: { interval: number }) => t.interval),
      [1000, 10_000, 300_000],
    );
    const series = await getJson(server, '/api/rondo/series');
    assert.deepEqual(series.body.data[3], {
      handle: 3,
      name: 'mem.used',
      labels: { host: 'web1' },
      schema: 'host',
      type: 'gauge',
      id: 'mem.used{host="web1"}',
    });
  });

  test('query: columns on the tier grid, null where a slot has no point; range counts back from the store', async () => {
    const { body } = await getJson(server, '/api/rondo/query?query=mem.used&range=12s');
    const [s] = body.data.series;
    assert.equal(body.data.end, FILL_END - 1);
    assert.equal(s.tier, 0);
    assert.equal(s.interval, 1000);
    // Points at FILL_END-12s … FILL_END-1s; the one at a multiple of 10 s is missing.
    const times = Array.from({ length: 12 }, (_, i) => FILL_END - 12_000 + i * 1000);
    const known = times.filter((t) => (t / 1000) % 10 !== 0);
    assert.equal(s.first, known[0]);
    assert.equal(s.points, known.length);
    const grid = times.slice(times.indexOf(known[0]!));
    assert.deepEqual(
      s.values,
      grid.map((t) => ((t / 1000) % 10 === 0 ? null : valueAt(3, t))),
    );
  });

  test('encoding=base64: the same grid as little-endian float64, NaN for no point', async () => {
    const json = (await getJson(server, '/api/rondo/query?query=mem.used&range=12s')).body.data.series[0];
    const b64 = (await getJson(server, '/api/rondo/query?query=mem.used&range=12s&encoding=base64')).body.data
      .series[0];
    assert.equal(json.encoding, 'json');
    assert.equal(b64.encoding, 'base64');
    const bytes = Buffer.from(b64.values, 'base64');
    const floats = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length / 8);
    assert.deepEqual(
      Array.from(floats, (v) => (Number.isNaN(v) ? null : v)),
      json.values,
    );
    assert.equal(b64.first, json.first);
    const bad = await getJson(server, '/api/rondo/query?query=mem.used&encoding=hex');
    assert.equal(bad.status, 400);
  });

  test('fn=rate and fn=increase read a counter per slot, on every tier and when following; other fns are 400', async () => {
    const path = (q: string): string => `/api/rondo/query?query=requests_total&${q}`;
    // One more per second: a rate of 1 at every point, the first one included (its predecessor
    // lies before the range).
    const fine = (await getJson(server, path('range=10s&fn=rate'))).body.data.series[0];
    assert.equal(fine.type, 'counter');
    assert.equal(fine.fn, 'rate');
    assert.equal(fine.tier, 0);
    assert.deepEqual(fine.values, Array(10).fill(1));
    const coarse = (await getJson(server, path('range=2h&fn=rate'))).body.data.series[0];
    assert.equal(coarse.tier, 1);
    assert.ok(coarse.values.length > 600);
    assert.ok(coarse.values.every((v: number | null) => v === 1));
    const increase = (await getJson(server, path('range=2h&fn=increase'))).body.data.series[0];
    assert.ok(
      increase.values.every((v: number | null) => v === 10),
      'a 10 s window gains 10',
    );
    const follow = (await getJson(server, path(`range=10s&fn=rate&after=${FILL_END - 3000}`))).body.data
      .series[0];
    assert.deepEqual(follow.values, [1, 1]);
    const raw = (await getJson(server, path('range=3s'))).body.data.series[0];
    assert.equal(raw.fn, undefined);
    assert.deepEqual(raw.values, [7197, 7198, 7199]);
    const bad = await getJson(server, path('fn=irate'));
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /fn: "irate" \(rate or increase\)/);
  });

  test('after: newer points only, from the tier chosen for the whole range', async () => {
    const q = `query=cpu_usage{host="web1"}&range=2h&after=${FILL_END - 30_000}`;
    const { body } = await getJson(server, `/api/rondo/query?${q}`);
    const [s] = body.data.series;
    assert.equal(s.tier, 1); // 2 h: tier 0 does not reach back that far
    assert.equal(s.first, FILL_END - 20_000);
    assert.equal(s.values.length, 2);
    const bad = await getJson(server, '/api/rondo/query?query=cpu_usage&after=soon');
    assert.equal(bad.status, 400);
  });
});
