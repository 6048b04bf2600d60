// Shared helpers of the store tests: temp directories, error assertions, and a child-process
// wrapper around child.ts (the compiled fixture sits next to this file in dist/test-fixtures/).
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RondoError, type RondoErrorCode } from '../errors.js';
import type { SchemaConfig } from '../schema.js';

/** A fresh empty directory under os.tmpdir(); remove it with {@link removeDir}. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'rondo-test-'));
}

/** Removes a directory made by {@link tempDir}. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * For a test file: returns a maker of fresh temp directories (named `rondo-<prefix>-…`), all
 * removed after the file's tests have run. Call it at the top level of the file.
 */
export function scratchDirs(prefix: string): () => string {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs.splice(0)) removeDir(d);
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), `rondo-${prefix}-`));
    dirs.push(d);
    return d;
  };
}

/** Asserts that `fn` throws a RondoError with `code` and returns the error. */
export function throwsCode(fn: () => unknown, code: RondoErrorCode): RondoError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  if (thrown === undefined) assert.fail(`expected ${code}, but nothing was thrown`);
  assert.ok(thrown instanceof RondoError, `expected a RondoError, got ${String(thrown)}`);
  assert.equal(thrown.code, code, `expected ${code}, got ${thrown.code}: ${thrown.message}`);
  return thrown;
}

/** A single-tier schema with `slots` slots of `interval` ms. */
export function oneTier(name: string, interval: number, slots: number, maxSeries = 4): SchemaConfig {
  return { name, maxSeries, tiers: [{ interval, retention: interval * slots }] };
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Absolute path of the compiled fixture script run in child processes. */
export const CHILD_SCRIPT = fileURLToPath(new URL('./child.js', import.meta.url));

/** A child process running child.js, with its stdout split into lines that tests can wait for. */
export class Child {
  /** The process. */
  readonly proc: ChildProcessWithoutNullStreams;
  /** Every stdout line so far. */
  readonly lines: string[] = [];
  /** Everything written to stderr (shown when the child fails). */
  stderr = '';
  /** Resolves with the exit code and signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private partial = '';
  private exitedNow = false;
  private wake: (() => void)[] = [];

  /** Runs `script` (default: the compiled child.ts) with `args` under this Node. */
  constructor(args: readonly string[], script: string = CHILD_SCRIPT) {
    this.proc = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (this.partial + chunk).split('\n');
      this.partial = parts.pop()!;
      this.lines.push(...parts);
      this.notify();
    });
    this.proc.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exitedNow = true;
        this.notify();
        resolve({ code, signal });
      });
    });
  }

  private notify(): void {
    for (const w of this.wake.splice(0)) w();
  }

  /** Waits for the `n`-th stdout line (0-based) starting with `prefix`; fails on exit or timeout. */
  async waitFor(prefix: string, timeoutMs = 15_000, n = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.filter((l) => l.startsWith(prefix));
      if (found.length > n) return found[n]!;
      if (this.exitedNow) assert.fail(`child exited before printing "${prefix}": ${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) assert.fail(`child did not print "${prefix}" within ${timeoutMs} ms: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends SIGKILL (if still running) and waits for the exit. */
  async kill(): Promise<void> {
    if (!this.exitedNow) this.proc.kill('SIGKILL');
    await this.exited;
  }

  /** Closes the child's stdin (children that wait for it then close the store and exit) and waits. */
  async finish(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.proc.stdin.end();
    return this.exited;
  }
}
