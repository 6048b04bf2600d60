/**
 * The shared helpers of rondo's tests, for every package: temporary directories, error-code
 * assertions, child processes with line-wise output, free ports, and real tools (servers,
 * browsers, QEMU) that a test needs, skipped with a visible notice when absent.
 * It imports nothing from rondo, so every package's tests can use it.
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, type TestContext, test } from 'node:test';

/** An aligned, realistic epoch time in ms (2023-11-14T22:13:20Z) that tests build times from. */
export const T0 = 1_700_000_000_000;

/**
 * A fresh empty directory `rondo-<prefix>-…` under os.tmpdir(), or `.rondo-test-<prefix>-…` inside
 * `inside` (a dot name, which the repository's .gitignore ignores); remove it with {@link removeDir}.
 */
export function tempDir(prefix = 'test', inside?: string): string {
  return mkdtempSync(
    inside === undefined ? join(tmpdir(), `rondo-${prefix}-`) : join(inside, `.rondo-test-${prefix}-`),
  );
}

/** Removes a directory made by {@link tempDir}. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * For a test file: returns a maker of fresh temp directories (named as by {@link tempDir}), all
 * removed after the file's tests have run. Call it at the top level of the file. `inside` puts
 * them in that folder instead of os.tmpdir() (for a test that needs them within the repository).
 */
export function scratchDirs(prefix: string, inside?: string): () => string {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs.splice(0)) removeDir(d);
  });
  return () => {
    const d = tempDir(prefix, inside);
    dirs.push(d);
    return d;
  };
}

/** The shape of a rondo error, checked without importing rondo. */
interface CodedError extends Error {
  code: string;
}

/** True when `err` is a RondoError or of a subclass (PushError, …), told by its class names. */
function isRondoErrorLike(err: Error): boolean {
  for (
    let p: unknown = Object.getPrototypeOf(err);
    p !== null && p !== undefined;
    p = Object.getPrototypeOf(p)
  ) {
    if ((p as { constructor?: { name?: string } }).constructor?.name === 'RondoError') return true;
  }
  return false;
}

/**
 * What an error's message must hold: a pattern it must match, or a text (a path, a name) it must
 * contain.
 */
export type MessageCheck = RegExp | string;

/**
 * Asserts that `err` is a RondoError (or of a subclass such as PushError) with `code` (and a message matching `message`); returns it.
 * `what` names the case in a failure (for checks made in a loop).
 */
export function assertCode(err: unknown, code: string, message?: MessageCheck, what?: string): CodedError {
  const at = what === undefined ? '' : `${what}: `;
  assert.ok(err instanceof Error, `${at}expected a RondoError ${code}, got ${String(err)}`);
  assert.ok(isRondoErrorLike(err), `${at}expected a RondoError ${code}, got ${err.name}: ${err.message}`);
  const coded = err as CodedError;
  assert.equal(coded.code, code, `${at}expected ${code}, got ${coded.code}: ${coded.message}`);
  if (typeof message === 'string')
    assert.ok(coded.message.includes(message), `${at}"${coded.message}" does not contain "${message}"`);
  else if (message) assert.match(coded.message, message, `${at}"${coded.message}" does not match ${message}`);
  return coded;
}

/** Asserts that `fn` throws a RondoError with `code` (and a matching message); returns the error. */
export function throwsCode(
  fn: () => unknown,
  code: string,
  message?: MessageCheck,
  what?: string,
): CodedError {
  try {
    fn();
  } catch (err) {
    return assertCode(err, code, message, what);
  }
  return assert.fail(`${what === undefined ? '' : `${what}: `}expected ${code}, but nothing was thrown`);
}

/** Asserts that `promise` rejects with a RondoError with `code`; resolves to the error. */
export async function rejectsCode(
  promise: Promise<unknown>,
  code: string,
  message?: MessageCheck,
  what?: string,
): Promise<CodedError> {
  try {
    await promise;
  } catch (err) {
    return assertCode(err, code, message, what);
  }
  return assert.fail(`${what === undefined ? '' : `${what}: `}expected ${code}, but the promise resolved`);
}

/**
 * A small seeded random number generator (mulberry32), numbers in [0, 1): a failing run can be
 * repeated with its seed, and a child process agrees with its parent test given the same one.
 */
