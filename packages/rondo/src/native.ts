import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
  /**
   * The checked scan of a query (see Ring.read): the points of `count` consecutive positions from
   * `pos` whose timestamp words are their expected slot's (`lo`, `hi` for the first, one
   * interval more for each next), written to `times`/`vals` from `k`; returns the new end.
   */
  scan(
    ts: Int32Array,
    values: Float64Array,
    base: number,
    pos: number,
    count: number,
    lo: number,
    hi: number,
    times: Float64Array,
    vals: Float64Array,
    k: number,
    ms: number,
    interval: number,
  ): number;
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
  // scan is called per query and throws only on a wrong argument (a bug): called as it is, without
  // the wrapper's rest arguments and try/catch.
  wrapped.scan = raw.scan;
  return wrapped as unknown as NativeAddon;
}

/** The package directory, where node-gyp-build looks for build/Release and prebuilds/. */
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

/** node-gyp-build's loader: the path of the addon that fits this host, or a throw saying why none does. */
type AddonResolver = ((dir: string) => unknown) & { resolve(dir: string): string };

/**
 * What to do when no addon loads: rondo ships a prebuilt addon for linux-x64 (glibc); other Linux
 * hosts compile one from source; other systems are not supported yet.
 */
function howToFix(): string {
  if (process.platform !== 'linux')
    return (
      `rondo runs on Linux only for now (this is ${process.platform}-${process.arch}): macOS and Windows need ` +
      'other system calls for mapping files and locking (see "Platforms" in docs/architecture.md)'
    );
  const musl = existsSync('/etc/alpine-release') ? ' musl' : ''; // how node-gyp-build tells
  return (
    `rondo ships a prebuilt addon for linux-x64 (glibc); on this host (linux-${process.arch}${musl}) compile one from ` +
    `source with \`node ${join(PACKAGE_DIR, 'scripts', 'build-addon.mjs')}\` (needs python3, make and a C compiler)`
  );
}

/**
 * Loads the addon once, with node-gyp-build: a from-source build in build/Release if there is one,
 * else the prebuilt file for this platform from prebuilds/. None that fits, or one that does not
 * load, is an ERR_RONDO_NATIVE that says what to do.
 */
export function native(): NativeAddon {
  if (addon) return addon;
  const require = createRequire(import.meta.url);
  const load = require('node-gyp-build') as AddonResolver;
  let path: string;
  try {
    path = load.resolve(PACKAGE_DIR);
  } catch (cause) {
    throw new RondoError('ERR_RONDO_NATIVE', `no native addon fits this host. ${howToFix()}.`, {
      cause,
    });
  }
  try {
    addon = wrapErrors(require(path) as NativeAddon);
  } catch (cause) {
    throw new RondoError(
      'ERR_RONDO_NATIVE',
      `the native addon ${path} could not be loaded (${(cause as Error).message}). ${howToFix()}.`,
      { cause },
    );
  }
  return addon;
}
