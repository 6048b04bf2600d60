/**
 * Helpers of the CLI's tests: run the real `rondo` executable (the generic process helpers come
 * from rondo-testkit), check its one-line errors, and build the sample store.
 * Not a test file itself (tests import it).
 */
import assert from 'node:assert/strict';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Store } from 'rondo';
import { Child, type RunResult, runNode, runOnPty } from 'rondo-testkit';

const here = dirname(fileURLToPath(import.meta.url));
/** The executable under test: packages/rondo-cli/bin/rondo.js. */
export const BIN = resolve(here, '../../bin/rondo.js');
/** The writer fixture compiled next to this file. */
export const WRITER = resolve(here, 'writer.js');

/** No colour unless a test asks for it: the environment of the test run must not leak in. */
const PLAIN = { NO_COLOR: '', FORCE_COLOR: '' };

/** Runs `rondo ...args` to its end with stdout and stderr piped (so not a terminal). */
export function rondo(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return runNode(BIN, args, { ...PLAIN, ...env });
}

/** Runs `rondo ...args` on a pseudo-terminal 100 columns wide; stdout and stderr arrive merged. */
export function rondoOnTty(args: readonly string[], env: NodeJS.ProcessEnv = {}): RunResult {
  return runOnPty(BIN, args, { ...PLAIN, COLUMNS: '100', ...env });
}

/** Starts `rondo ...args` and returns at once (for signals, and output read while it runs). */
export function startRondo(args: readonly string[]): Child {
  return new Child(BIN, args, { env: { ...process.env, ...PLAIN } });
}

/**
 * Asserts that a run failed the CLI's way: exit code `exit`, nothing on stdout, and exactly one
 * line on stderr, `rondo: <code>: <message>`, whose text after the code matches `message`.
 */
export function assertCliError(r: RunResult, exit: number, code: string, message: RegExp): void {
  assert.equal(r.code, exit, `exit code; stderr: ${r.stderr}`);
  assert.equal(r.stdout, '', 'nothing on stdout');
  const lines = r.stderr.replace(/\n$/, '').split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`);
  const m = /^rondo: (ERR_[A-Z_]+): (.*)$/.exec(lines[0] ?? '');
  assert.ok(m, `"rondo: CODE: message", got: ${r.stderr}`);
  assert.equal(m[1], code, r.stderr);
  assert.match(m[2] ?? '', message);
}

/** First point of the sample store: 2024-05-01T12:00:00Z (its tests compare dates printed as text). */
export const SAMPLE_START = Date.UTC(2024, 4, 1, 12, 0, 0);
/** Points per series in the 1-second schema of the sample store (one hour). */
export const POINTS = 3600;

/**
 * The sample store: schema `web` (1s/1h, 1m/1d avg) holding cpu_usage{host=web1,web2},
 * mem_bytes{host=web1} and http.requests{host=web1,method=GET}, each with a point every second
 * from SAMPLE_START for an hour; schema `db` (match role=db; 10s/1d) holding cpu_usage{host=db1,role=db}.
 * Values: cpu_usage web1 = seconds since SAMPLE_START, web2 = 1000 + that, mem_bytes = 2^30, requests =
 * seconds × 0.5, db1 = 7.25 every 10 s.
 */
export function makeSampleStore(dir: string): void {
  const store = Store.open(dir, {
    schemas: [
      {
        name: 'db',
        match: { role: 'db' },
        maxSeries: 4,
        tiers: [{ interval: '10s', retention: '1d' }],
      },
      {
        name: 'web',
        maxSeries: 8,
        tiers: [
          { interval: '1s', retention: '1h' },
          { interval: '1m', retention: '1d', consolidation: 'avg' },
        ],
      },
    ],
  });
  try {
    const web1 = store.register('cpu_usage', { host: 'web1' });
    const web2 = store.register('cpu_usage', { host: 'web2' });
    const mem = store.register('mem_bytes', { host: 'web1' });
    const req = store.register('http.requests', { host: 'web1', method: 'GET' });
    const db1 = store.register('cpu_usage', { host: 'db1', role: 'db' });
    for (let s = 0; s < POINTS; s++) {
      const t = SAMPLE_START + s * 1000;
      store.record(web1, s, t);
      store.record(web2, 1000 + s, t);
      store.record(mem, 2 ** 30, t);
      store.record(req, s * 0.5, t);
      if (s % 10 === 0) store.record(db1, 7.25, t);
    }
    store.consolidate();
  } finally {
    store.close();
  }
}
