import { closeSync, openSync } from 'node:fs';
import { ioError } from './errors.js';
import { native } from './native.js';
import { isMissing, openRegular } from './regular-file.js';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Opens `path` (a file, created when missing; or, with `directory`, an existing directory) and
 * takes an exclusive flock on it without blocking, retrying `retries` times 2 ms apart (to ride
 * out a reader that only probes the lock). Returns the descriptor that holds the lock (closing
 * it releases the lock), or null when another open file holds it. The one lock-taking sequence
 * of the writer lock and the cursor locks.
 */
export function tryLockFile(path: string, retries = 0, directory = false): number | null {
  let fd: number;
  if (directory) {
    try {
      fd = openSync(path, 'r');
    } catch (cause) {
      throw ioError(path, 'open the directory to lock it', cause);
    }
  } else fd = openRegular(path, 'a+', 'the lock file');
  try {
    for (let attempt = 0; ; attempt++) {
      if (native().lock(fd, true)) return fd;
      if (attempt >= retries) break;
      Atomics.wait(sleeper, 0, 0, 2);
    }
  } catch (err) {
    closeSync(fd);
    throw ioError(path, 'lock', err);
  }
  closeSync(fd);
  return null;
}

/** True when some open file holds an exclusive flock on `path` right now (false when it is missing). */
export function isLocked(path: string, directory = false): boolean {
  let fd: number;
  try {
    fd = directory ? openSync(path, 'r') : openRegular(path, 'r', 'the lock file');
  } catch (err) {
    if (directory || isMissing(err)) return false;
    throw err;
  }
  try {
    if (!native().lock(fd, false)) return true;
    native().unlock(fd);
    return false;
  } finally {
    closeSync(fd);
  }
}
