// Remote read with requests built by independent codecs (protobufjs, snappyjs): results in
// query order, sorted Prometheus labels, the four matcher types, a missing label matching "",
// inclusive ranges, the sample bound and malformed bodies. A real Prometheus: prometheus.test.ts.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { scratchDirs, T0 } from 'rondo-testkit';
import type { Store } from '../index.js';
import { FILL_END, fillStore, getJson, serveOn, valueAt } from '../test-fixtures/serve.js';
import type { RondoServer } from './serve.js';

const require = createRequire(import.meta.url);
const protobuf = require('protobufjs') as typeof import('protobufjs');
const snappyjs = require('snappyjs') as {
  compress(input: Uint8Array): Uint8Array;
  uncompress(input: Uint8Array): Uint8Array;
};

const root = protobuf.parse(`
syntax = "proto3";
package prometheus;
message ReadRequest { repeated Query queries = 1; repeated int32 accepted_response_types = 2; }
message Query { int64 start_timestamp_ms = 1; int64 end_timestamp_ms = 2; repeated LabelMatcher matchers = 3; }
message LabelMatcher { int32 type = 1; string name = 2; string value = 3; }
message ReadResponse { repeated QueryResult results = 1; }
message QueryResult { repeated TimeSeries timeseries = 1; }
message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
message Label { string name = 1; string value = 2; }
message Sample { double value = 1; int64 timestamp = 2; }
`).root;
const ReadRequest = root.lookupType('prometheus.ReadRequest');
const ReadResponse = root.lookupType('prometheus.ReadResponse');
const TYPES = { '=': 0, '!=': 1, '=~': 2, '!~': 3 } as const;

type M = [string, keyof typeof TYPES, string];
interface Q {
  start: number;
  end: number;
  matchers: M[];
}
interface Series {
  labels: Record<string, string>;
  samples: [number, number][];
}

async function read(server: RondoServer, queries: Q[], accepted: number[] = []): Promise<Series[][]> {
  const msg = ReadRequest.fromObject({
    queries: queries.map((q) => ({
      startTimestampMs: q.start,
      endTimestampMs: q.end,
      matchers: q.matchers.map(([name, op, value]) => ({ type: TYPES[op], name, value })),
    })),
    acceptedResponseTypes: accepted,
  });
  const res = await fetch(new URL('/api/v1/read', server.url), {
    method: 'POST',
    body: snappyjs.compress(ReadRequest.encode(msg).finish()),
    headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' },
  });
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  assert.equal(res.headers.get('content-type'), 'application/x-protobuf');
  assert.equal(res.headers.get('content-encoding'), 'snappy');
  const decoded = ReadResponse.toObject(
    ReadResponse.decode(snappyjs.uncompress(new Uint8Array(await res.arrayBuffer()))),
    { longs: Number, defaults: true },
  ) as {
    results: {
      timeseries: {
        labels: { name: string; value: string }[];
        samples: { value: number; timestamp: number }[];
      }[];
    }[];
  };
  return decoded.results.map((r) =>
    r.timeseries.map((ts) => {
      const names = ts.labels.map((l) => l.name);
      assert.deepEqual(names, [...names].sort(), 'labels sorted by name');
      return {
        labels: Object.fromEntries(ts.labels.map((l) => [l.name, l.value])),
        samples: ts.samples.map((s) => [s.timestamp, s.value] as [number, number]),
      };
    }),
  );
}

const scratch = scratchDirs('serve-read');
let store: Store;
let server: RondoServer;
let small: RondoServer;
const last = FILL_END - 1000;

before(async () => {
  store = fillStore(scratch());
  server = await serveOn(store);
  small = await serveOn(store, { limits: { maxPointsPerResponse: 100, maxReadDecodedBytes: 64 } });
});
after(async () => {
  await server.close();
  await small.close();
  store.close();
});

const names = (list: Series[]): string[] => list.map((s) => `${s.labels['__name__']}/${s.labels['host']}`);

