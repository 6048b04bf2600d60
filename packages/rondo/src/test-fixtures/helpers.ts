// Helpers of the store tests: the shared ones come from rondo-testkit (one helper module for
// every package); this file adds what only the store's tests need: schema literals, the check of
// a refused configuration, and a child process running child.ts (the compiled fixture sits next
// to this file in dist/test-fixtures/).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type MessageCheck, removeDir, Child as ToolChild, tempDir, throwsCode } from 'rondo-testkit';
import { type Consolidation, type SchemaConfig, Store, type StoreOptions } from '../index.js';

export {
  assertCode,
  freePort,
  type MessageCheck,
  needs,
  needsCommand,
  prng,
  rejectsCode,
  removeDir,
  scratchDirs,
  sleep,
  T0,
  tempDir,
  throwsCode,
  waitUntil,
} from 'rondo-testkit';

/** A single-tier schema with `slots` slots of `interval` ms. */
export function oneTier(name: string, interval: number, slots: number, maxSeries = 4): SchemaConfig {
  return { name, maxSeries, tiers: [{ interval, retention: interval * slots }] };
}

/**
 * A two-tier schema: tier 0 keeps `fine` = [interval ms, slots], tier 1 `coarse` = [interval ms,
 * windows, consolidation] (xff 0).
 */
export function twoTiers(
  name: string,
  fine: readonly [interval: number, slots: number],
  coarse: readonly [interval: number, windows: number, consolidation: Consolidation],
  maxSeries = 4,
): SchemaConfig {
  const [interval0, slots] = fine;
  const [interval1, windows, consolidation] = coarse;
  return {
    name,
    maxSeries,
    tiers: [
      { interval: interval0, retention: interval0 * slots },
      { interval: interval1, retention: interval1 * windows, consolidation },
    ],
  };
}

/**
 * Asserts that Store.open with `options` is ERR_RONDO_CONFIG (with a message matching `message`)
 * and that it wrote nothing: validation comes before any file is made.
 */
export function refusesConfig(options: unknown, message?: MessageCheck, what?: string): void {
  const parent = tempDir('config');
  const dir = join(parent, 'store');
  try {
    throwsCode(() => Store.open(dir, options as StoreOptions), 'ERR_RONDO_CONFIG', message, what);
    assert.equal(existsSync(dir), false, `${what ?? 'a refused configuration'}: nothing written`);
  } finally {
    removeDir(parent);
  }
}

/** Absolute path of the compiled fixture script run in child processes. */
export const CHILD_SCRIPT = fileURLToPath(new URL('./child.js', import.meta.url));

/** A child process running `script` (default: the compiled child.ts) with `args` under this Node. */
export class Child extends ToolChild {
  constructor(args: readonly string[], script: string = CHILD_SCRIPT) {
    super(script, args);
  }
}
