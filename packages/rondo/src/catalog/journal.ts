// The series journal: an append-only binary file of register and retire records, each with a
// length and a CRC-32, so that registering costs one write() and a torn tail (power loss) is
// detected and ignored. docs/storage-format.md is the byte-level reference.
import { fstatSync, fsyncSync, ftruncateSync, readSync } from 'node:fs';
import zlib from 'node:zlib';
import { writeFileAtomic } from '../atomic-file.js';
import { corrupt, ioError } from '../errors.js';
import { fnv1a64 } from '../hash.js';

/** The 8 magic bytes at offset 0 of a journal. */
export const JOURNAL_MAGIC = 'RONDOJNL';
/** Journal format version. */
export const JOURNAL_VERSION = 1;
/** Size of the journal header; the first record starts here. */
export const JOURNAL_HEADER_BYTES = 64;
/** Byte offsets of the journal header fields. */
export const JOURNAL_OFFSET = {
  magic: 0,
  version: 8,
  headerBytes: 12,
  handleFloor: 16,
  schemasHash: 24,
  checksum: 56,
} as const;
/** Size of a record's prefix: payload length (u32) and CRC-32 (u32). */
export const RECORD_PREFIX = 8;
/** Record type: a series registered. */
export const REC_REGISTER = 1;
/** Record type: a series retired. */
export const REC_RETIRE = 2;
/** Offset of the identity (name and labels) in a register payload. */
export const IDENTITY_AT = 24;
/** Register flag: the series is a counter. */
export const FLAG_COUNTER = 1;

/** A register record. */
export interface RegisterRecord {
  /** REC_REGISTER. */
  type: typeof REC_REGISTER;
  /** Series handle. */
  handle: number;
  /** Index of the series' schema in the store's schema list. */
  schema: number;
  /** Value column in the schema's slabs. */
  column: number;
  /** Points before this time (ms) in the column belong to an earlier owner, not to this series. */
  floor: number;
  /** Series type flags (FLAG_COUNTER). */
  flags: number;
  /** The encoded name and labels as a latin1 string: the series' identity key. */
  key: string;
}

/** A retire record. */
export interface RetireRecord {
  /** REC_RETIRE. */
  type: typeof REC_RETIRE;
  /** Series handle. */
  handle: number;
  /** Retirement time (ms): the series has no point at or after it. */
  at: number;
}

/** A journal record. */
export type JournalRecord = RegisterRecord | RetireRecord;

/** CRC-32 (zlib's): Node's own where it has one (20.15+), else a table in JS. */
const crc32: (data: Uint8Array) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function'
    ? (data) => (zlib as unknown as { crc32(d: Uint8Array): number }).crc32(data)
    : crc32Js;

let table: Int32Array | undefined;
function crc32Js(data: Uint8Array): number {
  if (!table) {
    table = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c;
    }
  }
  let c = -1;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/**
 * Encodes a series' identity (name and labels, labels sorted by key in UTF-16 code unit order)
 * as the bytes a register record carries, returned as a latin1 string: equal identities give
 * equal strings, so it is also the series' key.
 */
export function identityKey(name: string, labels: Readonly<Record<string, string>>): string {
  const keys = Object.keys(labels).sort();
  const parts: Buffer[] = [lengthPrefixed(name), u32(keys.length)];
  for (const k of keys) parts.push(lengthPrefixed(k), lengthPrefixed(labels[k]!));
  return Buffer.concat(parts).toString('latin1');
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(n, 0);
  return b;
}

function lengthPrefixed(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([u32(bytes.length), bytes]);
}

/** Decodes an identity key back into the name and labels (labels in key order). */
export function decodeIdentity(key: string): { name: string; labels: Record<string, string> } {
  const b = Buffer.from(key, 'latin1');
  let at = 0;
  const text = (): string => {
    const n = b.readUInt32LE(at);
    const s = b.toString('utf8', at + 4, at + 4 + n);
    at += 4 + n;
    return s;
  };
  const name = text();
  const count = b.readUInt32LE(at);
  at += 4;
  const labels: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    const k = text();
    labels[k] = text();
  }
  return { name, labels };
}

