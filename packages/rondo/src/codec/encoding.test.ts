// The hand-written encoders against independent decoders: protobufjs with the remote-write schema
// defined inline, and snappyjs; random inputs (fast-check), empty ones, and ones over 64 KiB.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { promLabels, sanitizeLabelName, sanitizeMetricName } from './labels.js';
import { encodeWriteRequest, type PromSeries } from './protobuf.js';
import { maxCompressedLength, snappyCompress } from './snappy.js';

const require = createRequire(import.meta.url);
const protobuf = require('protobufjs') as typeof import('protobufjs');
const snappyjs = require('snappyjs') as { uncompress(input: Uint8Array): Uint8Array };

const PROTO = `
syntax = "proto3";
package prometheus;
message WriteRequest { repeated TimeSeries timeseries = 1; }
message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
message Label { string name = 1; string value = 2; }
message Sample { double value = 1; int64 timestamp = 2; }
`;
const WriteRequest = protobuf.parse(PROTO).root.lookupType('prometheus.WriteRequest');

interface Decoded {
  timeseries?: {
    labels?: { name?: string; value?: string }[];
    samples?: { value?: number; timestamp?: string }[];
  }[];
}

function decode(buf: Uint8Array): PromSeries[] {
  const obj = WriteRequest.toObject(WriteRequest.decode(buf), { longs: String, defaults: true }) as Decoded;
  return (obj.timeseries ?? []).map((ts) => ({
    labels: (ts.labels ?? []).map((l) => ({ name: l.name ?? '', value: l.value ?? '' })),
    timestamps: (ts.samples ?? []).map((s) => Number(s.timestamp)),
    values: (ts.samples ?? []).map((s) => s.value ?? 0),
  }));
}

function plain(series: PromSeries[]) {
  return series.map((s) => ({
    labels: s.labels.map((l) => ({ name: l.name, value: l.value })),
    timestamps: Array.from(s.timestamps),
    values: Array.from(s.values),
  }));
}

const seriesArb = fc
  .array(fc.tuple(fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), fc.double()), { maxLength: 20 })
  .chain((samples) =>
    fc.record({
      labels: fc.array(fc.record({ name: fc.string(), value: fc.string({ unit: 'grapheme' }) }), {
        maxLength: 5,
      }),
      timestamps: fc.constant(samples.map((s) => s[0])),
      values: fc.constant(samples.map((s) => s[1])),
    }),
  );

describe('protobuf WriteRequest encoder', () => {
  test('random requests decode to the same series with protobufjs', () => {
    fc.assert(
      fc.property(fc.array(seriesArb, { maxLength: 6 }), (series) => {
        const got = plain(decode(encodeWriteRequest(series)));
        const want = plain(series);
        assert.equal(got.length, want.length);
        for (let i = 0; i < want.length; i++) {
          assert.deepEqual(got[i]!.labels, want[i]!.labels);
          assert.deepEqual(got[i]!.timestamps, want[i]!.timestamps);
          // Object.is: NaN, -0 and infinities must survive bit for bit.
          for (const [j, v] of want[i]!.values.entries()) assert.ok(Object.is(got[i]!.values[j], v), `${v}`);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('an empty request is empty; a large one (> 64 KiB) decodes', () => {
    assert.equal(encodeWriteRequest([]).length, 0);
    assert.deepEqual(decode(encodeWriteRequest([])), []);
    const n = 20_000;
    const ts = Float64Array.from({ length: n }, (_, i) => 1_700_000_000_000 + i * 1000);
    const vs = Float64Array.from({ length: n }, (_, i) => Math.sin(i));
    const series: PromSeries[] = [
      { labels: [{ name: '__name__', value: 'big' }], timestamps: ts, values: vs },
      { labels: [{ name: '__name__', value: 'x'.repeat(70_000) }], timestamps: [], values: [] },
    ];
    const buf = encodeWriteRequest(series);
    assert.ok(buf.length > 64 * 1024);
    assert.deepEqual(plain(decode(buf)), plain(series));
  });

  test('fractional timestamps are refused', () => {
    assert.throws(() => encodeWriteRequest([{ labels: [], timestamps: [1.5], values: [1] }]), RangeError);
  });
});

describe('snappy block compressor', () => {
  const roundTrip = (input: Uint8Array) => {
    const c = snappyCompress(input);
    assert.ok(c.length <= maxCompressedLength(input.length));
    assert.deepEqual(Buffer.from(snappyjs.uncompress(c)), Buffer.from(input));
    return c;
  };

  test('random and repetitive inputs round-trip through snappyjs', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (input) => {
        roundTrip(input);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 200 })), {
          maxLength: 30,
        }),
        (parts) => {
          const input = Buffer.concat(parts.flatMap(([chunk, times]) => Array(times).fill(chunk)));
          roundTrip(input);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('empty, tiny and large (> 64 KiB, long literals and long matches) inputs', () => {
    for (const input of [
      new Uint8Array(0),
      Buffer.from('a'),
      Buffer.from('abcdefg'),
      Buffer.alloc(100_000, 7),
    ])
      roundTrip(input);
    const random = randomBytes(300_000); // literals longer than 65536 bytes (4-byte length tags)
    roundTrip(random);
    const mixed = Buffer.concat([
      random.subarray(0, 70_000),
      random.subarray(0, 70_000),
      Buffer.alloc(70_000),
    ]);
    roundTrip(mixed);
    const c = roundTrip(Buffer.alloc(1 << 20, 1));
    assert.ok(c.length < 60_000, `1 MiB of one byte compressed to ${c.length} bytes`);
  });

  test('a realistic WriteRequest compresses well', () => {
    const series: PromSeries[] = [];
    for (let s = 0; s < 100; s++) {
      series.push({
        labels: [
          { name: '__name__', value: 'cpu_usage' },
          { name: 'host', value: `web${s}` },
        ],
        timestamps: Array.from({ length: 60 }, (_, i) => 1_700_000_000_000 + i * 1000),
        values: Array.from({ length: 60 }, (_, i) => (i % 7) * 0.5),
      });
    }
    const raw = encodeWriteRequest(series);
    const c = roundTrip(raw);
    assert.ok(c.length * 3 < raw.length, `${raw.length} → ${c.length}`);
  });
});

describe('label mapping', () => {
  test('names are sanitized to the Prometheus charset', () => {
    assert.equal(sanitizeMetricName('cpu.usage'), 'cpu_usage');
    assert.equal(sanitizeMetricName('http:req-total'), 'http:req_total');
    assert.equal(sanitizeMetricName('9lives'), '_9lives');
    assert.equal(sanitizeLabelName('k8s.pod:name'), 'k8s_pod_name');
    assert.equal(sanitizeLabelName('1x'), '_1x');
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (s) => {
        assert.match(sanitizeMetricName(s), /^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
        assert.match(sanitizeLabelName(s), /^[a-zA-Z_][a-zA-Z0-9_]*$/);
      }),
    );
  });

  test('series labels win over external ones; sorted, no duplicates', () => {
    const labels = promLabels('cpu.usage', { 'host.name': 'a', host_name: 'b', zone: 'z', env: 'prod' }, [
      { name: 'env', value: 'dev' },
      { name: 'cluster', value: 'c1' },
      { name: 'empty', value: '' },
    ]);
    assert.deepEqual(labels, [
      { name: '__name__', value: 'cpu_usage' },
      { name: 'cluster', value: 'c1' },
      { name: 'env', value: 'prod' },
      { name: 'host_name', value: 'b' },
      { name: 'zone', value: 'z' },
    ]);
  });
});
