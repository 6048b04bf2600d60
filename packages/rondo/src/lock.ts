import { closeSync, ftruncateSync, writeSync } from 'node:fs';
import { ioError, RondoError } from './errors.js';
import { isLocked, tryLockFile } from './file-lock.js';
import { lockPath } from './layout.js';
import { readRegular } from './regular-file.js';

/** The single-writer lock of a store: flocks on the store directory and on its `LOCK` file. */
export interface WriterLock {
  /** The store directory, held with flock: no file name can be unlinked or replaced under it. */
  readonly dirFd: number;
  /** `LOCK`, held with flock (what rondo 0.1 writers take) and holding the writer's pid. */
  readonly fileFd: number;
}

function lockedError(dir: string): RondoError {
  const pid = lockHolderPid(dir);
  const who = pid === null ? 'another writer' : `another writer (pid ${pid})`;
  return new RondoError(
    'ERR_RONDO_LOCKED',
    `${dir}: ${who} holds the store (open it with { readOnly: true } to read)`,
    {
      path: dir,
    },
  );
}

/**
 * Takes the store's single-writer lock. The flock on the directory itself is what excludes a
 * second writer even if `LOCK` is unlinked or replaced under a live one; the flock on `LOCK`
 * also excludes writers of rondo 0.1, which lock only that file.
 */
export function acquireWriterLock(dir: string): WriterLock {
  const dirFd = tryLockFile(dir, 10, true);
  if (dirFd === null) throw lockedError(dir);
  const path = lockPath(dir);
  let fileFd: number | null;
  try {
    fileFd = tryLockFile(path, 10);
  } catch (err) {
    closeSync(dirFd);
    throw err;
  }
  if (fileFd === null) {
    closeSync(dirFd);
    throw lockedError(dir);
  }
  try {
    ftruncateSync(fileFd, 0);
    writeSync(fileFd, `${process.pid}\n`, 0);
  } catch (cause) {
    closeSync(fileFd); // releases the locks too
    closeSync(dirFd);
    throw ioError(path, "write the writer's pid", cause);
  }
  return { dirFd, fileFd };
}

/** Releases the writer lock taken by {@link acquireWriterLock}. */
export function releaseWriterLock(lock: WriterLock): void {
  closeSync(lock.fileFd);
  closeSync(lock.dirFd);
}

/** True when some process holds the writer lock of the store at `dir` right now. */
export function writerActive(dir: string): boolean {
  return isLocked(dir, true) || isLocked(lockPath(dir));
}

/** The pid written in `LOCK` (whether or not a writer holds it now), or null. */
function lockHolderPid(dir: string): number | null {
  try {
    const pid = Number.parseInt(readRegular(lockPath(dir), 'the lock file').toString('utf8'), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** The pid the writer wrote into its lock file, or null when no writer holds the store now. */
export function writerPid(dir: string): number | null {
  return writerActive(dir) ? lockHolderPid(dir) : null;
}
