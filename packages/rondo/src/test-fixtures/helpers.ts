// Helpers of the store tests: the shared ones come from rondo-testkit (one helper module for
// every package); this file adds what only the store's tests need: schema literals and a
// child process running child.ts (the compiled fixture sits next to this file in dist/test-fixtures/).
import { fileURLToPath } from 'node:url';
import { Child as ToolChild } from 'rondo-testkit';
import type { SchemaConfig } from '../schema.js';

export {
  assertCode,
  freePort,
  needs,
  needsCommand,
  rejectsCode,
  removeDir,
  scratchDirs,
  sleep,
  T0,
  tempDir,
  throwsCode,
} from 'rondo-testkit';

/** A single-tier schema with `slots` slots of `interval` ms. */
export function oneTier(name: string, interval: number, slots: number, maxSeries = 4): SchemaConfig {
  return { name, maxSeries, tiers: [{ interval, retention: interval * slots }] };
}

/** Absolute path of the compiled fixture script run in child processes. */
export const CHILD_SCRIPT = fileURLToPath(new URL('./child.js', import.meta.url));

/** A child process running `script` (default: the compiled child.ts) with `args` under this Node. */
export class Child extends ToolChild {
  constructor(args: readonly string[], script: string = CHILD_SCRIPT) {
    super(script, args);
  }
}
