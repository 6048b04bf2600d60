/**
 * `npm run bench:serve`: figures of rondo/server, with the server in a child process and the
 * client here (two processes, as in use): requests/s of a query_range of one series over a day
 * of 1 s points (86,400) — Prometheus' matrix and the dashboard's columns — beside a trivial
 * endpoint as the baseline of the same run; the time to produce that JSON (no HTTP); remote-read
 * latency for the same day (p50/p99); /metrics for 10,000 series; and the dashboard's load time
 * in headless Chromium (when playwright-core and /usr/bin/chromium are there). `--json` prints
 * one JSON document.
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { snappyCompress } from '../codec/snappy.js';
import { Store } from '../index.js';
import { matrixJson } from '../server/prom-json.js';
import { columnsJson } from '../server/rondo-api.js';
import { readRanges } from '../server/select.js';
import { serve } from '../server/serve.js';
import { percentiles, withTempDir } from './stats.js';

const DAY = 86_400;
const T_END = Math.floor(Date.now() / 1000) * 1000;
const T_START = T_END - DAY * 1000;
const MANY = 10_000;

/** Builds the two stores: one series over a day of 1 s points, and 10,000 series with recent points. */
function buildStores(dir: string): void {
  const day = Store.open(join(dir, 'day'), {
    schemas: [{ name: 'day', maxSeries: 1, tiers: [{ interval: '1s', retention: '1d' }] }],
  });
  const h = day.register('big', { host: 'web1' });
  for (let i = 0; i < DAY; i++) day.record(h, 50 + 20 * Math.sin(i / 900) + (i % 17) / 7, T_START + i * 1000);
  day.close();
  const many = Store.open(join(dir, 'many'), {
    schemas: [{ name: 'many', maxSeries: MANY, tiers: [{ interval: '1s', retention: '10m' }] }],
  });
  const handles = many.registerMany(
    Array.from({ length: MANY }, (_, i) => ({
      name: 'requests_total',
      labels: { host: `h${i % 100}`, path: `/p${Math.floor(i / 100)}` },
      type: 'counter' as const,
    })),
  );
  for (let t = T_END - 60_000; t < T_END; t += 1000)
    for (const [i, x] of handles.entries()) many.record(x, i + t / 1000, t);
  many.close();
}

/** Child mode: serves both stores read-only and reports the ports. */
async function childServer(dir: string): Promise<void> {
  const day = Store.open(join(dir, 'day'), { readOnly: true });
  const many = Store.open(join(dir, 'many'), { readOnly: true });
  const a = await serve(day, { listen: '127.0.0.1:0' });
  const b = await serve(many, { listen: '127.0.0.1:0', dashboard: false });
  process.send!({ day: a.port, many: b.port });
  process.on('disconnect', () => process.exit(0));
}

// Each phase gets fresh kept-alive sockets: ones left idle across a phase may have been closed
// by the server's keep-alive timeout while this process was busy.
let agent = new Agent({ keepAlive: true, maxSockets: 8 });
function freshSockets(): void {
  agent.destroy();
  agent = new Agent({ keepAlive: true, maxSockets: 8 });
}

/**
 * One request; resolves with the status and the body length once the body has arrived. Retries
 * once when a kept-alive socket was closed by the server's keep-alive timeout meanwhile.
 */
async function hit(port: number, path: string, body?: Buffer): Promise<{ status: number; bytes: number }> {
  try {
    return await hitOnce(port, path, body);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') throw err;
    return hitOnce(port, path, body);
  }
}

function hitOnce(port: number, path: string, body?: Buffer): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, method: body ? 'POST' : 'GET' }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Requests/s with `concurrency` clients for `seconds`, and the response size. */
async function throughput(port: number, path: string, seconds: number, concurrency = 2) {
  freshSockets();
  const first = await hit(port, path);
  if (first.status !== 200) throw new Error(`${path}: HTTP ${first.status}`);
  let done = 0;
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await hit(port, path);
        done++;
      }
    }),
  );
  return { rps: done / ((performance.now() - started) / 1000), bytes: first.bytes };
}

