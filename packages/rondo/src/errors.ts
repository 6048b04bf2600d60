/** Stable error codes carried by {@link RondoError}; programs can switch on them. */
export type RondoErrorCode =
  | 'ERR_RONDO_CONFIG'
  | 'ERR_RONDO_SCHEMA_MISMATCH'
  | 'ERR_RONDO_NOT_FOUND'
  | 'ERR_RONDO_NO_MATCHING_SCHEMA'
  | 'ERR_RONDO_MAX_SERIES'
  | 'ERR_RONDO_INVALID_LABEL'
  | 'ERR_RONDO_INVALID_VALUE'
  | 'ERR_RONDO_INVALID_TIMESTAMP'
  | 'ERR_RONDO_INVALID_HANDLE'
  | 'ERR_RONDO_INVALID_RANGE'
  | 'ERR_RONDO_INVALID_TIER'
  | 'ERR_RONDO_INVALID_ARGUMENT'
  | 'ERR_RONDO_INVALID_SELECTOR'
  | 'ERR_RONDO_LOCKED'
  | 'ERR_RONDO_READ_ONLY'
  | 'ERR_RONDO_CLOSED'
  | 'ERR_RONDO_CORRUPT'
  | 'ERR_RONDO_NATIVE'
  | 'ERR_RONDO_IO'
  | 'ERR_RONDO_CURSOR'
  | 'ERR_RONDO_PUSH'
  | 'ERR_RONDO_MISSING_PEER';

/** Options of a {@link RondoError}. */
export interface RondoErrorOptions {
  /** The underlying error. */
  cause?: unknown;
  /** The file or directory the error is about, when there is one. */
  path?: string;
}

/** The one error type rondo throws; `code` is stable across releases, `message` is for people. */
export class RondoError extends Error {
  /** Stable machine-readable code, e.g. `ERR_RONDO_CORRUPT`. */
  readonly code: RondoErrorCode;
  /** The file or directory concerned (damaged file, failed system call, store), when there is one. */
  readonly path: string | undefined;

  constructor(code: RondoErrorCode, message: string, options: RondoErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RondoError';
    this.code = code;
    this.path = options.path;
  }
}

/** True when `err` is a RondoError, optionally with the given code. */
export function isRondoError(err: unknown, code?: RondoErrorCode): err is RondoError {
  return err instanceof RondoError && (code === undefined || err.code === code);
}

/** The message of any thrown value. */
function messageOf(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

/** ERR_RONDO_CORRUPT: `path` is damaged or is not what rondo wrote; `what` says how. */
export function corrupt(path: string, what: string, cause?: unknown): RondoError {
  return new RondoError('ERR_RONDO_CORRUPT', `${path}: ${what}`, { cause, path });
}

/**
 * ERR_RONDO_IO: a system call on `path` failed while doing `action` ("cannot <action>").
 * A RondoError that already names its file, or is not an I/O error, passes through unchanged,
 * so wrapping a whole sequence is safe; an I/O error of the addon gains the path.
 */
export function ioError(path: string, action: string, cause: unknown): RondoError {
  if (cause instanceof RondoError && (cause.path !== undefined || cause.code !== 'ERR_RONDO_IO'))
    return cause;
  return new RondoError('ERR_RONDO_IO', `${path}: cannot ${action}: ${messageOf(cause)}`, { cause, path });
}

/** ERR_RONDO_CLOSED for the store in `dir`. */
export function closed(dir: string): RondoError {
  return new RondoError('ERR_RONDO_CLOSED', `store ${dir} is closed`, { path: dir });
}

/** ERR_RONDO_READ_ONLY: `what` needs the writer, and the store in `dir` is open as a reader. */
export function readOnly(what: string, dir: string): RondoError {
  return new RondoError('ERR_RONDO_READ_ONLY', `${what}: store ${dir} is open read-only`, { path: dir });
}

/** ERR_RONDO_INVALID_ARGUMENT from `what` (the method or option at fault). */
export function invalidArgument(what: string, message: string): RondoError {
  return new RondoError('ERR_RONDO_INVALID_ARGUMENT', `${what}: ${message}`);
}

/** ERR_RONDO_INVALID_VALUE for a value record() cannot store. */
export function invalidValue(value: unknown): RondoError {
  return new RondoError(
    'ERR_RONDO_INVALID_VALUE',
    `value must be a finite number or NaN, got ${typeof value === 'number' ? String(value) : typeof value}`,
  );
}

/**
 * ERR_RONDO_INVALID_TIMESTAMP for a time record() cannot store: not a number > 0, at or after
 * `end` (the u64-ns limit), or before `minTime`, the first slot of schema `schema`.
 */
export function invalidTimestamp(
  t: unknown,
  bounds?: { minTime: number; end: number; schema: string },
): RondoError {
  if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0 || bounds === undefined) {
    return new RondoError(
      'ERR_RONDO_INVALID_TIMESTAMP',
      `timestamp must be a finite number of ms > 0, got ${String(t)}`,
    );
  }
  if (t >= bounds.end) {
    return new RondoError(
      'ERR_RONDO_INVALID_TIMESTAMP',
      `timestamp ${t} is after ${bounds.end - 1} ms (year 2554), the last time a slab can store (u64 ns)`,
    );
  }
  return new RondoError(
    'ERR_RONDO_INVALID_TIMESTAMP',
    `timestamp ${t} is before the first slot of schema ${bounds.schema} (${bounds.minTime} ms: slot 0 means "never written")`,
  );
}
