/**
 * Snappy block-format compression (the format, not the framing format: remote write sends a
 * raw block). A greedy compressor: a hash table of 4-byte sequences finds earlier matches within
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
