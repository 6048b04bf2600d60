import { constants as bufferConstants } from 'node:buffer';
import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';
import { corrupt, ioError, RondoError } from './errors.js';
import { fnv1a64 } from './hash.js';
import { native } from './native.js';
import { isMissing, openRegular } from './regular-file.js';
import { nsToMs } from './timestamp.js';

// Byte layout of a slab file; docs/storage-format.md is the reference and a test checks the two agree.
/** Size of the slab header in bytes; the timestamp column starts here. */
export const HEADER_BYTES = 4096;
/** The 8 magic bytes at offset 0. */
export const MAGIC = 'RONDOSLB';
/** Format version written at offset 8. */
export const FORMAT_VERSION = 1;
/** Byte offsets of the header fields. */
export const OFFSET = {
  magic: 0,
  version: 8,
  headerBytes: 12,
  schemaHash: 16,
  tierIndex: 24,
  slotCount: 28,
  seriesCapacity: 32,
  intervalNs: 40,
  checksum: 48,
  newestSlot: 64,
  dirtyFrom: 72,
  consolidatedTo: 80,
  seriesCount: 88,
  generation: 92,
  catalogSeq: 96,
  superseded: 100,
} as const;
/** The checksum covers bytes [0, CHECKSUM_COVERS): the fields that never change. */
export const CHECKSUM_COVERS = 48;

/**
 * The largest slab this Node can map: an ArrayBuffer is at most buffer.constants.MAX_LENGTH bytes
 * (4 GiB on Node 20, 2^53 − 1 from Node 22 on).
 */
export const MAX_MAPPABLE_BYTES = bufferConstants.MAX_LENGTH;

/** Formats a byte count in binary units (for messages). */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/** Why this Node cannot map a slab of `bytes`, or null when it can. */
export function unmappable(bytes: number): string | null {
  if (bytes <= MAX_MAPPABLE_BYTES) return null;
  return `a slab of ${bytes} bytes (${formatBytes(bytes)}) is larger than Node ${process.version} can map (${MAX_MAPPABLE_BYTES} bytes; Node 22 and later map up to 1 TiB)`;
}

/** File size of a slab: header + (timestamp column + one value column per series) × slots × 8. */
export function slabBytes(slots: number, capacity: number): number {
  return HEADER_BYTES + slots * (1 + capacity) * 8;
}

/** The immutable identity of a slab, written at creation and checked at every open. */
export interface SlabIdentity {
  /** FNV-1a 64 of the schema's canonical JSON. */
  readonly schemaHash: bigint;
  /** The hash older versions computed for the same schema, when it differs (also accepted). */
  readonly legacySchemaHash?: bigint;
  /** Tier index within the schema. */
  readonly tierIndex: number;
  /** Ring size. */
  readonly slots: number;
  /** Value columns. */
  readonly capacity: number;
  /** Slot width in ms. */
  readonly intervalMs: number;
}

function encodeHeader(id: SlabIdentity): Buffer {
  const b = Buffer.alloc(HEADER_BYTES);
  b.write(MAGIC, OFFSET.magic, 'latin1');
  b.writeUInt32LE(FORMAT_VERSION, OFFSET.version);
  b.writeUInt32LE(HEADER_BYTES, OFFSET.headerBytes);
  b.writeBigUInt64LE(id.schemaHash, OFFSET.schemaHash);
  b.writeUInt32LE(id.tierIndex, OFFSET.tierIndex);
  b.writeUInt32LE(id.slots, OFFSET.slotCount);
  b.writeUInt32LE(id.capacity, OFFSET.seriesCapacity);
  b.writeBigUInt64LE(BigInt(id.intervalMs) * 1_000_000n, OFFSET.intervalNs);
  b.writeBigUInt64LE(fnv1a64(b.subarray(0, CHECKSUM_COVERS)), OFFSET.checksum);
  return b;
}

/**
 * Creates a slab at full size with an empty ring (every timestamp 0), its blocks allocated so a
 * full disk fails here rather than as SIGBUS on a later write through the mapping; fsynced.
 */
