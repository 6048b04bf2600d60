// The series journal as an open file: the writer appends (one write() per call, no fsync, like
// record()'s page-cache durability) and cuts a torn tail; a reader reads what was added since it
// last looked, and starts over when the writer replaced the file (compaction).
import { closeSync, fstatSync, fsyncSync, statSync, writeSync } from 'node:fs';
import { corrupt, ioError } from '../errors.js';
import { isMissing, openRegular } from '../regular-file.js';
import {
  checkHeader,
  encodeHeader,
  JOURNAL_HEADER_BYTES,
  type JournalRecord,
  parseRecords,
  readFrom,
  truncateTail,
  writeJournalFile,
} from './journal.js';

/** What opening or reading a journal found. */
export interface LogRead {
  /** Records read, in file order. */
  records: JournalRecord[];
  /** True when the file was replaced since the last read: `records` is then the whole journal. */
  restart: boolean;
  /** Handles below this were given out (after compaction, by series no longer in the file). */
  handleFloor: number;
}

/** An open series journal. */
export class SeriesLog {
  /** End of the last whole record read or written. */
  private end = JOURNAL_HEADER_BYTES;
  /** Bytes known to be on disk (fsynced). */
  private synced = 0;
  private handleFloor = 0;

  private constructor(
    /** Path of the journal. */
    readonly path: string,
    private fd: number,
    private readonly schemasHash: bigint,
    private readonly writable: boolean,
  ) {}

  /** Creates a journal at `path` holding `records` (crash-safe: temp file and rename). */
  static create(
    path: string,
    schemasHash: bigint,
    handleFloor: number,
    records: readonly Buffer[] = [],
  ): void {
    writeJournalFile(path, encodeHeader(handleFloor, schemasHash), records);
  }

  /**
   * Opens the journal and reads it whole. A writer cuts a torn tail (a record cut short or
   * damaged by a power loss) so that appends follow the last whole record.
   */
  static open(path: string, schemasHash: bigint, writable: boolean): { log: SeriesLog; read: LogRead } {
    let fd: number;
    try {
      fd = openRegular(path, writable ? 'r+' : 'r', 'the series journal');
    } catch (err) {
      if (isMissing(err)) throw corrupt(path, 'the series journal is missing');
      throw err;
    }
    const log = new SeriesLog(path, fd, schemasHash, writable);
    try {
      return { log, read: log.readAll() };
    } catch (err) {
      log.close();
      throw err;
    }
  }

  private readAll(): LogRead {
    const buf = this.readBytes(0);
    this.handleFloor = checkHeader(this.path, buf, this.schemasHash);
    const parsed = parseRecords(buf.subarray(JOURNAL_HEADER_BYTES));
    this.end = JOURNAL_HEADER_BYTES + parsed.consumed;
    if (parsed.torn && this.writable) truncateTail(this.path, this.fd, this.end);
    this.synced = this.writable && parsed.torn ? this.end : 0;
    return { records: parsed.records, restart: true, handleFloor: this.handleFloor };
  }

  private readBytes(from: number): Buffer {
    try {
      return readFrom(this.fd, from);
    } catch (cause) {
      throw ioError(this.path, 'read the series journal', cause);
    }
  }

  /** Reader: the records appended since the last read (or all of them, when the file was replaced). */
  readNew(): LogRead {
    if (this.replaced()) {
      closeSync(this.fd);
      this.fd = openRegular(this.path, 'r', 'the series journal');
      return this.readAll();
    }
    // A record still being written reads as torn: stop before it and read it next time.
    const parsed = parseRecords(this.readBytes(this.end));
    this.end += parsed.consumed;
    return { records: parsed.records, restart: false, handleFloor: this.handleFloor };
  }

  /** True when the path now names another file than the one open (the writer compacted). */
  private replaced(): boolean {
    try {
      return statSync(this.path).ino !== fstatSync(this.fd).ino;
    } catch {
      return false;
    }
  }

  /** Writer: appends encoded records in one write; returns the offset after them. */
  append(records: Buffer): number {
    try {
      // Positional: after a torn tail was cut, the file ends exactly at `end`.
      let done = 0;
      while (done < records.length) {
        done += writeSync(this.fd, records, done, records.length - done, this.end + done);
      }
    } catch (cause) {
      throw ioError(this.path, 'append to the series journal', cause);
    }
    this.end += records.length;
    return this.end;
  }

  /** Writer: makes everything appended so far durable against power loss (fsync). */
  sync(): void {
    if (this.synced >= this.end) return;
    try {
      fsyncSync(this.fd);
    } catch (cause) {
      throw ioError(this.path, 'fsync the series journal', cause);
    }
    this.synced = this.end;
  }

  /** Writer: fsyncs unless every byte before `offset` is durable already. */
  syncTo(offset: number): void {
    if (this.synced < offset) this.sync();
  }

  /** Size of the journal in bytes. */
  get bytes(): number {
    return this.end;
  }

  /**
   * Writer: replaces the journal with one holding only `records` (compaction), crash-safely;
   * `handleFloor` keeps the handles of dropped series from ever being given again.
   */
  rewrite(records: readonly Buffer[], handleFloor: number): void {
    SeriesLog.create(this.path, this.schemasHash, handleFloor, records);
    closeSync(this.fd);
    this.fd = openRegular(this.path, 'r+', 'the series journal');
    this.handleFloor = handleFloor;
    this.end = JOURNAL_HEADER_BYTES + records.reduce((n, r) => n + r.length, 0);
    this.synced = this.end;
  }

  /** Closes the file. Idempotent. */
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
