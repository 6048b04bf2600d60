/**
 * Test helpers: run the real `rondo` executable and build stores with known contents.
 * Not a test file itself (tests import it).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Store } from 'rondo';

const here = dirname(fileURLToPath(import.meta.url));
/** The executable under test: packages/rondo-cli/bin/rondo.js. */
export const BIN = resolve(here, '../../bin/rondo.js');
/** The writer fixture compiled next to this file. */
export const WRITER = resolve(here, 'writer.js');

/** What a run of the executable produced. */
export interface RunResult {
  /** Exit code (null when killed by a signal). */
  code: number | null;
  /** Everything written to stdout. */
  stdout: string;
  /** Everything written to stderr. */
  stderr: string;
}

/** Runs `rondo ...args` with stdout and stderr piped (so not a terminal). */
export function rondo(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '', ...env },
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
    child.on('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}

/** True when util-linux `script` can give a child a pseudo-terminal here. */
export const hasScript =
  process.platform === 'linux' && spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

/** Runs `rondo ...args` on a pseudo-terminal (via `script`); stdout and stderr arrive merged. */
export function rondoOnTty(args: string[], env: Record<string, string> = {}): RunResult {
  const quote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;
  const cmd = [process.execPath, BIN, ...args].map(quote).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '', COLUMNS: '100', ...env },
  });
  return { code: r.status, stdout: r.stdout.replaceAll('\r\n', '\n'), stderr: r.stderr };
}

/** A temp directory removed by the returned cleanup. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** First point of the sample store: 2024-05-01T12:00:00Z. */
export const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
/** Points per series in the 1-second schema of the sample store (one hour). */
export const POINTS = 3600;

/**
 * The sample store: schema `web` (1s/1h, 1m/1d avg) holding cpu_usage{host=web1,web2},
 * mem_bytes{host=web1} and http.requests{host=web1,method=GET}, each with a point every second
 * from T0 for an hour; schema `db` (match role=db; 10s/1d) holding cpu_usage{host=db1,role=db}.
 * Values: cpu_usage web1 = seconds since T0, web2 = 1000 + that, mem_bytes = 2^30, requests =
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
      const t = T0 + s * 1000;
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
