// What a crash can leave in a store directory, removed by the next writer: temp files of an
// interrupted atomic write, and the data files of a generation that is not the current one (a
// migration killed before or after its commit).
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ioError } from './errors.js';
import { CURSOR_DIR, dataDir, JOURNAL_FILE } from './layout.js';

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

/** Removes the temp files of dead processes in `dir`. */
function removeTemps(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = TEMP_RE.exec(name);
    if (m && !alive(Number(m[1]))) rmSync(join(dir, name), { force: true });
  }
}

/**
 * Writer, at open: removes leftovers of crashes in store `dir` whose current data generation is
 * `generation`. Only names rondo writes are touched.
 */
export function removeLeftovers(dir: string, generation: number): void {
  try {
    removeTemps(dir);
    removeTemps(join(dir, CURSOR_DIR));
    removeTemps(dataDir(dir, generation));
    for (const name of readdirSync(dir)) {
      const m = GENERATION_RE.exec(name);
      if (m && Number(m[1]) !== generation) rmSync(join(dir, name), { recursive: true, force: true });
    }
    if (generation !== 0) {
      // The files of generation 0 live in the store directory itself.
      for (const name of readdirSync(dir))
        if (name.endsWith('.slab') || name === JOURNAL_FILE) rmSync(join(dir, name), { force: true });
    }
  } catch (cause) {
    throw ioError(dir, 'remove what an interrupted write left', cause);
  }
}