/** The bytes of one record: prefix and payload. */
function frame(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(RECORD_PREFIX + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  payload.copy(out, RECORD_PREFIX);
  return out;
}

/** Encodes a register record. */
export function encodeRegister(r: Omit<RegisterRecord, 'type'>): Buffer {
  const identity = Buffer.from(r.key, 'latin1');
  const p = Buffer.alloc(IDENTITY_AT + identity.length);
  p.writeUInt8(REC_REGISTER, 0);
  p.writeUInt8(r.flags, 1);
  p.writeUInt16LE(r.schema, 2);
  p.writeUInt32LE(r.column, 4);
  p.writeDoubleLE(r.handle, 8);
  p.writeDoubleLE(r.floor, 16);
  identity.copy(p, IDENTITY_AT);
  return frame(p);
}

/** Encodes a retire record. */
export function encodeRetire(handle: number, at: number): Buffer {
  const p = Buffer.alloc(24);
  p.writeUInt8(REC_RETIRE, 0);
  p.writeDoubleLE(handle, 8);
  p.writeDoubleLE(at, 16);
  return frame(p);
}

/** Encodes a journal header. */
export function encodeHeader(handleFloor: number, schemasHash: bigint): Buffer {
  const b = Buffer.alloc(JOURNAL_HEADER_BYTES);
  b.write(JOURNAL_MAGIC, JOURNAL_OFFSET.magic, 'latin1');
  b.writeUInt32LE(JOURNAL_VERSION, JOURNAL_OFFSET.version);
  b.writeUInt32LE(JOURNAL_HEADER_BYTES, JOURNAL_OFFSET.headerBytes);
  b.writeDoubleLE(handleFloor, JOURNAL_OFFSET.handleFloor);
  b.writeBigUInt64LE(schemasHash, JOURNAL_OFFSET.schemasHash);
  b.writeBigUInt64LE(fnv1a64(b.subarray(0, JOURNAL_OFFSET.checksum)), JOURNAL_OFFSET.checksum);
  return b;
}

/** Checks a journal header; returns its handle floor. ERR_RONDO_CORRUPT names what is wrong. */
export function checkHeader(path: string, b: Buffer, schemasHash: bigint): number {
  if (b.length < JOURNAL_HEADER_BYTES)
    throw corrupt(path, `journal is ${b.length} bytes, shorter than its header`);
  if (b.toString('latin1', 0, 8) !== JOURNAL_MAGIC)
    throw corrupt(path, 'not a rondo series journal (bad magic)');
  const version = b.readUInt32LE(JOURNAL_OFFSET.version);
  if (version !== JOURNAL_VERSION)
    throw corrupt(path, `journal version ${version}, this rondo reads ${JOURNAL_VERSION}`);
  if (b.readBigUInt64LE(JOURNAL_OFFSET.checksum) !== fnv1a64(b.subarray(0, JOURNAL_OFFSET.checksum)))
    throw corrupt(path, 'journal header checksum mismatch');
  if (b.readBigUInt64LE(JOURNAL_OFFSET.schemasHash) !== schemasHash)
    throw corrupt(path, "the journal belongs to other schemas than rondo.json's");
  const floor = b.readDoubleLE(JOURNAL_OFFSET.handleFloor);
  if (!Number.isSafeInteger(floor) || floor < 0) throw corrupt(path, 'journal handle floor is out of range');
  return floor;
}

/** Decodes the record whose payload is `p`, or null when it is not a record this version knows. */
function decodeRecord(p: Buffer): JournalRecord | null {
  const type = p[0];
  if (type === REC_REGISTER && p.length >= IDENTITY_AT + 8) {
    const r: RegisterRecord = {
      type: REC_REGISTER,
      flags: p.readUInt8(1),
      schema: p.readUInt16LE(2),
      column: p.readUInt32LE(4),
      handle: p.readDoubleLE(8),
      floor: p.readDoubleLE(16),
      key: p.toString('latin1', IDENTITY_AT),
    };
    return Number.isSafeInteger(r.handle) && r.handle >= 0 && Number.isFinite(r.floor) && identityValid(p)
      ? r
      : null;
  }
  if (type === REC_RETIRE && p.length === 24) {
    const r: RetireRecord = { type: REC_RETIRE, handle: p.readDoubleLE(8), at: p.readDoubleLE(16) };
    return Number.isSafeInteger(r.handle) && r.handle >= 0 && Number.isFinite(r.at) ? r : null;
  }
  return null;
}

/** True when the identity of a register payload is well-formed (lengths inside the record). */
function identityValid(p: Buffer): boolean {
  let at = IDENTITY_AT;
  const skip = (): boolean => {
    if (at + 4 > p.length) return false;
    at += 4 + p.readUInt32LE(at);
    return at <= p.length;
  };
  if (!skip() || at + 4 > p.length) return false;
  const count = p.readUInt32LE(at);
  at += 4;
  for (let i = 0; i < count; i++) if (!skip() || !skip()) return false;
  return at === p.length;
}

/** What {@link parseRecords} found in a stretch of journal bytes. */
export interface ParsedRecords {
  /** The records, in file order. */
  records: JournalRecord[];
  /** Bytes of `buf` consumed by whole, valid records. */
  consumed: number;
  /** True when bytes remain after them: a torn or damaged record, or one still being written. */
  torn: boolean;
}

/** Parses whole records from `buf` (starting at a record boundary) until the end or a bad record. */
export function parseRecords(buf: Buffer): ParsedRecords {
  const records: JournalRecord[] = [];
  let at = 0;
  while (at + RECORD_PREFIX <= buf.length) {
    const n = buf.readUInt32LE(at);
    const end = at + RECORD_PREFIX + n;
    if (n === 0 || end > buf.length) break;
    const payload = buf.subarray(at + RECORD_PREFIX, end);
    if (crc32(payload) !== buf.readUInt32LE(at + 4)) break;
    const rec = decodeRecord(payload);
    if (rec === null) break;
    records.push(rec);
    at = end;
  }
  return { records, consumed: at, torn: at < buf.length };
}

/** Reads bytes [from, end of file) of the open file `fd`. */
export function readFrom(fd: number, from: number): Buffer {
  const size = fstatSync(fd).size;
  if (size <= from) return Buffer.alloc(0);
  const buf = Buffer.allocUnsafe(size - from);
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, from + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/**
 * Writes a whole journal (header and records) to `path` crash-safely: a temp file, fsynced,
 * renamed over `path`, then the directory fsynced. Used at creation, upgrade and compaction.
 */
export function writeJournalFile(path: string, header: Buffer, records: readonly Buffer[]): void {
  try {
    writeFileAtomic(path, Buffer.concat([header, ...records]));
  } catch (cause) {
    throw ioError(path, 'write the series journal', cause);
  }
}

/** Cuts the journal open as `fd` back to `length` bytes (a torn tail, after a crash). */
export function truncateTail(path: string, fd: number, length: number): void {
  try {
    ftruncateSync(fd, length);
    fsyncSync(fd);
  } catch (cause) {
    throw ioError(path, 'cut the torn tail of the series journal', cause);
  }
}
