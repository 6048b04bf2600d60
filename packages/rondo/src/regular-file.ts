// Opening the files of a store so that a FIFO, a device or a directory in place of one is an
// error at once (ERR_RONDO_CORRUPT naming it), never a process blocked in open() or read().
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { corrupt, ioError } from './errors.js';

const { O_RDONLY, O_RDWR, O_CREAT, O_APPEND, O_NONBLOCK } = constants;

/** How a file is opened: read, read and write, or read and append (created when missing). */
export type OpenMode = 'r' | 'r+' | 'a+';

const FLAGS: Record<OpenMode, number> = {
  r: O_RDONLY | O_NONBLOCK,
  'r+': O_RDWR | O_NONBLOCK,
  'a+': O_RDWR | O_APPEND | O_CREAT | O_NONBLOCK,
};

/**
 * Opens `path` without blocking and checks that it is a regular file: ERR_RONDO_CORRUPT naming it
 * when it is something else, ERR_RONDO_IO when the open fails (the caller handles ENOENT by
 * catching the error's `cause.code`).
 */
export function openRegular(path: string, mode: OpenMode, what: string): number {
  let fd: number;
  try {
    fd = openSync(path, FLAGS[mode], 0o644);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'EISDIR')
      throw corrupt(path, `${what} is a directory, not a regular file`);
    throw ioError(path, `open ${what}`, cause);
  }
  let regular: boolean;
  try {
    regular = fstatSync(fd).isFile();
  } catch (cause) {
    closeSync(fd);
    throw ioError(path, `stat ${what}`, cause);
  }
  if (!regular) {
    closeSync(fd);
    throw corrupt(path, `${what} is not a regular file`);
  }
  return fd;
}

/** Reads the whole of `path`, a regular file (see {@link openRegular}). */
export function readRegular(path: string, what: string): Buffer {
  const fd = openRegular(path, 'r', what);
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, buf, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } catch (cause) {
    throw ioError(path, `read ${what}`, cause);
  } finally {
    closeSync(fd);
  }
}

/** True when `err` (from openRegular or readRegular) is a missing file. */
export function isMissing(err: unknown): boolean {
  const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
  return cause?.code === 'ENOENT' || cause?.code === 'ENOTDIR';
}
