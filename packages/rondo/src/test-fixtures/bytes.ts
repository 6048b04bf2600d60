// Reading and overwriting bytes of a store's files in place, for the tests that damage them on
// purpose (corrupt.test.ts, recovery.test.ts).
import { closeSync, openSync, readSync, writeSync } from 'node:fs';

/** The `length` bytes of the file at `path` from `offset`. */
export function readBytes(path: string, offset: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, b, 0, length, offset);
  } finally {
    closeSync(fd);
  }
  return b;
}

/** Overwrites the file at `path` with `bytes` from `offset`. */
export function patchBytes(path: string, offset: number, bytes: Uint8Array): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

/** `n` as a little-endian u32. */
export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

/** `n` as a little-endian u64. */
export function u64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
}
