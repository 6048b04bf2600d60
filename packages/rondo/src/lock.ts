import { closeSync, ftruncateSync, readFileSync, writeSync } from 'node:fs';
import { ioError, RondoError } from './errors.js';
import { isLocked, tryLockFile } from './file-lock.js';
import { lockPath } from './layout.js';

/**
 * Takes the store's single-writer lock (flock on `LOCK`, which then holds the writer's pid) and
 * returns the open descriptor that keeps it.
 */
export function acquireWriterLock(dir: string): number {
  const path = lockPath(dir);
  const fd = tryLockFile(path, 10);
  if (fd === null) {
    throw new RondoError(
      'ERR_RONDO_LOCKED',
      `${dir}: another writer holds the store (open it with { readOnly: true } to read)`,
      { path: dir },
    );
  }
  try {
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`, 0);
  } catch (cause) {
    closeSync(fd); // releases the lock too
    throw ioError(path, "write the writer's pid", cause);
  }
  return fd;
}

/** Releases the writer lock taken by {@link acquireWriterLock}. */
export function releaseWriterLock(fd: number): void {
  closeSync(fd);
}

/** True when some process holds the writer lock of the store at `dir` right now. */
export function writerActive(dir: string): boolean {
  return isLocked(lockPath(dir));
}

/** The pid the writer wrote into its lock file, or null when no writer holds the store now. */
export function writerPid(dir: string): number | null {
  if (!writerActive(dir)) return null;
  try {
    const pid = Number.parseInt(readFileSync(lockPath(dir), 'utf8'), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}
