/**
 * Hand-written protobuf for Prometheus' remote-write v1 and remote-read messages
 * (prompb/remote.proto, prompb/types.proto): the wire primitives (an exactly sized writer and a
 * bounds-checked reader) and the series list both protocols share:
 *
 *   message WriteRequest { repeated TimeSeries timeseries = 1; }
 *   message QueryResult  { repeated TimeSeries timeseries = 1; }   (remote read, same layout)
 *   message TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
 *   message Label        { string name = 1; string value = 2; }
 *   message Sample       { double value = 1; int64 timestamp = 2; }
 *
 * Sizes are computed first so a message is written into one exactly sized buffer.
 */

/** A label pair, already mapped to Prometheus names. */
export interface PromLabel {
  /** Label name. */
  name: string;
  /** Label value. */
  value: string;
}

/** One series of a WriteRequest: labels sorted by name, samples in time order. */
export interface PromSeries {
  /** Labels including `__name__`, sorted by name. */
  labels: PromLabel[];
  /** Sample timestamps, ms (whole numbers). */
  timestamps: ArrayLike<number>;
  /** Sample values. */
  values: ArrayLike<number>;
}

const TWO_32 = 2 ** 32;

/** Bytes of `v` as a varint; `v` a whole number in [-2^63, 2^64) (negatives as 64-bit two's complement). */
export function varintSize(v: number): number {
  if (v < 0) return 10;
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function stringSize(s: string): number {
  const len = Buffer.byteLength(s, 'utf8');
  return varintSize(len) + len;
}

function labelSize(l: PromLabel): number {
  return 1 + stringSize(l.name) + 1 + stringSize(l.value);
}

// A sample: tag(1) + double(8) + tag(1) + varint(timestamp).
function sampleSize(ts: number): number {
  return 1 + 8 + 1 + varintSize(ts);
}

function seriesSize(s: PromSeries): number {
  let n = 0;
  for (const l of s.labels) {
    const m = labelSize(l);
    n += 1 + varintSize(m) + m;
  }
  for (let i = 0; i < s.timestamps.length; i++) {
    const m = sampleSize(s.timestamps[i]!);
    n += 1 + varintSize(m) + m;
  }
  return n;
}

/** Writes protobuf fields into a buffer sized beforehand; `pos` is the next byte. */
export class ProtoWriter {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  /** A varint; negatives as 64-bit two's complement (10 bytes). */
  varint(v: number): void {
    const { buf } = this;
    if (v < 0) {
      // int64 two's complement: always 10 bytes.
      let big = BigInt.asUintN(64, BigInt(v));
      for (let i = 0; i < 9; i++) {
        buf[this.pos++] = Number(big & 0x7fn) | 0x80;
        big >>= 7n;
      }
      buf[this.pos++] = Number(big);
      return;
    }
    while (v >= TWO_32) {
      buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    while (v >= 128) {
      buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[this.pos++] = v;
  }

  /** A length-delimited string field. */
  string(field: number, s: string): void {
    this.buf[this.pos++] = (field << 3) | 2;
    const len = Buffer.byteLength(s, 'utf8');
    this.varint(len);
    this.pos += this.buf.write(s, this.pos, len, 'utf8');
  }
}

/** Bytes of `series` as repeated field 1 (a WriteRequest, or a QueryResult); checks the samples. */
export function seriesListSize(series: readonly PromSeries[], sizes: number[]): number {
  let total = 0;
  for (let i = 0; i < series.length; i++) {
    const s = series[i]!;
    if (s.timestamps.length !== s.values.length)
      throw new RangeError('protobuf: timestamps and values differ in length');
    for (let j = 0; j < s.timestamps.length; j++) {
      const t = s.timestamps[j]!;
      if (!Number.isSafeInteger(t)) throw new RangeError(`protobuf: timestamp ${t} is not a whole number`);
    }
    sizes[i] = seriesSize(s);
    total += 1 + varintSize(sizes[i]!) + sizes[i]!;
  }
  return total;
}

/** Writes `series` as repeated field 1, with the sizes {@link seriesListSize} computed. */
export function writeSeriesList(
  w: ProtoWriter,
  series: readonly PromSeries[],
  sizes: readonly number[],
): void {
  const { buf } = w;
  for (let i = 0; i < series.length; i++) {
    const s = series[i]!;
    buf[w.pos++] = 0x0a; // field 1 (timeseries), length-delimited
    w.varint(sizes[i]!);
    for (const l of s.labels) {
      buf[w.pos++] = 0x0a; // TimeSeries.labels, field 1
      w.varint(labelSize(l));
      w.string(1, l.name);
      w.string(2, l.value);
    }
    for (let j = 0; j < s.timestamps.length; j++) {
      const t = s.timestamps[j]!;
      buf[w.pos++] = 0x12; // TimeSeries.samples, field 2
      w.varint(sampleSize(t));
      buf[w.pos++] = 0x09; // Sample.value, field 1, 64-bit
      buf.writeDoubleLE(s.values[j]!, w.pos);
      w.pos += 8;
      buf[w.pos++] = 0x10; // Sample.timestamp, field 2, varint
      w.varint(t);
    }
  }
}

/** Encodes a WriteRequest holding `series`. Timestamps must be whole numbers of ms (else RangeError). */
export function encodeWriteRequest(series: readonly PromSeries[]): Buffer {
  const sizes = new Array<number>(series.length);
  const total = seriesListSize(series, sizes);
  const w = new ProtoWriter(Buffer.allocUnsafe(total));
  writeSeriesList(w, series, sizes);
  if (w.pos !== total) throw new Error(`encodeWriteRequest: wrote ${w.pos} bytes, expected ${total}`);
  return w.buf;
}

/** A malformed protobuf message (truncated, a bad wire type, a varint too long). */
export class ProtoError extends Error {
  constructor(message: string) {
    super(`protobuf: ${message}`);
    this.name = 'ProtoError';
  }
}

/** Reads protobuf fields from `buf[pos, end)`; every read is bounds-checked (ProtoError). */
export class ProtoReader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    pos = 0,
    readonly end = buf.length,
  ) {
    this.pos = pos;
  }

  /** True while bytes remain. */
  more(): boolean {
    return this.pos < this.end;
  }

  /** An unsigned varint as a number (exact below 2^53); `int64` negatives with {@link int64}. */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtoError('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw new ProtoError('varint longer than 10 bytes');
  }

  /** An int64 varint as a number: negatives (10 bytes, two's complement) come back negative. */
  int64(): number {
    const from = this.pos;
    const v = this.varint();
    if (this.pos - from < 10) return v;
    // Re-read exactly: doubles cannot hold the 64-bit two's complement.
    let big = 0n;
    for (let i = this.pos - 1; i >= from; i--) big = (big << 7n) | BigInt(this.buf[i]! & 0x7f);
    return Number(BigInt.asIntN(64, big));
  }

  /** A field tag: [field number, wire type]. */
  tag(): [number, number] {
    const t = this.varint();
    const field = Math.floor(t / 8);
    if (field === 0) throw new ProtoError('field number 0');
    return [field, t % 8];
  }

  /** The bounds [start, end) of a length-delimited field; moves past it. */
  bytes(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    if (len > this.end - start) throw new ProtoError('length-delimited field runs past the end');
    this.pos = start + len;
    return [start, this.pos];
  }

  /** A length-delimited UTF-8 string. */
  string(): string {
    const [start, end] = this.bytes();
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + start, end - start).toString('utf8');
  }

  /** Skips a field of wire type `wire` (groups are refused: proto3 has none). */
  skip(wire: number): void {
    switch (wire) {
      case 0:
        this.varint();
        return;
      case 1:
        this.advance(8);
        return;
      case 2:
        this.bytes();
        return;
      case 5:
        this.advance(4);
        return;
      default:
        throw new ProtoError(`unsupported wire type ${wire}`);
    }
  }

  private advance(n: number): void {
    if (this.end - this.pos < n) throw new ProtoError('truncated fixed-width field');
    this.pos += n;
  }
}
