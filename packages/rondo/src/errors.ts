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
  | 'ERR_RONDO_PUSH';

/** The one error type rondo throws; `code` is stable across releases, `message` is for people. */
export class RondoError extends Error {
  /** Stable machine-readable code, e.g. `ERR_RONDO_CORRUPT`. */
  readonly code: RondoErrorCode;

  constructor(code: RondoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RondoError';
    this.code = code;
  }
}

/** True when `err` is a RondoError, optionally with the given code. */
export function isRondoError(err: unknown, code?: RondoErrorCode): err is RondoError {
  return err instanceof RondoError && (code === undefined || err.code === code);
}
