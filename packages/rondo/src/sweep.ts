// What a crash can leave in a store directory, removed by the next writer: temp files of an
// interrupted atomic write, and the data files of a generation that is not the current one (a
// migration killed before or after its commit).
import { closeSync, openSync, readdirSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ioError } from './errors.js';
import { CURSOR_DIR, dataDir, JOURNAL_FILE } from './layout.js';
import { MAGIC, OFFSET } from './slab.js';

/** A temp file of writeFileAtomic: `<name>.tmp-<pid>`. */
const TEMP_RE = /\.tmp-(\d+)$/;
/** A generation directory made by a migration. */
const GENERATION_RE = /^g(\d+)$/;

/** True when process `pid` is running (a temp file of a live process is still being written). */
function alive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The names in directory `path`; none when it is not a directory (or is gone). */
function list(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/** Removes the temp files of dead processes in `dir`. */
function removeTemps(dir: string): void {
  for (const name of list(dir)) {
    const m = TEMP_RE.exec(name);
    if (m && !alive(Number(m[1]))) rmSync(join(dir, name), { force: true });
  }
}

/**
 * Tells the readers still mapping slab `path` (of a generation being removed) to open the store
 * again: sets its `superseded` field, then bumps `catalogSeq`, which they poll. Written with
 * pwrite, which a shared mapping sees. A migration marks its old generation itself; this covers
 * one killed between its switch and that mark. A file that is not a slab is left as it is.
 */
function markSuperseded(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'r+');
  } catch {
    return;
  }
  try {
    const head = Buffer.alloc(OFFSET.superseded + 4);
    if (readSync(fd, head, 0, head.length, 0) !== head.length) return;
    if (head.toString('latin1', 0, MAGIC.length) !== MAGIC) return;
    const word = Buffer.alloc(4);
    word.writeUInt32LE(1);
    writeSync(fd, word, 0, 4, OFFSET.superseded);
    word.writeUInt32LE((head.readUInt32LE(OFFSET.catalogSeq) + 1) >>> 0);
    writeSync(fd, word, 0, 4, OFFSET.catalogSeq);
  } finally {
    closeSync(fd);
  }
}

/** Removes the data files of a generation that is not the current one (after marking its slabs superseded). */
function removeData(data: string, names: readonly string[], ownDir: boolean): void {
  for (const name of names) if (name.endsWith('.slab')) markSuperseded(join(data, name));
  if (ownDir) {
    rmSync(data, { recursive: true, force: true });
    return;
  }
  // Generation 0 lives in the store directory itself: only its own files go.
  for (const name of names)
    if (name.endsWith('.slab') || name === JOURNAL_FILE || name === CURSOR_DIR)
      rmSync(join(data, name), { recursive: true, force: true });
}

/**
 * Writer, at open: removes leftovers of crashes in store `dir` whose current data generation is
 * `generation`. Only names rondo writes are touched.
 */
export function removeLeftovers(dir: string, generation: number): void {
  try {
    removeTemps(dir);
    removeTemps(join(dataDir(dir, generation), CURSOR_DIR));
    removeTemps(dataDir(dir, generation));
    for (const name of readdirSync(dir)) {
      const m = GENERATION_RE.exec(name);
      if (m && Number(m[1]) !== generation) removeData(join(dir, name), list(join(dir, name)), true);
    }
    if (generation !== 0) removeData(dir, readdirSync(dir), false);
  } catch (cause) {
    throw ioError(dir, 'remove what an interrupted write left', cause);
  }
}