/** Latencies in ms of `n` sequential requests (after 3 warm-ups). */
async function latency(port: number, path: string, n: number, body?: Buffer) {
  freshSockets();
  for (let i = 0; i < 3; i++) await hit(port, path, body);
  const samples = new Float64Array(n);
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = await hit(port, path, body);
    samples[i] = performance.now() - t;
    if (r.status !== 200) throw new Error(`${path}: HTTP ${r.status}`);
    bytes = r.bytes;
  }
  const p = percentiles(samples);
  return { p50: p.p50, p99: p.p99, bytes };
}

/** A snappy-compressed ReadRequest for `big` over the day (hand-encoded: small and fixed). */
function readRequest(): Buffer {
  const varint = (v: number): number[] => {
    const out: number[] = [];
    for (; v >= 128; v = Math.floor(v / 128)) out.push((v % 128) | 0x80);
    out.push(v);
    return out;
  };
  const str = (field: number, s: string) => [(field << 3) | 2, ...varint(s.length), ...Buffer.from(s)];
  const matcher = [...str(2, '__name__'), ...str(3, 'big')]; // type EQ (0) is the default
  const query = [
    0x08,
    ...varint(T_START),
    0x10,
    ...varint(T_END),
    0x1a,
    ...varint(matcher.length),
    ...matcher,
  ];
  return snappyCompress(Buffer.from([0x0a, ...varint(query.length), ...query]));
}

/** ms to produce the query_range JSON of the day in this process (no HTTP): matrix and columns. */
function produceJson(dir: string) {
  const store = Store.open(join(dir, 'day'), { readOnly: true });
  const series = store.series();
  const run = (format: (rows: ReturnType<typeof readRanges>) => string) => {
    const samples = new Float64Array(30);
    for (let i = -3; i < samples.length; i++) {
      const t = performance.now();
      const rows = readRanges(store, series, {
        start: T_START,
        end: T_END,
        tier: 'auto',
        maxPerSeries: 1_000_000,
        maxTotal: 2_000_000,
        what: 'bench',
      });
      format(rows);
      if (i >= 0) samples[i] = performance.now() - t;
    }
    return percentiles(samples).p50;
  };
  const result = {
    matrixMs: run(matrixJson),
    columnsMs: run((rows) => rows.map((r) => columnsJson(r)).join(',')),
    base64Ms: run((rows) => rows.map((r) => columnsJson(r, true)).join(',')),
  };
  store.close();
  return result;
}

/** Dashboard load time in Chromium: from navigation to the chart drawn, ms (median of 5). */
async function pageLoad(port: number): Promise<{ dayMs: number; fiveMinMs: number } | string> {
  if (!existsSync('/usr/bin/chromium'))
    return 'skipped: /usr/bin/chromium is missing (apt-get install chromium)';
  let chromium: typeof import('playwright-core').chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    return 'skipped: playwright-core is not installed (a devDependency of the repository)';
  }
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const load = async (hash: string, points: string) => {
    const samples = new Float64Array(5);
    for (let i = -1; i < samples.length; i++) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const t = performance.now();
      await page.goto(`http://127.0.0.1:${port}/${hash}`);
      await page.locator(`.chart[data-points="${points}"]`).waitFor({ timeout: 60_000 });
      if (i >= 0) samples[i] = performance.now() - t;
      await page.close();
    }
    return percentiles(samples).p50;
  };
  try {
    return {
      dayMs: await load('#range=7d&m=big', String(DAY)),
      fiveMinMs: await load('#range=5m&m=big', '300'),
    };
  } finally {
    await browser.close();
  }
}

type Report = Awaited<ReturnType<typeof measure>>;

