/**
 * A byte buffer for output of millions of rows: rows are encoded straight into a 1 MiB Buffer
 * (times and numbers byte by byte, label text copied as pre-encoded bytes) and the buffer goes to
 * stdout whole. Building one JavaScript string per chunk instead leaves the garbage collector
 * with millions of string pieces that live until the chunk is written, which costs more than
 * the formatting itself.
 */
import { formatTime } from './text.js';

/** Bytes buffered before they are written. */
const CHUNK = 1 << 20;
const NEWLINE = 10;

const POW10 = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000];

/**
 * The fewest decimals k (1–6) such that `a` (> 0, not whole, < 1e9) is the double nearest to
 * m / 10^k for a whole m, or 0 when there is none. Then the shortest decimal that reads back as
 * `a` (what String(a) prints) has exactly those k decimals: fewer decimals would have been found
 * first, and m itself reads back as `a` because m and 10^k are exact doubles and division is
 * correctly rounded.
 */
function decimalsOf(a: number): number {
  for (let k = 1; k <= 6; k++) {
    const p = POW10[k] ?? 1;
    if (Math.round(a * p) / p === a) return k;
  }
  return 0;
}

/** Digits of a whole number ≥ 0. */
function digitCount(n: number): number {
  let digits = 1;
  for (let p = 10; p <= n; p *= 10) digits++;
  return digits;
}

/**
 * The length of String(v) when {@link RowBuffer.number} writes it without making a string and it
 * has at most 12 significant digits (so formatValue(), for people, prints it unchanged too): a
 * whole number below 2^53, or at most 6 decimals; else -1.
 */
export function plainLength(v: number): number {
  if (Number.isSafeInteger(v)) return digitCount(Math.abs(v)) + (v < 0 ? 1 : 0);
  const a = v < 0 ? -v : v;
  if (!(a < 1e9)) return -1;
  const k = decimalsOf(a);
  if (k === 0) return -1;
  const m = Math.round(a * (POW10[k] ?? 1));
  if (m >= 1e12) return -1;
  return (v < 0 ? 1 : 0) + digitCount(Math.floor(m / (POW10[k] ?? 1))) + 1 + k;
}

/** Buffered output, written to stdout in chunks. Callers check {@link full} before each row. */
export class RowBuffer {
  private buf: Buffer = Buffer.allocUnsafe(CHUNK);
  private pos = 0;
  /** The buffer last handed to stdout, once written; reused for the next chunk. */
  private spare: Buffer | null = null;
  /** Resolves when the chunk last handed to stdout is written. */
  private inFlight: Promise<void> | null = null;
  private minute = Number.NaN;
  private minutePrefix = '';

  /** True when fewer than `rowBytes` bytes are left: {@link flush} before writing the row. */
  full(rowBytes: number): boolean {
    return this.pos + rowBytes > this.buf.length;
  }

  /**
   * Hands what is buffered to stdout and makes sure a row of `rowBytes` fits. Two buffers take
   * turns: the one just handed over is reused once stdout has written it, so memory stays at
   * two chunks however much is written (and a slow reader holds the writer back).
   */
  async flush(rowBytes = 0): Promise<void> {
    const filled = this.buf;
    const out = filled.subarray(0, this.pos);
    if (this.inFlight !== null) await this.inFlight;
    const need = Math.max(CHUNK, rowBytes);
    this.buf = this.spare !== null && this.spare.length >= need ? this.spare : Buffer.allocUnsafe(need);
    this.spare = null;
    this.pos = 0;
    if (out.length === 0) return;
    this.inFlight = new Promise((resolve) => {
      // Called once the chunk is written (or failed: main() handles stdout errors).
      process.stdout.write(out, () => {
        this.spare = filled;
        resolve();
      });
    });
  }

  /** Writes out everything and waits until stdout has taken it. */
  async end(): Promise<void> {
    await this.flush();
    if (this.inFlight !== null) await this.inFlight;
  }

  /** Text made only of ASCII characters (numbers, RFC 3339 times, JSON punctuation). */
  ascii(text: string): void {
    const { buf } = this;
    let { pos } = this;
    for (let i = 0; i < text.length; i++) buf[pos++] = text.charCodeAt(i);
    this.pos = pos;
  }

