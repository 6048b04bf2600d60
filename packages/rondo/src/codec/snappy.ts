/**
 * Snappy block format (not the framing format: remote write and remote read send a raw block).
 * Decompression checks every length and offset against a size limit the caller sets.
 *
 * Compression: A greedy compressor: a hash table of 4-byte sequences finds earlier matches within
 * 64 KiB, emitted as copies with 2-byte offsets; everything else is literals. Output is valid
 * for any snappy decoder; the ratio is close to the reference for repetitive protobuf.
 */

const HASH_BITS = 14;
const MAX_OFFSET = 65535;

/** Upper bound of the compressed size of `n` bytes (the reference's MaxCompressedLength). */
export function maxCompressedLength(n: number): number {
  return 32 + n + Math.floor(n / 6);
}

function load32(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
}

function hash(x: number): number {
  return Math.imul(x, 0x1e35a7bd) >>> (32 - HASH_BITS);
}

/** Compresses `input` into one snappy block. */
// biome-ignore lint/complexity/noExcessiveCognitiveComplexity: the format's one match-finding loop, kept whole as in every snappy implementation (a byte loop over the whole input: no calls in it).
export function snappyCompress(input: Uint8Array): Buffer {
  const n = input.length;
  const out = Buffer.allocUnsafe(maxCompressedLength(n));
  let op = 0;
  // Preamble: the uncompressed length as a varint.
  for (let v = n; ; ) {
    if (v < 128) {
      out[op++] = v;
      break;
    }
    out[op++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }

  const emitLiteral = (from: number, to: number): void => {
    const len = to - from;
    if (len === 0) return;
    const l = len - 1;
    if (l < 60) out[op++] = l << 2;
    else if (l < 0x100) {
      out[op++] = 60 << 2;
      out[op++] = l;
    } else if (l < 0x10000) {
      out[op++] = 61 << 2;
      out[op++] = l & 0xff;
      out[op++] = l >>> 8;
    } else if (l < 0x1000000) {
      out[op++] = 62 << 2;
      out[op++] = l & 0xff;
      out[op++] = (l >>> 8) & 0xff;
      out[op++] = l >>> 16;
    } else {
      out[op++] = 63 << 2;
      out.writeUInt32LE(l, op);
      op += 4;
    }
    out.set(input.subarray(from, to), op);
    op += len;
  };

  // Copy with a 2-byte offset: length 1..64.
  const emitCopy1 = (offset: number, len: number): void => {
    out[op++] = ((len - 1) << 2) | 2;
    out[op++] = offset & 0xff;
    out[op++] = offset >>> 8;
  };
  const emitCopy = (offset: number, len: number): void => {
    while (len >= 68) {
      emitCopy1(offset, 64);
      len -= 64;
    }
    if (len > 64) {
      emitCopy1(offset, 60);
      len -= 60;
    }
    emitCopy1(offset, len);
  };

  if (n >= 8) {
    const table = new Int32Array(1 << HASH_BITS).fill(-1);
    let ip = 0;
    let lit = 0;
    let misses = 0;
    const limit = n - 4;
    while (ip <= limit) {
      const x = load32(input, ip);
      const h = hash(x);
      const cand = table[h]!;
      table[h] = ip;
      if (cand >= 0 && ip - cand <= MAX_OFFSET && load32(input, cand) === x) {
        let len = 4;
        while (ip + len < n && input[cand + len] === input[ip + len]) len++;
        emitLiteral(lit, ip);
        emitCopy(ip - cand, len);
        ip += len;
        lit = ip;
        misses = 0;
        // Index the position just before the next one, so back-to-back matches are found.
        if (ip - 1 <= limit) table[hash(load32(input, ip - 1))] = ip - 1;
      } else {
        // Skip faster through data that does not compress, as the reference does.
        ip += 1 + (misses++ >> 5);
      }
    }
    emitLiteral(lit, n);
  } else {
    emitLiteral(0, n);
  }
  return out.subarray(0, op);
}

/**
 * Wraps `input` in a snappy block of literals only, without looking for matches: valid for every
 * snappy decoder, 0.01 % larger than the input, and as fast as a copy. For payloads that barely
 * compress (float64 samples gain ~15 %), where searching would cost far more CPU than it saves.
 */
export function snappyStore(input: Uint8Array): Buffer {
  const n = input.length;
  const CHUNK = 65536; // one literal tag per 64 KiB: 3 header bytes each
  const out = Buffer.allocUnsafe(5 + n + 3 * Math.ceil(n / CHUNK));
  let op = 0;
  for (let v = n; ; v = Math.floor(v / 128)) {
    if (v < 128) {
      out[op++] = v;
      break;
    }
    out[op++] = (v % 128) | 0x80;
  }
  for (let from = 0; from < n; from += CHUNK) {
    const len = Math.min(CHUNK, n - from);
    // The shortest tag for the length, as the reference writes it (some decoders expect that).
    const l = len - 1;
    if (l < 60) out[op++] = l << 2;
    else if (l < 0x100) {
      out[op++] = 60 << 2;
      out[op++] = l;
    } else {
      out[op++] = 61 << 2;
      out[op++] = l & 0xff;
      out[op++] = l >>> 8;
    }
    out.set(input.subarray(from, from + len), op);
    op += len;
  }
  return out.subarray(0, op);
}

/** A snappy block that is malformed or would decompress to more than the caller allows. */
export class SnappyError extends Error {
  /** True when the block is well formed so far but declares more bytes than the limit. */
  readonly tooLarge: boolean;
  constructor(message: string, tooLarge = false) {
    super(`snappy: ${message}`);
    this.name = 'SnappyError';
    this.tooLarge = tooLarge;
  }
}

/** The uncompressed length a block declares (its preamble), without decompressing. */
export function snappyUncompressedLength(input: Uint8Array): number {
  let n = 0;
  for (let i = 0, scale = 1; i < 5; i++, scale *= 128) {
    const b = input[i];
    if (b === undefined) throw new SnappyError('truncated length preamble');
    n += (b & 0x7f) * scale;
    if (b < 0x80) return n;
  }
  throw new SnappyError('length preamble longer than 5 bytes');
}

/**
 * Decompresses one snappy block. Refuses, before allocating, a block that declares more than
 * `maxLength` bytes (SnappyError with `tooLarge`), and any tag that reads or copies out of bounds.
 */
// biome-ignore lint/complexity/noExcessiveCognitiveComplexity: the tag-decoding loop of the format, kept whole (a byte loop over the whole input: no calls in it).
export function snappyUncompress(input: Uint8Array, maxLength: number): Buffer {
  const n = snappyUncompressedLength(input);
  if (n > maxLength)
    throw new SnappyError(`the block declares ${n} bytes, more than the ${maxLength} allowed`, true);
  let ip = 0;
  while (input[ip]! >= 0x80) ip++;
  ip++;
  const out = Buffer.allocUnsafe(n);
  let op = 0;
  while (ip < input.length) {
    const tag = input[ip++]!;
    let len: number;
    let offset: number;
    switch (tag & 3) {
      case 0: {
        len = tag >>> 2;
        if (len >= 60) {
          const extra = len - 59; // 1..4 little-endian length bytes
          if (ip + extra > input.length) throw new SnappyError('truncated literal length');
          len = 0;
          for (let i = 0; i < extra; i++) len += input[ip + i]! * 2 ** (8 * i);
          ip += extra;
        }
        len++;
        if (len > input.length - ip) throw new SnappyError('literal runs past the input');
        if (len > n - op) throw new SnappyError('literal runs past the declared length');
        out.set(input.subarray(ip, ip + len), op);
        ip += len;
        op += len;
        continue;
      }
      case 1:
        if (ip + 1 > input.length) throw new SnappyError('truncated copy');
        len = ((tag >>> 2) & 7) + 4;
        offset = ((tag >>> 5) << 8) | input[ip++]!;
        break;
      case 2:
        if (ip + 2 > input.length) throw new SnappyError('truncated copy');
        len = (tag >>> 2) + 1;
        offset = input[ip]! | (input[ip + 1]! << 8);
        ip += 2;
        break;
      default:
        if (ip + 4 > input.length) throw new SnappyError('truncated copy');
        len = (tag >>> 2) + 1;
        offset = (input[ip]! | (input[ip + 1]! << 8) | (input[ip + 2]! << 16) | (input[ip + 3]! << 24)) >>> 0;
        ip += 4;
    }
    if (offset === 0 || offset > op) throw new SnappyError(`copy offset ${offset} outside the output`);
    if (len > n - op) throw new SnappyError('copy runs past the declared length');
    if (offset >= len) {
      out.copyWithin(op, op - offset, op - offset + len);
      op += len;
    } else {
      // Overlapping: the copy repeats a pattern of `offset` bytes, byte by byte.
      for (let i = 0; i < len; i++, op++) out[op] = out[op - offset]!;
    }
  }
  if (op !== n) throw new SnappyError(`decompressed ${op} bytes, the block declares ${n}`);
  return out;
}
