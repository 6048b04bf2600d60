// A real Prometheus (2.42, Debian package) reads the store through remote read and scrapes its
// /metrics: PromQL over rondo data gives the values computed from the store, and Prometheus'
// own /api/v1 answers are the JSON rondo's /api/v1 gives for the same selector.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, needsCommand, type ServerProcess, scratchDirs, sleep, startServer } from 'rondo-testkit';
import { type SeriesHandle, Store } from '../index.js';
import { getJson, SERVE_SCHEMAS, serveOn } from '../test-fixtures/serve.js';
import type { RondoServer } from './serve.js';

const scratch = scratchDirs('serve-prom');
const options = needsCommand('prometheus', 'apt-get install -y prometheus');

/** Last recorded second, ms: the evaluation time of every query. */
const E = Math.floor(Date.now() / 1000) * 1000;
const HOSTS = [
  ['web1', 'eu'],
  ['web2', 'eu'],
  ['db1', 'us'],
] as const;

let store: Store;
let server: RondoServer;
let prom: ServerProcess;
let promUrl: string;
let promDir: string;
const cpu = new Map<string, SeriesHandle>();

// biome-ignore lint/suspicious/noExplicitAny: Prometheus answers are checked field by field
async function promQuery(path: string): Promise<any> {
  const res = await fetch(new URL(path, promUrl));
  const body = (await res.json()) as { status: string; error?: string };
  assert.equal(body.status, 'success', `${path}: ${body.error}`);
  return body;
}

const points = (h: SeriesHandle, from: number, to: number) => store.query(h, { start: from, end: to + 1 });

