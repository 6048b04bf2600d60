// rondo/otel with the real @opentelemetry/sdk-metrics: the store holds what the reader exported at
// each collection (sums, gauges, histograms, with Prometheus names and the chosen resource
// attributes), counters survive a restart, the periodic reader at 100 ms, what is not recorded,
// failures reported to the SDK, and the clear error without the SDK installed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Attributes } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  AggregationType,
  DataPointType,
  MeterProvider,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { formatSeries, Store } from '../index.js';
import { oneTier, scratchDirs, T0, throwsCode, waitUntil } from '../test-fixtures/helpers.js';
import { importWithoutPeers } from '../test-fixtures/peer.js';
import { type ExportResultLike, RondoMetricExporter, type RondoMetricExporterOptions } from './index.js';

const scratch = scratchDirs('otel');

function openStore(interval = 1000): Store {
  return Store.open(scratch(), { schemas: [oneTier('o', interval, 600, 200)] });
}

/** A meter provider exporting to rondo, collected on demand (forceFlush), and what each export carried. */
function setUp(store: Store, options: RondoMetricExporterOptions = {}, attributes: Attributes = {}) {
  const exporter = new RondoMetricExporter(store, options);
  const exported: ResourceMetrics[] = [];
  const results: ExportResultLike[] = [];
  const spy = Object.assign(Object.create(exporter) as RondoMetricExporter, {
    export(metrics: ResourceMetrics, done: (r: ExportResultLike) => void): void {
      exported.push(metrics);
      exporter.export(metrics, (r) => {
        results.push(r);
        done(r);
      });
    },
  });
  const reader = new PeriodicExportingMetricReader({ exporter: spy, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'api', 'service.instance.id': 'i-1', ...attributes }),
    readers: [reader],
    views: [{ instrumentName: 'exp.*', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
  });
  return { exporter, provider, reader, exported, results, meter: provider.getMeter('test') };
}

/** The time (ms) the SDK stamped on the points of an export. */
function exportTime(m: ResourceMetrics): number {
  const p = m.scopeMetrics[0]!.metrics[0]!.dataPoints[0]!;
  return p.endTime[0] * 1000 + p.endTime[1] / 1e6;
}

/** The store's points in the slot of `t`, as `name{labels}` → value. */
function storeAt(store: Store, t: number): Map<string, number> {
  const out = new Map<string, number>();
  const start = Math.floor(t / 1000) * 1000;
  for (const s of store.series()) {
    const r = store.query(s.handle, { start, end: start + 1000 });
    if (r.values.length === 1) out.set(formatSeries(s.name, s.labels), r.values[0]!);
  }
  return out;
}