export function prng(seed: number): () => number {
  // The same generator as rondo-vmm's random() (src/tally.ts), which cannot import this private package.
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `cond` every 10 ms until it holds; fails naming `what` after `timeoutMs`. */
export async function waitUntil(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** How a process that ran to its end ended, and everything it printed. */
export interface RunResult {
  /** Exit code (null when a signal ended it). */
  code: number | null;
  /** The signal that ended it, or null. */
  signal: NodeJS.Signals | null;
  /** Everything written to stdout. */
  stdout: string;
  /** Everything written to stderr. */
  stderr: string;
}

/**
 * Runs `node script ...args` under this Node to its end, stdout and stderr piped (so neither is
 * a terminal); `env` is added to this process's environment.
 */
export function runNode(
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** True when util-linux `script` can give a child a pseudo-terminal here. */
export const hasPty =
  process.platform === 'linux' && spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

/**
 * Runs `node script ...args` on a pseudo-terminal (through util-linux `script`; check
 * {@link hasPty}); stdout and stderr arrive merged, with CRLF turned back into LF.
 */
export function runOnPty(script: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): RunResult {
  const quote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;
  const cmd = [process.execPath, script, ...args].map(quote).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout.replaceAll('\r\n', '\n'), stderr: r.stderr };
}

/** ANSI escape characters made visible as `<ESC>`, so regexes need no control characters. */
export function showEscapes(text: string): string {
  return text.replaceAll('\u001b', '<ESC>');
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** True when `command` is on the PATH (or is an existing absolute path). */
export function hasCommand(command: string): boolean {
  if (command.startsWith('/')) return existsSync(command);
  return spawnSync('sh', ['-c', `command -v "$1"`, 'sh', command], { stdio: 'ignore' }).status === 0;
}

/** True when CI asked that nothing be skipped (`RONDO_REQUIRE_ALL=1`). */
export const REQUIRE_ALL = process.env['RONDO_REQUIRE_ALL'] === '1';

/**
 * Test options for tests that need a real tool (a server, a browser, QEMU): when `available`
 * is false they are skipped with a visible notice naming what to install; under
 * `RONDO_REQUIRE_ALL=1` (CI) a missing tool is a failing test instead, so nothing skips silently.
 */
export function needs(what: string, available: boolean, install: string): { skip: string | false } {
  if (available) return { skip: false };
  const notice = `${what}: not available here (${install})`;
  if (REQUIRE_ALL) {
    test(`${what}: required under RONDO_REQUIRE_ALL=1`, () => {
      assert.fail(`${notice}; RONDO_REQUIRE_ALL=1 forbids skipping`);
    });
  } else {
    process.stderr.write(`# SKIP: ${notice}\n`);
  }
  return { skip: notice };
}

/**
 * {@link needs} for a need found missing only while a test runs (a package registry that does not
 * answer): skips the running test `t` with a visible notice, or fails it under
 * `RONDO_REQUIRE_ALL=1`. The caller returns right after.
 */
export function skipUnavailable(t: TestContext, what: string, install: string): void {
  const notice = `${what}: not available here (${install})`;
  if (REQUIRE_ALL) assert.fail(`${notice}; RONDO_REQUIRE_ALL=1 forbids skipping`);
  process.stderr.write(`# SKIP: ${notice}\n`);
  t.skip(notice);
}

/** {@link needs} for a command on the PATH, e.g. `needsCommand('prometheus', 'apt-get install prometheus')`. */
export function needsCommand(command: string, install: string): { skip: string | false } {
  return needs(command, hasCommand(command), install);
}

/** Polls `url` until it answers 2xx; fails when `proc` exits first or after `timeoutMs`. */
export async function waitForHttp(
  url: string,
  proc?: { exitCode: number | null },
  log: () => string = () => '',
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc && proc.exitCode !== null)
      assert.fail(`${url}: the server exited with ${proc.exitCode}: ${log()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  assert.fail(`${url} did not answer within ${timeoutMs} ms: ${log()}`);
}

/** A child process with its stdout split into lines that tests can wait for. */
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

  /** Runs `node script ...args` under this Node (or `command ...args` when `command` is given). */
  constructor(
    script: string,
    args: readonly string[] = [],
    options: { command?: string; env?: NodeJS.ProcessEnv } = {},
  ) {
    const command = options.command ?? process.execPath;
    const argv = options.command ? args : [script, ...args];
    this.proc = spawn(command, argv, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    this.proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (this.partial + chunk).split('\n');
      this.partial = parts.pop() ?? '';
      this.lines.push(...parts);
      this.notify();
    });
    this.proc.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    // 'close', not 'exit': by then all of stdout and stderr has arrived.
    this.exited = new Promise((resolve) => {
      this.proc.on('close', (code, signal) => {
        this.exitedNow = true;
        this.notify();
        resolve({ code, signal });
      });
    });
  }

  /** Everything written to stdout so far. */
  get stdout(): string {
    return this.lines.map((l) => `${l}\n`).join('') + this.partial;
  }

  /** Process id. */
  get pid(): number {
    return this.proc.pid ?? -1;
  }

  private notify(): void {
    for (const w of this.wake.splice(0)) w();
  }

  /** Waits for the `n`-th stdout line (0-based) starting with `prefix`; fails on exit or timeout. */
  async waitFor(prefix: string, timeoutMs = 15_000, n = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.filter((l) => l.startsWith(prefix));
      const hit = found[n];
      if (hit !== undefined) return hit;
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

  /** Sends `signal` (default SIGKILL) if still running and waits for the exit. */
  async kill(
    signal: NodeJS.Signals = 'SIGKILL',
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.exitedNow) this.proc.kill(signal);
    return this.exited;
  }

  /** Closes the child's stdin (children that wait for it then close the store and exit) and waits. */
  async finish(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.proc.stdin.end();
    return this.exited;
  }
}

/** A server process started by {@link startServer}. */
export interface ServerProcess {
  /** The process. */
  readonly proc: import('node:child_process').ChildProcess;
  /** The last 8 KiB of its stdout and stderr. */
  log(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves once it exited. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts `command args` (a real server: Prometheus, VictoriaMetrics, …) and resolves once
 * `readyUrl` answers 2xx; kills it and fails when it exits first or is not ready in time.
 */
export async function startServer(
  command: string,
  args: readonly string[],
  readyUrl: string,
): Promise<ServerProcess> {
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (d: Buffer): void => {
    log = (log + d.toString('utf8')).slice(-8192);
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    await waitForHttp(readyUrl, proc, () => log);
  } catch (err) {
    await stop();
    throw err;
  }
  return { proc, log: () => log, stop };
}
