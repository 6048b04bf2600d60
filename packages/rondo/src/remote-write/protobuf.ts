/**
 * A hand-written protobuf encoder for the four messages of Prometheus remote-write v1
 * (prompb/remote.proto, prompb/types.proto):
 *
 *   message WriteRequest { repeated TimeSeries timeseries = 1; }
 *   message TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
 *   message Label        { string name = 1; string value = 2; }
 *   message Sample       { double value = 1; int64 timestamp = 2; }
 *
 * Sizes are computed first so the request is written into one exactly sized buffer.
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
function varintSize(v: number): number {
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

class Writer {
  pos = 0;
  constructor(readonly buf: Buffer) {}

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

  string(field: number, s: string): void {
    this.buf[this.pos++] = (field << 3) | 2;
    const len = Buffer.byteLength(s, 'utf8');
    this.varint(len);
    this.pos += this.buf.write(s, this.pos, len, 'utf8');
  }
}

/** Encodes a WriteRequest holding `series`. Timestamps must be whole numbers of ms. */
export function encodeWriteRequest(series: readonly PromSeries[]): Buffer {
  let total = 0;
  const sizes = new Array<number>(series.length);
  for (let i = 0; i < series.length; i++) {
    const s = series[i]!;
    if (s.timestamps.length !== s.values.length)
      throw new RangeError('encodeWriteRequest: timestamps and values differ in length');
    for (let j = 0; j < s.timestamps.length; j++) {
      const t = s.timestamps[j]!;
      if (!Number.isSafeInteger(t))
        throw new RangeError(`encodeWriteRequest: timestamp ${t} is not a whole number`);
    }
    sizes[i] = seriesSize(s);
    total += 1 + varintSize(sizes[i]!) + sizes[i]!;
  }
  const w = new Writer(Buffer.allocUnsafe(total));
  const { buf } = w;
  for (let i = 0; i < series.length; i++) {
    const s = series[i]!;
    buf[w.pos++] = 0x0a; // WriteRequest.timeseries, field 1, length-delimited
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
  if (w.pos !== total) throw new Error(`encodeWriteRequest: wrote ${w.pos} bytes, expected ${total}`);
  return buf;
}
