import { createRequire } from 'node:module';
import { RondoError } from './errors.js';

/** The functions of the N-API addon (native/rondo_native.c). */
export interface NativeAddon {
  /** Maps `length` bytes of the open file `fd` shared; read-only unless `writable`. */
  map(fd: number, length: number, writable: boolean): ArrayBuffer;
  /** Unmaps and detaches a buffer returned by `map`; idempotent. */
  unmap(buffer: ArrayBuffer): void;
  /** msync(MS_SYNC) of the whole mapping. */
  sync(buffer: ArrayBuffer): void;
  /** flock without blocking; false when another open file holds a conflicting lock. */
  lock(fd: number, exclusive: boolean): boolean;
  /** Releases a flock. */
  unlock(fd: number): void;
  /** posix_fallocate of the first `length` bytes (no-op where the file system cannot). */
  allocate(fd: number, length: number): void;
}

let addon: NativeAddon | undefined;

/**
 * The addon throws plain Errors (with an errno for system-call failures); callers of rondo get
 * RondoErrors: ERR_RONDO_IO for a failed system call, ERR_RONDO_NATIVE for anything else.
 */
function wrapErrors(raw: NativeAddon): NativeAddon {
  const wrapped = {} as Record<string, unknown>;
  // The addon's properties are not enumerable (napi_default), so they are named here.
  for (const name of ['map', 'unmap', 'sync', 'lock', 'unlock', 'allocate'] as const) {
    const fn = (raw[name] as (...args: unknown[]) => unknown).bind(raw);
    wrapped[name] = (...args: unknown[]) => {
      try {
        return fn(...args);
      } catch (cause) {
        const errno = (cause as { errno?: unknown }).errno;
        throw new RondoError(
          typeof errno === 'number' ? 'ERR_RONDO_IO' : 'ERR_RONDO_NATIVE',
          `${name}: ${(cause as Error).message}`,
          { cause },
        );
      }
    };
  }
  return wrapped as unknown as NativeAddon;
}

/** Loads the addon once; a missing build is an ERR_RONDO_NATIVE that says how to build it. */
export function native(): NativeAddon {
  if (addon) return addon;
  const require = createRequire(import.meta.url);
  try {
    addon = wrapErrors(require('../build/Release/rondo_native.node') as NativeAddon);
  } catch (cause) {
    throw new RondoError(
      'ERR_RONDO_NATIVE',
      'rondo: the native addon (build/Release/rondo_native.node) could not be loaded. ' +
        'Build it with `npm rebuild rondo` (or `node scripts/build-addon.mjs` in packages/rondo); ' +
        `it needs python3, make, a C compiler and the Node headers. Cause: ${(cause as Error).message}`,
      { cause },
    );
  }
  return addon;
}
