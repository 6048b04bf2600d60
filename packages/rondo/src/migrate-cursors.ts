// The drain cursors across a migration: held (so that no drainer commits into the old
// generation while it is converted), then converted by time into the new generation.
import { closeSync, readdirSync } from 'node:fs';
import { type CursorDoc, dict, emptyCursor, readCursor, type TierCursor, writeCursor } from './cursors.js';
import { RondoError } from './errors.js';
import { tryLockFile } from './file-lock.js';
import { cursorDir, cursorLockPath, cursorPath } from './layout.js';
import type { Schema } from './schema.js';

/** What a migration did with one drain cursor. */
export interface CursorNote {
  /** Cursor name. */
  name: string;
  /** True when its positions were carried over (converted by time); false when it was reset. */
  kept: boolean;
  /** What happened, for people. */
  note: string;
}

/** The cursors of a generation, their locks held until {@link HeldCursors.release}. */
export interface HeldCursors {
  /** Cursor names with a file (those to convert). */
  names: string[];
  /** Releases every lock. */
  release(): void;
}

/**
 * Takes the lock of every cursor of data directory `data`; ERR_RONDO_LOCKED naming the first one
 * a drainer holds (a reader that drained it and is still open: its commits would go to the old
 * generation and be lost, so the migration waits for it to close). A cursor whose drains were all
 * empty has a lock file and no `.json` yet, so the names come from both.
 */
export function holdCursors(data: string): HeldCursors {
  let files: string[];
  try {
    files = readdirSync(cursorDir(data));
  } catch {
    files = [];
  }
  const withExt = (ext: string): string[] =>
    files.filter((f) => f.endsWith(ext)).map((f) => f.slice(0, -ext.length));
  const names = withExt('.json').sort();
  const locked = [...new Set([...names, ...withExt('.lock')])].sort();
  const fds: number[] = [];
  const release = (): void => {
    for (const fd of fds.splice(0)) closeSync(fd);
  };
  for (const name of locked) {
    const fd = tryLockFile(cursorLockPath(data, name), 10);
    if (fd === null) {
      release();
      throw new RondoError(
        'ERR_RONDO_LOCKED',
        `migrate: cursor ${name} is in use by a drainer (a reader that drained it is still open); close it and migrate again; nothing was changed`,
        { path: cursorPath(data, name) },
      );
    }
    fds.push(fd);
  }
  return { names, release };
}

/** Where a series lives in the new layout: its schema's index in `given`. */
export type NewHome = Map<string, { schema: number }>;

/**
 * Writes each cursor of `from` (names held) into data directory `to`, converted: a series' next
 * slot becomes the same time in its new schema's tier of the same index (rounded up, so that no
 * point already exported is sent again); a series dropped, or whose new schema lacks the tier,
 * loses its position. An uncommitted batch is dropped (its points are drained again).
 */
export function convertCursors(
  from: string,
  to: string,
  names: readonly string[],
  oldSchemas: readonly Schema[],
  given: readonly Schema[],
  home: NewHome,
): CursorNote[] {
  const out: CursorNote[] = [];
  for (const name of names) {
    let doc: CursorDoc;
    try {
      doc = readCursor(from, name);
    } catch (err) {
      out.push({ name, kept: false, note: `unreadable, reset: ${(err as Error).message}` });
      continue;
    }
    const fresh = emptyCursor(name);
    const notes: string[] = [];
    for (const [tier, tc] of Object.entries(doc.tiers)) {
      fresh.tiers[tier] = convertTier(Number(tier), tc, oldSchemas, given, home);
      if (tc.pending !== null && tc.pending.base === tc.generation)
        notes.push(`tier ${tier}: an uncommitted batch will be drained again`);
    }
    writeCursor(to, fresh);
    out.push({ name, kept: true, note: notes.join('; ') || 'positions converted by time' });
  }
  return out;
}

/** One tier of a cursor, converted (see convertCursors). */
function convertTier(
  tier: number,
  tc: TierCursor,
  oldSchemas: readonly Schema[],
  given: readonly Schema[],
  home: NewHome,
): TierCursor {
  const out: TierCursor = { generation: tc.generation, pending: null, schemas: dict() };
  for (const [schemaName, sc] of Object.entries(tc.schemas)) {
    if (!oldSchemas.some((s) => s.name === schemaName)) continue;
    for (const [handle, next] of Object.entries(sc.next)) {
      const p = home.get(handle);
      const t = p === undefined ? undefined : given[p.schema]!.tiers[tier];
      if (p === undefined || t === undefined) continue;
      const name = given[p.schema]!.name;
      out.schemas[name] ??= { interval: t.interval, next: dict() };
      out.schemas[name].next[handle] = Math.ceil((next * sc.interval) / t.interval);
    }
  }
  return out;
}