describe('remote read', () => {
  test('samples in [start, end], both inclusive, with Prometheus labels (dotted names mapped)', async () => {
    const [result] = await read(server, [
      { start: last - 2000, end: last, matchers: [['__name__', '=', 'mem_used']] },
    ]);
    assert.deepEqual(result, [
      {
        labels: { __name__: 'mem_used', host: 'web1' },
        samples: [last - 2000, last - 1000, last].map((t) => [t, valueAt(3, t)]),
      },
    ]);
  });

  test('one result per query, in query order; the four matcher types', async () => {
    const q = (matchers: M[]): Q => ({ start: last, end: last, matchers });
    const results = await read(server, [
      q([
        ['__name__', '=', 'cpu_usage'],
        ['host', '!=', 'web1'],
      ]),
      q([['__name__', '=~', 'cpu_.*|mem_used']]),
      q([
        ['__name__', '!~', 'cpu.*'],
        ['host', '=', 'web1'],
      ]),
      q([['__name__', '=', 'nothing']]),
      q([['__name__', '=~', 'cpu']]), // anchored: no partial match
    ]);
    assert.deepEqual(results.map(names), [
      ['cpu_usage/web2'],
      ['cpu_usage/web1', 'cpu_usage/web2', 'mem_used/web1'],
      ['requests_total/web1', 'mem_used/web1'],
      [],
      [],
    ]);
  });

  test('a matcher on a label a series lacks matches ""', async () => {
    const [lacking, notEmpty, emptyRe] = await read(server, [
      { start: last, end: last, matchers: [['path', '=', '']] },
      { start: last, end: last, matchers: [['path', '!=', '']] },
      {
        start: last,
        end: last,
        matchers: [
          ['path', '=~', '|/a.*'],
          ['__name__', '=~', '.+'],
        ],
      },
    ]);
    assert.deepEqual(names(lacking!), ['cpu_usage/web1', 'cpu_usage/web2', 'mem_used/web1']);
    assert.deepEqual(names(notEmpty!), ['requests_total/web1']);
    assert.equal(emptyRe!.length, 4);
    assert.equal(notEmpty![0]!.labels['path'], '/a"b\\c');
  });

  test('the tier reaching back to start is read (tier 1 for 2 h); SAMPLES accepted explicitly', async () => {
    const [result] = await read(
      server,
      [
        {
          start: T0,
          end: T0 + 29_999,
          matchers: [
            ['__name__', '=', 'cpu_usage'],
            ['host', '=', 'web1'],
          ],
        },
      ],
      [0, 1],
    );
    // 10 s averages of a gauge rising by 1/4 per second: the value 4.5 s into each window.
    assert.deepEqual(
      result![0]!.samples,
      [T0, T0 + 10_000, T0 + 20_000].map((t) => [t, valueAt(0, t) + 4.5 / 4]),
    );
  });

  test('bounds and bad bodies: 400 or 413 with a JSON message', async () => {
    await assert.rejects(
      read(small, [{ start: last - 200_000, end: last, matchers: [['__name__', '=', 'cpu_usage']] }]),
      /HTTP 400.*more than the 100 allowed/,
    );
    await assert.rejects(
      read(server, [{ start: last, end: last, matchers: [] }], [1]),
      /HTTP 400.*SAMPLES only/,
    );
    await assert.rejects(
      read(server, [{ start: 0, end: 1, matchers: [['a', '=~', '(']] }]),
      /HTTP 400.*bad regex/,
    );
    const post = (body: Uint8Array, srv = server) => getJson(srv, '/api/v1/read', { method: 'POST', body });
    const notSnappy = await post(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    assert.equal(notSnappy.status, 400);
    assert.match(notSnappy.body.error, /snappy/);
    const notProto = await post(snappyjs.compress(Uint8Array.from([0x0b, 0x01])));
    assert.equal(notProto.status, 400);
    assert.match(notProto.body.error, /not a ReadRequest/);
    const bomb = await post(snappyjs.compress(new Uint8Array(1000)), small);
    assert.equal(bomb.status, 413);
    assert.match(bomb.body.error, /declares 1000 bytes/);
  });
});