  /** Bytes encoded beforehand (label text in UTF-8). */
  bytes(bytes: Uint8Array): void {
    const n = bytes.length;
    // A loop beats TypedArray#set, a runtime call, for the few bytes of a row's parts.
    if (n > 64) {
      this.buf.set(bytes, this.pos);
      this.pos += n;
      return;
    }
    const { buf } = this;
    let { pos } = this;
    for (let i = 0; i < n; i++) buf[pos++] = bytes[i] ?? 0;
    this.pos = pos;
  }

  /** Any text, as UTF-8 (room: Buffer.byteLength(text)). */
  text(text: string): void {
    this.pos += this.buf.write(text, this.pos, 'utf8');
  }

  /** Any text, as UTF-8, flushing first when it does not fit (for headings, not rows). */
  async write(text: string): Promise<void> {
    const bytes = Buffer.byteLength(text);
    if (this.full(bytes)) await this.flush(bytes);
    this.text(text);
  }

  /** A whole number of ms (a time): its digits, without the cost of a number-to-string conversion. */
  integer(n: number): void {
    if (!Number.isSafeInteger(n)) {
      this.ascii(String(n));
      return;
    }
    const { buf } = this;
    if (n < 0) {
      buf[this.pos++] = 45; // '-'
      n = -n;
    }
    let at = this.pos + digitCount(n);
    this.pos = at;
    do {
      buf[--at] = 48 + (n % 10);
      n = Math.floor(n / 10);
    } while (n > 0);
  }

  /**
   * A number exactly as String(v) writes it, but without making a string in the common cases:
   * whole numbers, and numbers with at most 6 decimals whose digits fit in 2^53 (see
   * {@link decimalsOf}); anything else goes through String(v).
   */
  number(v: number): void {
    if (Number.isSafeInteger(v)) {
      this.integer(v);
      return;
    }
    const a = v < 0 ? -v : v;
    const k = a < 1e9 ? decimalsOf(a) : 0;
    if (k === 0) {
      this.ascii(String(v));
      return;
    }
    if (v < 0) this.buf[this.pos++] = 45; // '-'
    const m = Math.round(a * (POW10[k] ?? 1));
    const whole = Math.floor(m / (POW10[k] ?? 1));
    this.integer(whole);
    this.buf[this.pos++] = 46; // '.'
    // The k decimals, with their leading zeros.
    let frac = m - whole * (POW10[k] ?? 1);
    for (let at = this.pos + k - 1; at >= this.pos; at--) {
      this.buf[at] = 48 + (frac % 10);
      frac = Math.floor(frac / 10);
    }
    this.pos += k;
  }

  /** A line break. */
  newline(): void {
    this.buf[this.pos++] = NEWLINE;
  }

  /** One byte (an ASCII character code). */
  byte(code: number): void {
    this.buf[this.pos++] = code;
  }

  /** `count` spaces. */
  spaces(count: number): void {
    if (count <= 0) return;
    this.buf.fill(32, this.pos, this.pos + count);
    this.pos += count;
  }

  /**
   * `ms` as RFC 3339 UTC, exactly as formatTime() writes it (`2025-01-15T10:59:57Z`, a fraction
   * only when there is one); the bytes up to the minute are kept for the next times of that minute.
   * Returns the number of bytes written.
   */
  time(ms: number): number {
    const minute = Math.floor(ms / 60_000);
    const rest = ms - minute * 60_000;
    const secs = Math.floor(rest / 1000);
    const frac = rest - secs * 1000;
    if (!Number.isInteger(frac)) {
      const text = formatTime(ms);
      this.ascii(text);
      return text.length;
    }
    if (minute !== this.minute) {
      const iso = new Date(minute * 60_000).toISOString();
      // Cut "SS.mmmZ": what is left ends with "HH:MM:" (years past 9999 have a longer head).
      this.minutePrefix = iso.slice(0, iso.length - 7);
      this.minute = minute;
    }
    const start = this.pos;
    this.ascii(this.minutePrefix);
    this.buf[this.pos++] = 48 + Math.floor(secs / 10);
    this.buf[this.pos++] = 48 + (secs % 10);
    if (frac !== 0) {
      const { buf } = this;
      buf[this.pos++] = 46; // '.'
      buf[this.pos++] = 48 + Math.floor(frac / 100);
      buf[this.pos++] = 48 + (Math.floor(frac / 10) % 10);
      buf[this.pos++] = 48 + (frac % 10);
    }
    this.buf[this.pos++] = 90; // 'Z'
    return this.pos - start;
  }
}

/** Most bytes one time or number takes: `+275760-09-13T00:00:00.000Z` or `-1.2345678901234567e-308`. */
export const MAX_ATOM_BYTES = 32;