describe('a real Prometheus over remote read', options, () => {
  before(async () => {
    store = Store.open(scratch(), { schemas: SERVE_SCHEMAS });
    for (const [host, region] of HOSTS) cpu.set(host, store.register('cpu_usage', { host, region }));
    const requests = store.register('requests_total', { host: 'web1' });
    for (let t = E - 1_200_000; t <= E; t += 1000) {
      HOSTS.forEach(([host], i) => {
        store.record(cpu.get(host)!, i * 10 + Math.sin(t / 7000) * 3 + (t % 7000) / 1000, t);
      });
      store.record(requests, (t - E) / 1000 + 5000, t);
    }
    store.consolidate();
    server = await serveOn(store);
    const port = await freePort();
    promDir = mkdtempSync(join(tmpdir(), 'rondo-prom-'));
    writeFileSync(
      join(promDir, 'prometheus.yml'),
      `global:
  scrape_interval: 1s
remote_read:
  - url: ${server.url}api/v1/read
    read_recent: true
scrape_configs:
  - job_name: rondo
    static_configs: [{ targets: ['127.0.0.1:${server.port}'] }]
    metric_relabel_configs:
      - source_labels: [__name__]
        target_label: __name__
        replacement: scraped_$1
`,
    );
    promUrl = `http://127.0.0.1:${port}/`;
    prom = await startServer(
      'prometheus',
      [
        `--config.file=${join(promDir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(promDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      `${promUrl}-/ready`,
    );
  });
  after(async () => {
    await prom?.stop();
    await server?.close();
    store?.close();
    if (promDir) rmSync(promDir, { recursive: true, force: true });
  });

  test('rate() of a counter rising by 1 per second is 1', async () => {
    const { data } = await promQuery(`api/v1/query?query=rate(requests_total[1m])&time=${E / 1000}`);
    assert.equal(data.result.length, 1);
    assert.deepEqual(data.result[0].metric, { host: 'web1' });
    assert.ok(Math.abs(Number(data.result[0].value[1]) - 1) < 1e-9, data.result[0].value[1]);
  });

  test('sum by (region) adds the stored values of each region', async () => {
    const { data } = await promQuery(`api/v1/query?query=sum by (region) (cpu_usage)&time=${E / 1000}`);
    const at = (host: string) => points(cpu.get(host)!, E, E).values[0]!;
    const got = Object.fromEntries(
      data.result.map((r: { metric: { region: string }; value: [number, string] }) => [
        r.metric.region,
        Number(r.value[1]),
      ]),
    );
    assert.ok(Math.abs(got.eu - (at('web1') + at('web2'))) < 1e-9, `${got.eu}`);
    assert.ok(Math.abs(got.us - at('db1')) < 1e-9, `${got.us}`);
  });

  test('avg_over_time() over 1 minute is the mean of the stored points in the window', async () => {
    const q = `avg_over_time(cpu_usage{host="web2"}[1m])`;
    const { data } = await promQuery(`api/v1/query?query=${encodeURIComponent(q)}&time=${E / 1000}`);
    const mean = (from: number) => {
      const { values } = points(cpu.get('web2')!, from, E);
      return values.reduce((a, b) => a + b, 0) / values.length;
    };
    // Prometheus 2.x windows are [t-1m, t] (61 points here); 3.x made them (t-1m, t] (60).
    const got = Number(data.result[0].value[1]);
    assert.ok(
      Math.abs(got - mean(E - 60_000)) < 1e-9 || Math.abs(got - mean(E - 59_000)) < 1e-9,
      `${got} vs ${mean(E - 60_000)} (2.x) or ${mean(E - 59_000)} (3.x)`,
    );
  });

  test("Prometheus' query_range of a selector is exactly rondo's own /api/v1/query_range", async () => {
    const q = `query=${encodeURIComponent('cpu_usage{region="eu"}')}&start=${(E - 120_000) / 1000}&end=${E / 1000}&step=1`;
    const theirs = await promQuery(`api/v1/query_range?${q}`);
    const ours = await getJson(server, `/api/v1/query_range?${q}`);
    assert.equal(theirs.data.result.length, 2);
    assert.equal(theirs.data.result[0].values.length, 121);
    const byHost = (r: { metric: { host: string } }[]) =>
      [...r].sort((a, b) => a.metric.host.localeCompare(b.metric.host));
    assert.deepEqual(byHost(ours.body.data.result), byHost(theirs.data.result));
    assert.equal(ours.body.data.resultType, theirs.data.resultType);
    // The same through rate() of a range query: one value per step.
    const rate = await promQuery(
      `api/v1/query_range?query=rate(requests_total[30s])&start=${(E - 60_000) / 1000}&end=${E / 1000}&step=15`,
    );
    assert.deepEqual(
      rate.data.result[0].values.map((v: [number, string]) => Math.round(Number(v[1]) * 1e9) / 1e9),
      [1, 1, 1, 1, 1],
    );
  });

  test("Prometheus' series endpoint sees the store's series through remote read", async () => {
    const theirs = await promQuery(
      `api/v1/series?match[]=cpu_usage&start=${(E - 60_000) / 1000}&end=${E / 1000}`,
    );
    const ours = await getJson(
      server,
      `/api/v1/series?match[]=cpu_usage&start=${(E - 60_000) / 1000}&end=${E / 1000}`,
    );
    const key = (l: Record<string, string>) => JSON.stringify(Object.entries(l).sort());
    assert.deepEqual(theirs.data.map(key).sort(), ours.body.data.map(key).sort());
  });

  test('Prometheus scrapes /metrics: the newest value of each series', async () => {
    const deadline = Date.now() + 40_000;
    let result: { metric: { host: string }; value: [number, string] }[] = [];
    while (Date.now() < deadline) {
      result = (await promQuery('api/v1/query?query=scraped_cpu_usage')).data.result;
      if (result.length === HOSTS.length) break;
      await sleep(250);
    }
    assert.equal(result.length, HOSTS.length, 'three scraped series');
    for (const r of result) {
      assert.equal(Number(r.value[1]), points(cpu.get(r.metric.host)!, E, E).values[0]);
    }
    const up = await promQuery('api/v1/query?query=up{job="rondo"}');
    assert.equal(up.data.result[0].value[1], '1');
  });
});