export function createSlab(path: string, id: SlabIdentity): void {
  const size = slabBytes(id.slots, id.capacity);
  try {
    const fd = openSync(path, 'w');
    try {
      ftruncateSync(fd, size);
      native().allocate(fd, size);
      writeSync(fd, encodeHeader(id), 0, HEADER_BYTES, 0);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (cause) {
    throw ioError(path, `create the slab (${size} bytes)`, cause);
  }
}

/** The header's schema hash, read as the current one when it is the legacy hash of the same schema. */
function storedHash(b: Buffer, id: SlabIdentity): bigint {
  const h = b.readBigUInt64LE(OFFSET.schemaHash);
  return id.legacySchemaHash !== undefined && h === id.legacySchemaHash ? id.schemaHash : h;
}

function checkHeader(path: string, b: Buffer, size: number, id: SlabIdentity): void {
  if (b.toString('latin1', 0, 8) !== MAGIC) throw corrupt(path, 'not a rondo slab (bad magic)');
  const version = b.readUInt32LE(OFFSET.version);
  if (version !== FORMAT_VERSION)
    throw corrupt(path, `format version ${version}, this rondo reads ${FORMAT_VERSION}`);
  if (b.readUInt32LE(OFFSET.headerBytes) !== HEADER_BYTES)
    throw corrupt(path, 'header size field is not 4096');
  if (b.readBigUInt64LE(OFFSET.checksum) !== fnv1a64(b.subarray(0, CHECKSUM_COVERS))) {
    throw corrupt(path, 'header checksum mismatch (the header was overwritten)');
  }
  const fields: [string, bigint | number, bigint | number][] = [
    ['schema hash', storedHash(b, id), id.schemaHash],
    ['tier index', b.readUInt32LE(OFFSET.tierIndex), id.tierIndex],
    ['slot count', b.readUInt32LE(OFFSET.slotCount), id.slots],
    ['series capacity', b.readUInt32LE(OFFSET.seriesCapacity), id.capacity],
    ['interval', b.readBigUInt64LE(OFFSET.intervalNs), BigInt(id.intervalMs) * 1_000_000n],
  ];
  for (const [name, found, expected] of fields) {
    if (found !== expected) throw corrupt(path, `${name} is ${found}, the store's metadata says ${expected}`);
  }
  const expectedSize = slabBytes(id.slots, id.capacity);
  if (size !== expectedSize)
    throw corrupt(path, `file is ${size} bytes, expected ${expectedSize} (truncated or extended)`);
}

/** Reads a little-endian u64 header field made of two u32 words, as a number; NaN above 2^53. */
function readU64(words: Uint32Array, offset: number): number {
  const lo = Atomics.load(words, offset / 4);
  const hi = Atomics.load(words, offset / 4 + 1);
  const n = hi * 4294967296 + lo;
  return Number.isSafeInteger(n) ? n : Number.NaN;
}

/**
 * Stores `from[k]` into the u64 header field at `offset` (writer only): low word first, so a
 * writer killed between the two stores leaves a value below the new one, never above (recovery
 * and the seqlock rely on that). The value comes from a typed array so that no double crosses
 * a call V8 may not inline (that would allocate on the slot-advance path).
 */
export function storeU64(slab: Slab, offset: number, from: Float64Array, k: number): void {
  const value = from[k]!;
  slab.header[offset / 4] = value >>> 0;
  slab.header[offset / 4 + 1] = Math.floor(value / 4294967296);
}

/**
 * One mapped slab file: the header words and the two columns, with typed views over the
 * mapping. Readers map it read-only; only the writer calls the mutating methods.
 */
export class Slab {
  /** Path of the file, for error messages. */
  readonly path: string;
  /** Immutable identity checked at open. */
  readonly id: SlabIdentity;
  /** Header as u32 words (little-endian host). */
  readonly header: Uint32Array;
  /** Header as int32 words, for atomic loads that stay small integers. */
  readonly header32: Int32Array;
  /** Timestamp column as u32 pairs: [2·pos] = low word, [2·pos+1] = high word of u64 ns. */
  readonly ts: Uint32Array;
  /**
   * The same timestamp words as int32, for readers' atomic loads: Atomics.load on a Uint32Array
   * returns a heap number for words ≥ 2^31 (slow, allocating); compare against `word | 0`.
   */
  readonly ts32: Int32Array;
  /** All value columns: value of column c at ring position p is at [c·slots + p]. */
  readonly values: Float64Array;
  private buffer: ArrayBuffer | undefined;

  private constructor(path: string, id: SlabIdentity, buffer: ArrayBuffer) {
    this.path = path;
    this.id = id;
    this.buffer = buffer;
    this.header = new Uint32Array(buffer, 0, HEADER_BYTES / 4);
    this.header32 = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.ts = new Uint32Array(buffer, HEADER_BYTES, id.slots * 2);
    this.ts32 = new Int32Array(buffer, HEADER_BYTES, id.slots * 2);
    this.values = new Float64Array(buffer, HEADER_BYTES + id.slots * 8, id.slots * id.capacity);
  }

  /** Opens and maps a slab after checking its header and size; ERR_RONDO_CORRUPT names what is wrong. */
  static open(path: string, id: SlabIdentity, writable: boolean): Slab {
    if (endianness() !== 'LE') {
      throw new RondoError('ERR_RONDO_NATIVE', 'rondo slabs are little-endian and this host is big-endian');
    }
    let fd: number;
    try {
      fd = openRegular(path, writable ? 'r+' : 'r', 'the slab');
    } catch (err) {
      if (isMissing(err)) throw corrupt(path, 'slab file is missing');
      throw err;
    }
    try {
      const size = fstatSync(fd).size;
      if (size < HEADER_BYTES)
        throw corrupt(path, `file is ${size} bytes, shorter than the ${HEADER_BYTES}-byte header`);
      const head = Buffer.alloc(HEADER_BYTES);
      readSync(fd, head, 0, HEADER_BYTES, 0);
      checkHeader(path, head, size, id);
      const tooBig = unmappable(size);
      if (tooBig !== null) throw new RondoError('ERR_RONDO_NATIVE', `${path}: ${tooBig}`, { path });
      let buffer: ArrayBuffer;
      try {
        buffer = native().map(fd, size, writable);
      } catch (cause) {
        throw ioError(path, 'map', cause);
      }
      const slab = new Slab(path, id, buffer);
      try {
        slab.checkMutable();
      } catch (err) {
        slab.close();
        throw err;
      }
      return slab;
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Newest slot written (absolute slot number), 0 when the ring is empty. Read under the
   * generation seqlock, since the writer changes its two words separately; if the generation
   * stays odd (a writer died mid-update) the last value read is returned after a bounded wait.
   */
  get newest(): number {
    const gen = OFFSET.generation / 4;
    let value = 0;
    for (let attempt = 0; attempt < 1000; attempt++) {
      const g = Atomics.load(this.header32, gen);
      value = readU64(this.header, OFFSET.newestSlot);
      if ((g & 1) === 0 && Atomics.load(this.header32, gen) === g) return value;
    }
    return value;
  }
  /** Lowest slot written behind the newest since the next tier consolidated; 0 = none. */
  get dirtyFrom(): number {
    return readU64(this.header, OFFSET.dirtyFrom);
  }
  /** For tiers ≥ 1: the first source slot whose window is not yet final; 0 = never consolidated. */
  get consolidatedTo(): number {
    return readU64(this.header, OFFSET.consolidatedTo);
  }
  /** Series registered in the schema, as last published by the writer. */
  get seriesCount(): number {
    return Atomics.load(this.header, OFFSET.seriesCount / 4);
  }

  /** Publishes the series count (writer only). */
  setSeriesCount(n: number): void {
    Atomics.store(this.header, OFFSET.seriesCount / 4, n);
  }

  /** A counter the writer bumps after each change to the series journal (readers poll it). */
  get catalogSeq(): number {
    return Atomics.load(this.header, OFFSET.catalogSeq / 4);
  }

  /** True once a migration replaced this slab's store generation (readers must reopen). */
  get superseded(): boolean {
    return Atomics.load(this.header, OFFSET.superseded / 4) !== 0;
  }

  /** Marks the slab superseded by a migration (the migrating writer only). */
  markSuperseded(): void {
    Atomics.store(this.header, OFFSET.superseded / 4, 1);
  }

  /** Bumps {@link catalogSeq} (writer only). */
  bumpCatalogSeq(): void {
    Atomics.add(this.header, OFFSET.catalogSeq / 4, 1);
  }

  private checkMutable(): void {
    const limit = Math.floor(Number.MAX_SAFE_INTEGER / this.id.intervalMs);
    for (const [name, value] of [
      ['newest slot', this.newest],
      ['dirty-from slot', this.dirtyFrom],
      ['consolidation mark', this.consolidatedTo],
    ] as const) {
      if (!(value <= limit)) throw corrupt(this.path, `${name} is out of range`);
    }
    if (this.seriesCount > this.id.capacity) {
      throw corrupt(this.path, `series count ${this.seriesCount} exceeds the capacity ${this.id.capacity}`);
    }
  }

  /** Aligned start in ms of the slot stored at ring position `pos`; NaN when the position is empty or invalid. */
  slotTimeAt(pos: number): number {
    const lo = Atomics.load(this.ts, 2 * pos);
    const hi = Atomics.load(this.ts, 2 * pos + 1);
    if (lo === 0 && hi === 0) return Number.NaN;
    return nsToMs(lo, hi);
  }

  /** True when ring position `pos` is stamped with the timestamp words `lo`, `hi` (atomic loads). */
  holds(pos: number, lo: number, hi: number): boolean {
    return Atomics.load(this.ts32, 2 * pos) === (lo | 0) && Atomics.load(this.ts32, 2 * pos + 1) === (hi | 0);
  }

  /** Marks ring position `pos` empty (writer only). Values stay until the position is opened again. */
  invalidate(pos: number): void {
    Atomics.store(this.ts, 2 * pos, 0);
    Atomics.store(this.ts, 2 * pos + 1, 0);
  }

  /** msync the whole mapping. */
  sync(): void {
    if (this.buffer) native().sync(this.buffer);
  }

  /** Unmaps; every view becomes empty so a late access cannot fault. */
  close(): void {
    if (this.buffer) {
      native().unmap(this.buffer);
      this.buffer = undefined;
    }
  }
}