describe('RondoMetricExporter', () => {
  it('records what each export carries, under Prometheus names, with the chosen resource attributes', async () => {
    const store = openStore();
    const { provider, reader, exported, results, meter } = setUp(store, {
      resourceLabels: { 'service.name': 'job' },
      labels: { region: 'eu' },
    });
    const requests = meter.createCounter('http.server.requests', { unit: '{request}' });
    const queue = meter.createUpDownCounter('queue.size', { unit: 'By' });
    const duration = meter.createHistogram('http.server.duration', {
      unit: 's',
      advice: { explicitBucketBoundaries: [0.01, 0.1, 1] },
    });
    let cpu = 0.25;
    meter
      .createObservableGauge('cpu.utilization', { unit: '1' })
      .addCallback((r) => r.observe(cpu, { core: 0 }));
    let total = 0;
    const observations: number[] = [];
    for (let round = 1; round <= 3; round++) {
      requests.add(round, { 'http.route': '/' });
      total += round;
      queue.add(round % 2 === 0 ? -100 : 300);
      for (const v of [0.005, 0.05 * round, 2]) {
        duration.record(v);
        observations.push(v);
      }
      cpu = round / 10;
      await reader.forceFlush();
      const t = exportTime(exported.at(-1)!);
      const cum = (bound: number): number => observations.filter((v) => v <= bound).length;
      const want = new Map<string, number>([
        ['http_server_requests_total{http_route="/",job="api",region="eu"}', total],
        ['queue_size_bytes{job="api",region="eu"}', round === 1 ? 300 : round === 2 ? 200 : 500],
        ['cpu_utilization_ratio{core="0",job="api",region="eu"}', round / 10],
        ['http_server_duration_seconds_bucket{job="api",le="0.01",region="eu"}', cum(0.01)],
        ['http_server_duration_seconds_bucket{job="api",le="0.1",region="eu"}', cum(0.1)],
        ['http_server_duration_seconds_bucket{job="api",le="1",region="eu"}', cum(1)],
        ['http_server_duration_seconds_bucket{job="api",le="+Inf",region="eu"}', observations.length],
        ['http_server_duration_seconds_count{job="api",region="eu"}', observations.length],
      ]);
      const got = storeAt(store, t);
      const sum = got.get('http_server_duration_seconds_sum{job="api",region="eu"}');
      got.delete('http_server_duration_seconds_sum{job="api",region="eu"}');
      assert.deepEqual(got, want, `export ${round}`);
      assert.ok(Math.abs(sum! - observations.reduce((a, b) => a + b, 0)) < 1e-9, 'the histogram sum');
    }
    assert.ok(results.every((r) => r.code === 0));
    const types = new Map(store.series().map((s) => [s.name, s.type]));
    assert.equal(types.get('http_server_requests_total'), 'counter');
    assert.equal(types.get('http_server_duration_seconds_bucket'), 'counter');
    assert.equal(types.get('http_server_duration_seconds_sum'), 'counter');
    assert.equal(types.get('queue_size_bytes'), 'gauge');
    assert.equal(types.get('cpu_utilization_ratio'), 'gauge');
    await provider.shutdown();
    store.close();
  });

  it('a counter survives a restart of the process: increase counts the new total from 0', async () => {
    const store = openStore(100);
    const h = (): number => store.lookup('jobs_total', { service_name: 'api' })!;
    const providers: MeterProvider[] = [];
    for (const run of [
      [5, 3],
      [2, 4],
    ] as const) {
      // A new provider is a new process: its cumulative counter starts again at 0.
      const { provider, reader, meter } = setUp(store, { resourceLabels: ['service.name'] });
      providers.push(provider);
      const jobs = meter.createCounter('jobs');
      for (const n of run) {
        jobs.add(n);
        await reader.forceFlush();
        // The next export lands in a later 100 ms slot.
        await new Promise((r) => setTimeout(r, 100 - (Date.now() % 100) + 5));
      }
    }
    assert.deepEqual([...store.query(h()).values], [5, 8, 2, 6]);
    assert.deepEqual([...store.query(h(), { fn: 'increase' }).values], [3, 2, 4]);
    // Shut down last: a shutdown exports once more.
    for (const p of providers) await p.shutdown();
    store.close();
  });

  it('runs under a PeriodicExportingMetricReader at 100 ms; after shutdown exports fail', async () => {
    const store = openStore(100);
    const exporter = new RondoMetricExporter(store);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 100 });
    const provider = new MeterProvider({ readers: [reader] });
    let ticks = 0;
    provider
      .getMeter('m')
      .createObservableCounter('ticks')
      .addCallback((r) => r.observe(++ticks));
    const points = (): number => {
      const h = store.lookup('ticks_total');
      return h === undefined ? 0 : store.query(h).values.length;
    };
    await waitUntil('three exports', () => points() >= 3, 10_000);
    await provider.shutdown();
    const values = [...store.query(store.lookup('ticks_total')!).values];
    assert.deepEqual(
      values,
      [...values].sort((a, b) => a - b),
      'a cumulative counter only grows',
    );
    const result = await new Promise<ExportResultLike>((resolve) =>
      exporter.export({ resource: resourceFromAttributes({}), scopeMetrics: [] }, resolve),
    );
    assert.equal(result.code, 1);
    assert.match(String(result.error?.message), /shut down/);
    store.close();
  });

  it('asks for cumulative temporality; reports exponential histograms and delta metrics once, records the rest', async () => {
    const store = openStore();
    const errors: unknown[] = [];
    const { exporter, provider, reader, meter } = setUp(store, { onError: (e) => errors.push(e) });
    assert.equal(exporter.selectAggregationTemporality(), AggregationTemporality.CUMULATIVE);
    meter.createHistogram('exp.latency').record(3);
    meter.createCounter('ok').add(1);
    await reader.forceFlush();
    await reader.forceFlush();
    assert.equal(errors.length, 1, 'once');
    assert.match(String((errors[0] as Error).message), /exp\.latency is an exponential histogram/);
    assert.ok(store.lookup('ok_total', {}) !== undefined, 'resource attributes are no labels by default');
    assert.equal(store.series().filter((s) => s.name.startsWith('exp')).length, 0);
    assert.equal(store.series().length, 1);
    const delta: ResourceMetrics = {
      resource: resourceFromAttributes({}),
      scopeMetrics: [
        {
          scope: { name: 's' },
          metrics: [
            {
              descriptor: { name: 'd', description: '', unit: '', valueType: 1 },
              aggregationTemporality: AggregationTemporality.DELTA,
              dataPointType: DataPointType.SUM,
              isMonotonic: true,
              dataPoints: [{ attributes: {}, startTime: [T0 / 1000, 0], endTime: [T0 / 1000, 0], value: 1 }],
            },
          ],
        },
      ],
    };
    const r = await new Promise<ExportResultLike>((resolve) => exporter.export(delta, resolve));
    assert.equal(r.code, 0);
    assert.match(String((errors[1] as Error).message), /d has delta temporality/);
    assert.equal(store.lookup('d_total'), undefined);
    await provider.shutdown();
    store.close();
  });

  it('a closed store fails the export (the SDK hears of it); bad options are refused', async () => {
    const store = openStore();
    throwsCode(
      () => new RondoMetricExporter(store, { resourceLabels: 'service.name' as never }),
      'ERR_RONDO_INVALID_ARGUMENT',
    );
    throwsCode(
      () => new RondoMetricExporter(store, { label: {} } as never),
      'ERR_RONDO_INVALID_ARGUMENT',
      /"label" \(did you mean labels\?\)/,
    );
    throwsCode(() => new RondoMetricExporter(null as never), 'ERR_RONDO_INVALID_ARGUMENT', /Store/);
    // A reserved key would pass here and then fail every export's registration.
    throwsCode(
      () => new RondoMetricExporter(store, { labels: { __x: 'a' } }),
      'ERR_RONDO_INVALID_LABEL',
      /__x.*reserved/,
    );
    const { provider, reader, results, meter } = setUp(store);
    meter.createCounter('c').add(1);
    store.close();
    await reader.forceFlush().catch(() => undefined);
    assert.equal(results.at(-1)?.code, 1);
    assert.match(String(results.at(-1)?.error?.message), /closed/);
    await provider.shutdown().catch(() => undefined);
  });
});

it('importing rondo/otel without @opentelemetry/sdk-metrics installed is ERR_RONDO_MISSING_PEER', async () => {
  const r = await importWithoutPeers('rondo/otel');
  assert.equal(r.code, 'ERR_RONDO_MISSING_PEER', r.message);
  assert.match(r.message, /rondo\/otel needs the package @opentelemetry\/sdk-metrics/);
  assert.match(r.message, /npm install @opentelemetry\/sdk-metrics/);
});
