import { closeSync, existsSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { RondoError } from './errors.js';
import { LOCK_FILE } from './metadata.js';
import { native } from './native.js';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Takes the store's single-writer lock (flock on `LOCK`, which then holds the writer's pid) and
 * returns the open descriptor that keeps it. A brief retry rides out a reader that is only
 * probing whether a writer is there.
 */
export function acquireWriterLock(dir: string): number {
  const path = join(dir, LOCK_FILE);
  let fd: number;
  try {
    fd = openSync(path, 'a+');
  } catch (cause) {
    throw new RondoError('ERR_RONDO_IO', `${path}: cannot open the lock file: ${(cause as Error).message}`, {
      cause,
    });
  }
  for (let attempt = 0; ; attempt++) {
    let taken: boolean;
    try {
      taken = native().lock(fd, true);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    if (taken) break;
    if (attempt >= 10) {
      closeSync(fd);
      throw new RondoError(
        'ERR_RONDO_LOCKED',
        `${dir}: another writer holds the store (open it with { readOnly: true } to read)`,
      );
    }
    Atomics.wait(sleeper, 0, 0, 2);
  }
  try {
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`, 0);
  } catch (cause) {
    closeSync(fd); // releases the lock too
    throw new RondoError(
      'ERR_RONDO_IO',
      `${path}: cannot write the writer's pid: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  return fd;
}

/** Releases the writer lock taken by {@link acquireWriterLock}. */
export function releaseWriterLock(fd: number): void {
  closeSync(fd);
}

/** True when some process holds the writer lock of the store at `dir` right now. */
export function writerActive(dir: string): boolean {
  const path = join(dir, LOCK_FILE);
  if (!existsSync(path)) return false;
  const fd = openSync(path, 'r');
  try {
    if (!native().lock(fd, false)) return true;
    native().unlock(fd);
    return false;
  } finally {
    closeSync(fd);
  }
}

/** The pid the writer wrote into its lock file, or null when no writer holds the store now. */
export function writerPid(dir: string): number | null {
  if (!writerActive(dir)) return null;
  try {
    const pid = Number.parseInt(readFileSync(join(dir, LOCK_FILE), 'utf8'), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}
