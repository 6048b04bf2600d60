import { closeSync, mkdirSync } from 'node:fs';
import { writeFileAtomic } from './atomic-file.js';
import { closed, corrupt, ioError, RondoError } from './errors.js';
import { tryLockFile } from './file-lock.js';
import { cursorDir, cursorLockPath, cursorPath } from './layout.js';
import { isMissing, readRegular } from './regular-file.js';

// A name becomes a file name: keep it short and free of path separators and dot-dot.
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** The positions of one schema within one tier of a cursor. */
export interface SchemaCursor {
  /** Slot width of the tier when the cursor was written, ms; a different store is refused. */
  interval: number;
  /** Handle (as a string) → next slot to drain. */
  next: Record<string, number>;
}

/**
 * The end of a drained, not yet committed batch: the next drain of this tier replays exactly
 * this range, so a batch delivered just before a crash is resent alone, not merged with new points.
 */
export interface PendingBatch {
  /** Tier generation the batch was drained at; a pending range from another generation is ignored. */
  base: number;
  /** Schema name → handle → slot after the last slot of the batch (series absent: nothing). */
  ends: Record<string, Record<string, number>>;
}

/** One tier of a cursor. */
export interface TierCursor {
  /** Commits so far; a batch drained at another generation is stale. */
  generation: number;
  /** The range of the last drained, uncommitted batch, or null. */
  pending: PendingBatch | null;
  /** Schema name → positions. */
  schemas: Record<string, SchemaCursor>;
}

/** The content of `cursors/<name>.json`. */
export interface CursorDoc {
  /** Always 'rondo-cursor'. */
  format: 'rondo-cursor';
  /** File format version (1). */
  version: 1;
  /** Cursor name. */
  name: string;
  /** Tier index (as a string) → its cursor. */
  tiers: Record<string, TierCursor>;
}

/** Throws ERR_RONDO_INVALID_ARGUMENT unless `name` is a valid cursor name. */
export function validateCursorName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw new RondoError(
      'ERR_RONDO_INVALID_ARGUMENT',
      `cursor name ${JSON.stringify(name)} is invalid: use 1-64 characters [A-Za-z0-9_.-], starting with a letter or digit`,
    );
  }
}

/**
 * A map with no prototype: cursor files key their maps by schema name and handle, and a schema
 * may be named `constructor`, `toString` or `__proto__`.
 */
export function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** True for a plain JSON object (not null, not an array). */
function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A whole number ≥ 0 that fits a double exactly. */
function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Handle → next slot, checked and copied into a prototype-free map; null when malformed. */
function positions(v: unknown): Record<string, number> | null {
  if (!isObject(v)) return null;
  const out = dict<number>();
  for (const [handle, next] of Object.entries(v)) {
    if (!/^\d+$/.test(handle) || !isCount(next)) return null;
    out[handle] = next;
  }
  return out;
}

/** One tier of a cursor file, checked and copied; null when malformed. */
function tierCursor(v: unknown): TierCursor | null {
  if (!isObject(v) || !isCount(v.generation) || !isObject(v.schemas)) return null;
  const schemas = dict<SchemaCursor>();
  for (const [name, sc] of Object.entries(v.schemas)) {
    const next = isObject(sc) ? positions(sc.next) : null;
    if (
      next === null ||
      !isObject(sc) ||
      typeof sc.interval !== 'number' ||
      !(sc.interval > 0) ||
      !Number.isSafeInteger(sc.interval)
    )
      return null;
    schemas[name] = { interval: sc.interval, next };
  }
  let pending: PendingBatch | null = null;
  if (v.pending !== null) {
    const p = v.pending;
    if (!isObject(p) || !isCount(p.base) || !isObject(p.ends)) return null;
    const ends = dict<Record<string, number>>();
    for (const [name, e] of Object.entries(p.ends)) {
      const pos = positions(e);
      if (pos === null) return null;
      ends[name] = pos;
    }
    pending = { base: p.base, ends };
  }
  return { generation: v.generation, pending, schemas };
}

/** An empty cursor named `name`. */
export function emptyCursor(name: string): CursorDoc {
  return { format: 'rondo-cursor', version: 1, name, tiers: dict() };
}

/**
 * Reads cursor `name` of store `dir` (an empty cursor when the file does not exist yet). Every
 * field is checked (ERR_RONDO_CORRUPT naming the file); the name is the file's own, whatever the
 * file says, so a commit can only ever write `cursors/<name>.json`.
 */
export function readCursor(dir: string, name: string): CursorDoc {
  validateCursorName(name);
  const path = cursorPath(dir, name);
  let text: string;
  try {
    text = readRegular(path, 'the cursor').toString('utf8');
  } catch (err) {
    if (isMissing(err)) return emptyCursor(name);
    throw err;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw corrupt(path, `cursor is not valid JSON (${(cause as Error).message})`, cause);
  }
  if (!isObject(doc) || doc.format !== 'rondo-cursor' || doc.version !== 1 || !isObject(doc.tiers))
    throw corrupt(path, 'not a rondo cursor file (format, version, tiers)');
  const out = emptyCursor(name);
  for (const [tier, tc] of Object.entries(doc.tiers)) {
    const checked = /^\d+$/.test(tier) ? tierCursor(tc) : null;
    if (checked === null) throw corrupt(path, `tier ${JSON.stringify(tier)} of the cursor is malformed`);
    out.tiers[tier] = checked;
  }
  return out;
}

/** Replaces cursor `doc` of store `dir` atomically (temp file, fsync, rename, fsync dir). */
export function writeCursor(dir: string, doc: CursorDoc): void {
  validateCursorName(doc.name);
  makeCursorDir(dir);
  const path = cursorPath(dir, doc.name);
  try {
    writeFileAtomic(path, `${JSON.stringify(doc)}\n`);
  } catch (cause) {
    throw ioError(path, 'write the cursor', cause);
  }
}

/** Creates `<dir>/cursors` if missing; ERR_RONDO_IO naming it when that fails. */
function makeCursorDir(dir: string): void {
  const path = cursorDir(dir);
  try {
    mkdirSync(path, { recursive: true });
  } catch (cause) {
    throw ioError(path, 'create the cursor directory', cause);
  }
}

/**
 * The flocks a Store holds on `cursors/<name>.lock`, one per cursor name it drained: one drainer
 * per cursor name at a time, across processes. Held until {@link CursorLocks.release} (Store.close).
 */
export class CursorLocks {
  private readonly fds = new Map<string, number>();
  private released = false;

  /** Takes the lock of cursor `name` unless this Store holds it already; ERR_RONDO_LOCKED when another holds it. */
  acquire(dir: string, name: string): void {
    if (this.released) throw closed(dir);
    if (this.fds.has(name)) return;
    makeCursorDir(dir);
    const fd = tryLockFile(cursorLockPath(dir, name));
    if (fd === null) {
      throw new RondoError(
        'ERR_RONDO_LOCKED',
        `cursor ${name} of ${dir} is in use by another drainer (one drainer per cursor name at a time)`,
        { path: cursorPath(dir, name) },
      );
    }
    this.fds.set(name, fd);
  }

  /** True while this Store holds the lock of cursor `name`. */
  holds(name: string): boolean {
    return this.fds.has(name);
  }

  /** Releases every lock; later acquires fail. Idempotent. */
  release(): void {
    this.released = true;
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}
