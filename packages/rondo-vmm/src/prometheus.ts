/**
 * A real Prometheus (Debian package `prometheus`) for `compare`: started on a loopback port
 * with one scrape job per interval, all scraping the same target, and queried over its HTTP
 * API for the raw samples it kept.
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { spawnGuarded, which } from './children.js';
import { VmmError } from './errors.js';

/** A running Prometheus. */
export interface Prometheus {
  /** Base URL, e.g. http://127.0.0.1:40123 */
  url: string;
  /** Stops it (SIGTERM, then SIGKILL after 5 s) and waits for its exit. */
  stop(): Promise<void>;
}

/** One raw sample series from a range-vector query. */
export interface PromSeries {
  labels: Record<string, string>;
  /** Sample times in ms. */
  times: number[];
}

/** The scrape job name for an interval: `scrape_15s`, `scrape_1500ms`. */
export function jobName(intervalMs: number): string {
  return intervalMs % 1000 === 0 ? `scrape_${intervalMs / 1000}s` : `scrape_${intervalMs}ms`;
}

/** prometheus.yml with one job per interval, each scraping `target` (`host:port`). */
export function prometheusConfig(target: string, intervalsMs: readonly number[]): string {
  const jobs = intervalsMs.map((ms) =>
    [
      `  - job_name: ${jobName(ms)}`,
      `    scrape_interval: ${ms}ms`,
      // A scrape may take at most its interval (Prometheus refuses a longer timeout).
      `    scrape_timeout: ${Math.min(ms, 10_000)}ms`,
      '    static_configs:',
      `      - targets: ['${target}']`,
    ].join('\n'),
  );
  return `# written by rondo-vmm compare\nscrape_configs:\n${jobs.join('\n')}\n`;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** GET `url` as JSON (Prometheus's API answers); ERR_VMM_PROMETHEUS when it fails. */
async function getJson(url: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new VmmError('ERR_VMM_PROMETHEUS', `Prometheus did not answer ${url}: ${(err as Error).message}`);
  }
  const body = await res.text();
  if (!res.ok)
    throw new VmmError(
      'ERR_VMM_PROMETHEUS',
      `Prometheus answered ${res.status} to ${url}: ${body.slice(0, 300)}`,
    );
  return JSON.parse(body);
}

/**
 * Starts Prometheus with its data in `dir`, scraping `target` at each interval; resolves once
 * it is ready. ERR_VMM_PROMETHEUS when it is not installed or does not come up.
 */
export async function startPrometheus(
  binary: string,
  dir: string,
  target: string,
  intervalsMs: readonly number[],
): Promise<Prometheus> {
  const path = which(binary);
  if (path === null)
    throw new VmmError('ERR_VMM_PROMETHEUS', `${binary} is not installed — apt-get install -y prometheus`);
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, prometheusConfig(target, intervalsMs));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawnGuarded(path, [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ]);
  let log = '';
  const keep = (d: Buffer): void => {
    log = (log + d.toString('utf8')).slice(-4096);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(force);
    }
  };
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    try {
      if ((await fetch(`${url}/-/ready`)).ok) return { url, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new VmmError(
    'ERR_VMM_PROMETHEUS',
    `Prometheus did not become ready: ${log.trim().split('\n').slice(-3).join(' | ')}`,
  );
}

/** Resolves once every job has scraped its target at least once (up == 1). */
export async function waitForScrapes(
  prom: Prometheus,
  intervalsMs: readonly number[],
  timeoutMs: number,
): Promise<void> {
  const want = new Set(intervalsMs.map(jobName));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = (await getJson(`${prom.url}/api/v1/query?query=${encodeURIComponent('up == 1')}`)) as {
      data: { result: { metric: { job: string } }[] };
    };
    const seen = new Set(r.data.result.map((s) => s.metric.job));
    if ([...want].every((j) => seen.has(j))) return;
    await new Promise((res) => setTimeout(res, 250));
  }
  throw new VmmError(
    'ERR_VMM_PROMETHEUS',
    `Prometheus did not scrape the manager's /metrics within ${timeoutMs / 1000} s`,
  );
}

/** The raw samples of `selector` over the `rangeMs` before `atMs` (a range-vector instant query). */
export async function rawSamples(
  prom: Prometheus,
  selector: string,
  atMs: number,
  rangeMs: number,
): Promise<PromSeries[]> {
  const query = `${selector}[${Math.ceil(rangeMs / 1000)}s]`;
  const url = `${prom.url}/api/v1/query?query=${encodeURIComponent(query)}&time=${atMs / 1000}`;
  const r = (await getJson(url)) as {
    data: { resultType: string; result: { metric: Record<string, string>; values: [number, string][] }[] };
  };
  if (r.data.resultType !== 'matrix')
    throw new VmmError('ERR_VMM_PROMETHEUS', `unexpected answer to ${query}`);
  return r.data.result.map((s) => ({ labels: s.metric, times: s.values.map(([t]) => Math.round(t * 1000)) }));
}
