// The remote-read codecs against independent ones: protobufjs with prompb's remote-read schema
// written inline, and snappyjs; random messages (fast-check), malformed and oversized ones.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { PromSeries } from './protobuf.js';
import { ProtoError } from './protobuf.js';
import { decodeReadRequest, encodeReadResponse, MATCH_TYPES, type ReadRequest } from './remote-read.js';
import { SnappyError, snappyCompress, snappyStore, snappyUncompress } from './snappy.js';

const require = createRequire(import.meta.url);
const protobuf = require('protobufjs') as typeof import('protobufjs');
const snappyjs = require('snappyjs') as { compress(input: Uint8Array): Uint8Array };

const PROTO = `
syntax = "proto3";
package prometheus;
message ReadRequest { repeated Query queries = 1; repeated ResponseType accepted_response_types = 2;
  enum ResponseType { SAMPLES = 0; STREAMED_XOR_CHUNKS = 1; } }
message Query { int64 start_timestamp_ms = 1; int64 end_timestamp_ms = 2; repeated LabelMatcher matchers = 3; ReadHints hints = 4; }
message LabelMatcher { enum Type { EQ = 0; NEQ = 1; RE = 2; NRE = 3; } Type type = 1; string name = 2; string value = 3; }
message ReadHints { int64 step_ms = 1; string func = 2; int64 start_ms = 3; int64 end_ms = 4; repeated string grouping = 5; bool by = 6; int64 range_ms = 7; }
message ReadResponse { repeated QueryResult results = 1; }
message QueryResult { repeated TimeSeries timeseries = 1; }
message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
message Label { string name = 1; string value = 2; }
message Sample { double value = 1; int64 timestamp = 2; }
`;
const root = protobuf.parse(PROTO).root;
const ReadRequestType = root.lookupType('prometheus.ReadRequest');
const ReadResponseType = root.lookupType('prometheus.ReadResponse');

const int64 = fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 });
const hintsArb = fc.record({
  stepMs: int64,
  func: fc.string(),
  startMs: int64,
  endMs: int64,
  grouping: fc.array(fc.string(), { maxLength: 3 }),
  by: fc.boolean(),
  rangeMs: int64,
});
const requestArb: fc.Arbitrary<ReadRequest> = fc.record({
  queries: fc.array(
    fc.record({
      startMs: int64,
      endMs: int64,
      matchers: fc.array(
        fc.record(
          {
            op: fc.constantFrom(...MATCH_TYPES),
            name: fc.string(),
            value: fc.string({ unit: 'grapheme' }),
          },
          { noNullPrototype: true },
        ),
        { maxLength: 4 },
      ),
      hints: fc.option(hintsArb, { nil: null }),
    }),
    { maxLength: 4 },
  ),
  acceptedResponseTypes: fc.array(fc.constantFrom(0, 1), { maxLength: 2 }),
});

/** The request as protobufjs encodes it (packed enums, as Prometheus' Go encoder writes them). */
function encodeWithProtobufjs(req: ReadRequest): Uint8Array {
  const msg = ReadRequestType.fromObject({
    queries: req.queries.map((q) => ({
      startTimestampMs: q.startMs,
      endTimestampMs: q.endMs,
      matchers: q.matchers.map((m) => ({ type: MATCH_TYPES.indexOf(m.op), name: m.name, value: m.value })),
      hints: q.hints ?? undefined,
    })),
    acceptedResponseTypes: req.acceptedResponseTypes,
  });
  return ReadRequestType.encode(msg).finish();
}

describe('ReadRequest decoder', () => {
  test('random requests encoded by protobufjs decode to the same request', () => {
    fc.assert(
      fc.property(requestArb, (req) => {
        // JSON round trip: fast-check builds null-prototype objects, which deepEqual tells apart.
        assert.deepEqual(decodeReadRequest(encodeWithProtobufjs(req)), JSON.parse(JSON.stringify(req)));
      }),
      { numRuns: 300 },
    );
  });

  test('unpacked response types, unknown fields and an empty request', () => {
    assert.deepEqual(decodeReadRequest(new Uint8Array(0)), { queries: [], acceptedResponseTypes: [] });
    // accepted_response_types unpacked (field 2, varint) twice, then an unknown fixed64 field 9.
    const buf = Uint8Array.from([0x10, 0x00, 0x10, 0x01, 0x49, 1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(decodeReadRequest(buf), { queries: [], acceptedResponseTypes: [0, 1] });
  });

  test('malformed requests are ProtoErrors, never a crash or a hang', () => {
    const good = encodeWithProtobufjs({
      queries: [
        { startMs: 1, endMs: 2, matchers: [{ op: '=~', name: '__name__', value: 'cpu.*' }], hints: null },
      ],
      acceptedResponseTypes: [],
    });
    for (let cut = 1; cut < good.length; cut++) {
      assert.throws(() => decodeReadRequest(good.subarray(0, cut)), ProtoError, `cut at ${cut}`);
    }
    assert.throws(() => decodeReadRequest(Uint8Array.from([0x0b])), ProtoError); // group wire type
    assert.throws(() => decodeReadRequest(Uint8Array.from([0x00, 0x01])), ProtoError); // field 0
    assert.throws(() => decodeReadRequest(Buffer.alloc(11, 0xff)), ProtoError); // endless varint
    // A matcher type beyond NRE.
    const bad = Uint8Array.from([0x0a, 0x04, 0x1a, 0x02, 0x08, 0x07]);
    assert.throws(() => decodeReadRequest(bad), /unknown matcher type 7/);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (junk) => {
        try {
          decodeReadRequest(junk);
        } catch (err) {
          assert.ok(err instanceof ProtoError, String(err));
        }
      }),
      { numRuns: 500 },
    );
  });
});

