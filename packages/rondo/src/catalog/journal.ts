// The series journal: an append-only binary file of register and retire records, each with a
// length and a CRC-32, so that registering costs one write() and a torn tail (power loss) is
// detected and ignored. docs/storage-format.md is the byte-level reference.
import { fstatSync, fsyncSync, ftruncateSync, readSync } from 'node:fs';
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

/** The CRC-32 table (the polynomial of zlib and PNG, reflected). */
const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/**
 * CRC-32 (zlib's) of bytes [start, end) of `data`. In JS rather than node:zlib's: records are
 * short, and a native call per record (plus a view to pass it) costs more than the loop.
 */
export function crc32(data: Uint8Array, start = 0, end = data.length): number {
  let c = -1;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/**
 * Encodes a series' identity (name and labels, labels sorted by key in UTF-16 code unit order)
 * as the bytes a register record carries, returned as a latin1 string: equal identities give
 * equal strings, so it is also the series' key.
 */
export function identityKey(name: string, labels: Readonly<Record<string, string>>): string {
  const keys = Object.keys(labels).sort();
  let key = lengthPrefixed(name) + u32Chars(keys.length);
  for (const k of keys) key += lengthPrefixed(k) + lengthPrefixed(labels[k]!);
  return key;
}

/** A u32, little-endian, as four latin1 characters. */
function u32Chars(n: number): string {
  return String.fromCharCode(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
}

// Strings without code points above 0x7f are their own UTF-8 bytes read as latin1.
const NON_ASCII = /[\u0080-\uffff]/;

/** `text` as its UTF-8 bytes (read as latin1), after their length. */
function lengthPrefixed(text: string): string {
  const bytes = NON_ASCII.test(text) ? Buffer.from(text, 'utf8').toString('latin1') : text;
  return u32Chars(bytes.length) + bytes;
}

/**
 * Decodes an identity key back into the name and labels (labels in key order); null when the
 * bytes are not a well-formed identity (a damaged journal whose CRC happened to match).
 */
export function decodeIdentity(key: string): { name: string; labels: Record<string, string> } | null {
  const b = Buffer.from(key, 'latin1');
  if (!identityValid(b, 0)) return null;
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

/** Fills in the prefix of a record whose `n`-byte payload is already in `out` after it. */
function frame(out: Buffer, n: number): Buffer {
  out.writeUInt32LE(n, 0);
  out.writeUInt32LE(crc32(out, RECORD_PREFIX, RECORD_PREFIX + n), 4);
  return out;
}

/** Encodes a register record. */
export function encodeRegister(r: Omit<RegisterRecord, 'type'>): Buffer {
  const n = IDENTITY_AT + r.key.length;
  const out = Buffer.allocUnsafe(RECORD_PREFIX + n);
  const p = RECORD_PREFIX;
  out.writeUInt8(REC_REGISTER, p);
  out.writeUInt8(r.flags, p + 1);
  out.writeUInt16LE(r.schema, p + 2);
  out.writeUInt32LE(r.column, p + 4);
  out.writeDoubleLE(r.handle, p + 8);
  out.writeDoubleLE(r.floor, p + 16);
  out.write(r.key, p + IDENTITY_AT, 'latin1');
  return frame(out, n);
}

/** Encodes a retire record. */
export function encodeRetire(handle: number, at: number): Buffer {
  const out = Buffer.alloc(RECORD_PREFIX + 24);
  out.writeUInt8(REC_RETIRE, RECORD_PREFIX);
  out.writeDoubleLE(handle, RECORD_PREFIX + 8);
  out.writeDoubleLE(at, RECORD_PREFIX + 16);
  return frame(out, 24);
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

/** Decodes the record whose payload is bytes [p, end) of `b`, or null when it is not a record this version knows. */
function decodeRecord(b: Buffer, p: number, end: number): JournalRecord | null {
  const type = b[p];
  if (type === REC_REGISTER && end - p >= IDENTITY_AT + 8) {
    const handle = b.readDoubleLE(p + 8);
    const floor = b.readDoubleLE(p + 16);
    if (!Number.isSafeInteger(handle) || handle < 0 || !Number.isFinite(floor)) return null;
    // The identity is checked when it is first decoded (decodeIdentity), not here: at open
    // only the key is needed, and the CRC already vouches for the bytes.
    return {
      type: REC_REGISTER,
      flags: b[p + 1]!,
      schema: b.readUInt16LE(p + 2),
      column: b.readUInt32LE(p + 4),
      handle,
      floor,
      key: b.toString('latin1', p + IDENTITY_AT, end),
    };
  }
  if (type === REC_RETIRE && end - p === 24) {
    const handle = b.readDoubleLE(p + 8);
    const at = b.readDoubleLE(p + 16);
    return Number.isSafeInteger(handle) && handle >= 0 && Number.isFinite(at)
      ? { type: REC_RETIRE, handle, at }
      : null;
  }
  return null;
}

/** True when bytes [at, end of `b`) are a well-formed identity (every length inside). */
function identityValid(b: Buffer, at: number): boolean {
  const skip = (): boolean => {
    if (at + 4 > b.length) return false;
    at += 4 + b.readUInt32LE(at);
    return at <= b.length;
  };
  if (!skip() || at + 4 > b.length) return false;
  const count = b.readUInt32LE(at);
  at += 4;
  for (let i = 0; i < count; i++) if (!skip() || !skip()) return false;
  return at === b.length;
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
    if (crc32(buf, at + RECORD_PREFIX, end) !== buf.readUInt32LE(at + 4)) break;
    const rec = decodeRecord(buf, at + RECORD_PREFIX, end);
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
