/**
 * Prometheus remote-read messages (prompb/remote.proto, prompb/types.proto): the decoder of a
 * ReadRequest and the encoder of a ReadResponse with SAMPLES.
 *
 *   message ReadRequest  { repeated Query queries = 1; repeated ResponseType accepted_response_types = 2; }
 *   message Query        { int64 start_timestamp_ms = 1; int64 end_timestamp_ms = 2;
 *                          repeated LabelMatcher matchers = 3; ReadHints hints = 4; }
 *   message LabelMatcher { Type type = 1; string name = 2; string value = 3; }  (EQ, NEQ, RE, NRE)
 *   message ReadHints    { int64 step_ms = 1; string func = 2; int64 start_ms = 3; int64 end_ms = 4;
 *                          repeated string grouping = 5; bool by = 6; int64 range_ms = 7; }
 *   message ReadResponse { repeated QueryResult results = 1; }
 *   message QueryResult  { repeated TimeSeries timeseries = 1; }
 */
import {
  type PromSeries,
  ProtoError,
  ProtoReader,
  ProtoWriter,
  seriesListSize,
  varintSize,
  writeSeriesList,
} from './protobuf.js';

/** LabelMatcher.Type: `=`, `!=`, `=~`, `!~`. */
export const MATCH_TYPES = ['=', '!=', '=~', '!~'] as const;

/** One matcher of a remote-read query. */
export interface ReadMatcher {
  /** The operator (from LabelMatcher.Type). */
  op: (typeof MATCH_TYPES)[number];
  /** Label name (`__name__` for the metric name). */
  name: string;
  /** Value or regex. */
  value: string;
}

/** What Prometheus tells about the query the data is for (only the innermost function). */
export interface ReadHints {
  /** Query step, ms. */
  stepMs: number;
  /** Innermost function, e.g. `rate`; '' for none. */
  func: string;
  /** Start of the data the function needs, ms. */
  startMs: number;
  /** End, ms. */
  endMs: number;
  /** Labels of a `by`/`without` grouping. */
  grouping: string[];
  /** True for `by`, false for `without`. */
  by: boolean;
  /** Range of a range vector selector, ms. */
  rangeMs: number;
}

/** One query of a ReadRequest: samples with `startMs ≤ t ≤ endMs` of the matching series. */
export interface ReadQuery {
  /** Inclusive start, ms. */
  startMs: number;
  /** Inclusive end, ms. */
  endMs: number;
  /** Every matcher must hold. */
  matchers: ReadMatcher[];
  /** Hints, when sent. */
  hints: ReadHints | null;
}

/** A decoded ReadRequest. */
export interface ReadRequest {
  /** Queries, answered in this order. */
  queries: ReadQuery[];
  /** 0 = SAMPLES, 1 = STREAMED_XOR_CHUNKS; empty means SAMPLES. */
  acceptedResponseTypes: number[];
}

/** Decodes a ReadRequest (uncompressed); ProtoError when malformed. */
export function decodeReadRequest(buf: Uint8Array): ReadRequest {
  const r = new ProtoReader(buf);
  const out: ReadRequest = { queries: [], acceptedResponseTypes: [] };
  while (r.more()) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === 2) {
      const [start, end] = r.bytes();
      out.queries.push(decodeQuery(new ProtoReader(buf, start, end)));
    } else if (field === 2 && wire === 0) {
      out.acceptedResponseTypes.push(r.varint());
    } else if (field === 2 && wire === 2) {
      // Packed repeated enum (what proto3 encoders write).
      const [start, end] = r.bytes();
      const packed = new ProtoReader(buf, start, end);
      while (packed.more()) out.acceptedResponseTypes.push(packed.varint());
    } else r.skip(wire);
  }
  return out;
}

function decodeQuery(r: ProtoReader): ReadQuery {
  const q: ReadQuery = { startMs: 0, endMs: 0, matchers: [], hints: null };
  while (r.more()) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === 0) q.startMs = r.int64();
    else if (field === 2 && wire === 0) q.endMs = r.int64();
    else if (field === 3 && wire === 2) {
      const [start, end] = r.bytes();
      q.matchers.push(decodeMatcher(new ProtoReader(r.buf, start, end)));
    } else if (field === 4 && wire === 2) {
      const [start, end] = r.bytes();
      q.hints = decodeHints(new ProtoReader(r.buf, start, end));
    } else r.skip(wire);
  }
  return q;
}

function decodeMatcher(r: ProtoReader): ReadMatcher {
  let type = 0;
  let name = '';
  let value = '';
  while (r.more()) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === 0) type = r.varint();
    else if (field === 2 && wire === 2) name = r.string();
    else if (field === 3 && wire === 2) value = r.string();
    else r.skip(wire);
  }
  const op = MATCH_TYPES[type];
  if (op === undefined) throw new ProtoError(`unknown matcher type ${type}`);
  return { op, name, value };
}

/** ReadHints' fields by (field number, wire type): how each is read into the hints. */
const HINT_FIELDS: Record<string, (h: ReadHints, r: ProtoReader) => void> = {
  '1:0': (h, r) => {
    h.stepMs = r.int64();
  },
  '2:2': (h, r) => {
    h.func = r.string();
  },
  '3:0': (h, r) => {
    h.startMs = r.int64();
  },
  '4:0': (h, r) => {
    h.endMs = r.int64();
  },
  '5:2': (h, r) => {
    h.grouping.push(r.string());
  },
  '6:0': (h, r) => {
    h.by = r.varint() !== 0;
  },
  '7:0': (h, r) => {
    h.rangeMs = r.int64();
  },
};

function decodeHints(r: ProtoReader): ReadHints {
  const h: ReadHints = { stepMs: 0, func: '', startMs: 0, endMs: 0, grouping: [], by: false, rangeMs: 0 };
  while (r.more()) {
    const [field, wire] = r.tag();
    const read = HINT_FIELDS[`${field}:${wire}`];
    if (read === undefined) r.skip(wire);
    else read(h, r);
  }
  return h;
}

/**
 * Encodes a ReadResponse of SAMPLES: one QueryResult per query, in order, each holding its
 * series (labels sorted by name, timestamps whole ms; RangeError otherwise).
 */
export function encodeReadResponse(results: readonly (readonly PromSeries[])[]): Buffer {
  const sizes = results.map((series) => new Array<number>(series.length));
  const bodies = results.map((series, i) => seriesListSize(series, sizes[i]!));
  let total = 0;
  for (const b of bodies) total += 1 + varintSize(b) + b;
  const w = new ProtoWriter(Buffer.allocUnsafe(total));
  for (let i = 0; i < results.length; i++) {
    w.buf[w.pos++] = 0x0a; // ReadResponse.results, field 1
    w.varint(bodies[i]!);
    writeSeriesList(w, results[i]!, sizes[i]!);
  }
  if (w.pos !== total) throw new Error(`encodeReadResponse: wrote ${w.pos} bytes, expected ${total}`);
  return w.buf;
}