interface DecodedResponse {
  results?: {
    timeseries?: {
      labels?: { name: string; value: string }[];
      samples?: { value: number; timestamp: string }[];
    }[];
  }[];
}

describe('ReadResponse encoder', () => {
  const seriesArb = fc
    .array(fc.tuple(fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), fc.double()), { maxLength: 10 })
    .chain((samples) =>
      fc.record({
        labels: fc.array(fc.record({ name: fc.string(), value: fc.string() }, { noNullPrototype: true }), {
          maxLength: 4,
        }),
        timestamps: fc.constant(samples.map((s) => s[0])),
        values: fc.constant(samples.map((s) => s[1])),
      }),
    );

  test('random responses decode with protobufjs to the same results, in order', () => {
    fc.assert(
      fc.property(fc.array(fc.array(seriesArb, { maxLength: 4 }), { maxLength: 4 }), (results) => {
        const decoded = ReadResponseType.toObject(ReadResponseType.decode(encodeReadResponse(results)), {
          longs: String,
          defaults: true,
        }) as DecodedResponse;
        assert.equal(decoded.results?.length ?? 0, results.length);
        results.forEach((series: PromSeries[], i) => {
          const got = decoded.results![i]!.timeseries ?? [];
          assert.equal(got.length, series.length);
          series.forEach((s, j) => {
            assert.deepEqual(
              (got[j]!.labels ?? []).map((l) => ({ name: l.name, value: l.value })),
              s.labels,
            );
            const samples = got[j]!.samples ?? [];
            assert.deepEqual(
              samples.map((x) => Number(x.timestamp)),
              Array.from(s.timestamps),
            );
            for (const [k, x] of samples.entries()) assert.ok(Object.is(x.value, s.values[k]), `${x.value}`);
          });
        });
      }),
      { numRuns: 200 },
    );
  });

  test('an empty query result still takes its place', () => {
    const buf = encodeReadResponse([
      [],
      [{ labels: [{ name: '__name__', value: 'a' }], timestamps: [5], values: [1] }],
    ]);
    const decoded = ReadResponseType.toObject(ReadResponseType.decode(buf), {
      longs: String,
    }) as DecodedResponse;
    assert.equal(decoded.results?.length, 2);
    assert.equal(decoded.results?.[1]?.timeseries?.[0]?.samples?.[0]?.timestamp, '5');
  });
});

describe('snappy block decompressor', () => {
  test('random and repetitive inputs compressed by snappyjs (and by ours) come back', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (input) => {
        assert.deepEqual(snappyUncompress(snappyjs.compress(input), input.length), Buffer.from(input));
        assert.deepEqual(snappyUncompress(snappyCompress(input), input.length), Buffer.from(input));
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
          assert.deepEqual(snappyUncompress(snappyjs.compress(input), input.length), input);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('large inputs: long literals (4-byte lengths), long overlapping copies', () => {
    const random = randomBytes(300_000);
    for (const input of [
      random,
      Buffer.alloc(1 << 20, 3),
      Buffer.concat([random, random.subarray(0, 70_000)]),
    ]) {
      assert.deepEqual(snappyUncompress(snappyjs.compress(input), input.length), input);
      assert.deepEqual(snappyUncompress(snappyCompress(input), input.length), input);
    }
  });

  test('stored (literal-only) blocks decode with snappyjs and with ours', () => {
    const snappyUncompressJs = (require('snappyjs') as { uncompress(i: Uint8Array): Uint8Array }).uncompress;
    for (const n of [0, 1, 59, 60, 61, 255, 256, 257, 65536, 65537, 65536 + 60, 200_001]) {
      const input = randomBytes(n);
      const block = snappyStore(input);
      assert.ok(block.length <= input.length + 5 + 3 * Math.ceil(input.length / 65536));
      assert.deepEqual(Buffer.from(snappyUncompressJs(block)), Buffer.from(input));
      assert.deepEqual(snappyUncompress(block, input.length), Buffer.from(input));
    }
  });

  test('a block declaring more than the limit is refused before it is decompressed', () => {
    const block = snappyCompress(Buffer.alloc(10_000));
    assert.throws(
      () => snappyUncompress(block, 9_999),
      (err: unknown) => err instanceof SnappyError && err.tooLarge,
    );
    // A preamble claiming 4 GiB with no data behind it: refused by size, nothing allocated.
    assert.throws(
      () => snappyUncompress(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f]), 1 << 20),
      (err: unknown) => err instanceof SnappyError && err.tooLarge,
    );
  });

  test('malformed blocks are SnappyErrors', () => {
    const good = snappyCompress(Buffer.from('abcabcabcabcabcabcabcabc-xyz-xyz-xyz-xyz'));
    for (let cut = 0; cut < good.length; cut++) {
      assert.throws(() => snappyUncompress(good.subarray(0, cut), 1000), SnappyError, `cut at ${cut}`);
    }
    // A copy whose offset reaches before the start of the output.
    assert.throws(() => snappyUncompress(Uint8Array.from([4, 0x01, 0x09, 0x05]), 100), /offset/);
    // Output longer than declared.
    assert.throws(() => snappyUncompress(Uint8Array.from([1, 0x04, 0x61, 0x62]), 100), SnappyError);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (junk) => {
        try {
          snappyUncompress(junk, 1 << 16);
        } catch (err) {
          assert.ok(err instanceof SnappyError, String(err));
        }
      }),
      { numRuns: 500 },
    );
  });
});