/** The figures as text. */
function printReport(report: Report): void {
  const { matrix, columns, base64, baseline, produce, read, metrics, page } = report;
  const kb = (b: number) => `${(b / 1024).toFixed(0)} KiB`;
  console.log(
    `rondo/server, node ${process.version}; one series of ${DAY} 1 s points; server and client in two processes`,
  );
  console.log(`query_range (Prometheus matrix)    ${matrix.rps.toFixed(1)} req/s   ${kb(matrix.bytes)} each`);
  console.log(
    `/api/rondo/query (columns, JSON)   ${columns.rps.toFixed(1)} req/s   ${kb(columns.bytes)} each`,
  );
  console.log(
    `/api/rondo/query (columns, base64) ${base64.rps.toFixed(1)} req/s   ${kb(base64.bytes)} each (the dashboard's)`,
  );
  console.log(`/api/v1/labels (baseline)          ${baseline.rps.toFixed(0)} req/s`);
  console.log(
    `JSON produced in-process (p50)     matrix ${produce.matrixMs.toFixed(2)} ms, columns ${produce.columnsMs.toFixed(2)} ms, base64 ${produce.base64Ms.toFixed(2)} ms`,
  );
  console.log(
    `remote read, the same day          p50 ${read.p50.toFixed(2)} ms, p99 ${read.p99.toFixed(2)} ms   ${kb(read.bytes)} snappy`,
  );
  console.log(
    `/metrics, ${MANY} series          p50 ${metrics.p50.toFixed(2)} ms, p99 ${metrics.p99.toFixed(2)} ms   ${kb(metrics.bytes)}`,
  );
  if (typeof page === 'string') console.log(`dashboard load                     ${page}`);
  else
    console.log(
      `dashboard load (Chromium, p50)     ${page.dayMs.toFixed(0)} ms with ${DAY} points, ${page.fiveMinMs.toFixed(0)} ms with 300`,
    );
}

/** Every figure, against the child's two servers. */
async function measure(dir: string, ports: { day: number; many: number }) {
  const phase = (what: string) => {
    if (process.stderr.isTTY || process.env['RONDO_BENCH_VERBOSE']) process.stderr.write(`… ${what}\n`);
  };
  phase('query_range');
  const q = `query=big&start=${T_START / 1000}&end=${T_END / 1000}&step=1&max_points=${DAY}`;
  const matrix = await throughput(ports.day, `/api/v1/query_range?${q}`, 3);
  const columnsPath = `/api/rondo/query?query=big&range=1d&max_points=${DAY}`;
  const columns = await throughput(ports.day, columnsPath, 3);
  const base64 = await throughput(ports.day, `${columnsPath}&encoding=base64`, 3);
  phase('baseline');
  const baseline = await throughput(ports.day, '/api/v1/labels', 3);
  phase('in-process JSON');
  const produce = produceJson(dir);
  phase('remote read');
  const read = await latency(ports.day, '/api/v1/read', 50, readRequest());
  phase('/metrics');
  const metrics = await latency(ports.many, '/metrics', 20);
  phase('dashboard');
  const page = await pageLoad(ports.day);
  return {
    node: process.version,
    points: DAY,
    matrix,
    columns,
    base64,
    baseline,
    produce,
    read,
    metrics: { series: MANY, ...metrics },
    page,
  };
}

async function main(): Promise<void> {
  await withTempDir('rondo-serve-bench-', async (dir) => {
    buildStores(dir);
    const child = fork(fileURLToPath(import.meta.url), ['--server', dir], { stdio: 'inherit' });
    const ports = await new Promise<{ day: number; many: number }>((resolve) =>
      child.once('message', resolve as never),
    );
    try {
      const report = await measure(dir, ports);
      if (process.argv.includes('--json')) console.log(JSON.stringify(report, null, 2));
      else printReport(report);
    } finally {
      child.disconnect();
      agent.destroy();
    }
  });
}

if (process.argv[2] === '--server') await childServer(process.argv[3]!);
else await main();
