// What instrumentation costs: one sample of the runtime collector (back to back, and spaced as a
// 1 s timer spaces them, when caches have gone cold), the CPU it adds to an idle process, and one
// sample of the prom-client bridge over ~50 metrics next to prom-client's own getMetricsAsJSON().
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { isRondoError } from '../errors.js';
import { RuntimeMetrics, recordRuntimeMetrics } from '../runtime/index.js';
import { Store } from '../store.js';
import { type Percentiles, percentiles, withTempDir } from './stats.js';

/** Options of {@link runInstrumentBench}. */
export interface InstrumentBenchOptions {
  /** Samples timed back to back, and spaced (default 1000 and 150). */
  samples?: number;
  spaced?: number;
  /** Wall time of each idle-CPU measurement, ms (default 2000). */
  idleMs?: number;
  /** Metrics of the prom-client registry (default 50). */
  promMetrics?: number;
}

/** What {@link runInstrumentBench} measured. */
export interface InstrumentBenchResult {
  runtime: {
    /** Series one sample records. */
    series: number;
    /** µs per sample() called back to back. */
    hotUs: Percentiles;
    /** µs per sample() with 20 ms of idle event loop before each (as a 1 s timer runs it). */
    spacedUs: Percentiles;
    /**
     * The same spacing, interleaved: µs of prom-client's default metrics read with
     * getMetricsAsJSON() (what prom-client users pay for about the same figures), or null
     * without prom-client.
     */
    promDefaultSpacedUs: Percentiles | null;
    /**
     * CPU µs per second of an idle process: without anything, with only Node's event-loop delay
     * monitor at 10 ms, and with recordRuntimeMetrics({ every: '1s' }).
     */
    idleCpuUsPerSec: { without: number; delayMonitor: number; with: number };
  };
  /** null when prom-client is not installed. */
  promClient: {
    /** Metrics in the registry, and the series they give. */
    metrics: number;
    series: number;
    /** µs of prom-client's own registry.getMetricsAsJSON(). */
    registryUs: Percentiles;
    /** µs of one RegistryRecorder.sample(): getMetricsAsJSON() plus recording every value. */
    sampleUs: Percentiles;
  } | null;
}

/** One day of 1 s slots for `maxSeries` series (sized to what is recorded: a slot advance clears every column). */
function schemas(maxSeries: number) {
  return [{ name: 'i', maxSeries, tiers: [{ interval: '1s', retention: '1d' }] }];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** CPU µs per wall-clock second while the process idles for `ms`. */
async function idleCpu(ms: number): Promise<number> {
  const cpu = process.cpuUsage();
  const t = performance.now();
  await sleep(ms);
  const used = process.cpuUsage(cpu);
  return ((used.user + used.system) * 1000) / (performance.now() - t);
}

async function runtimeBench(
  dir: string,
  o: Required<InstrumentBenchOptions>,
): Promise<InstrumentBenchResult['runtime']> {
  // Idle CPU first: prom-client's default metrics (the baseline below) start a delay monitor of
  // their own that keeps ticking.
  const without = await idleCpu(o.idleMs);
  const monitor = monitorEventLoopDelay({ resolution: 10 });
  monitor.enable();
  const delayMonitor = await idleCpu(o.idleMs);
  monitor.disable();
  const live = Store.open(`${dir}/live`, { schemas: schemas(80) });
  const stop = recordRuntimeMetrics(live, { every: '1s' });
  const withCollector = await idleCpu(o.idleMs);
  stop();
  live.close();
  const store = Store.open(`${dir}/runtime`, {
    schemas: schemas(80),
    maxFutureSkew: Number.POSITIVE_INFINITY,
  });
  try {
    const sampler = new RuntimeMetrics(store);
    let t = Math.floor(Date.now() / 1000) * 1000;
    const hot = new Float64Array(o.samples);
    for (let i = 0; i < o.samples; i++) {
      const start = performance.now();
      sampler.sample((t += 1000));
      hot[i] = performance.now() - start;
    }
    const spaced = new Float64Array(o.spaced);
    const promDefault = await promDefaultMetrics();
    const baseline = new Float64Array(o.spaced);
    for (let i = 0; i < o.spaced; i++) {
      await sleep(20);
      let start = performance.now();
      sampler.sample((t += 1000));
      spaced[i] = performance.now() - start;
      if (promDefault === null) continue;
      await sleep(20);
      start = performance.now();
      await promDefault.getMetricsAsJSON();
      baseline[i] = performance.now() - start;
    }
    sampler.close();
    const series = store.series().length;
    return {
      series,
      hotUs: percentiles(hot, hot.length, 1000),
      spacedUs: percentiles(spaced, spaced.length, 1000),
      promDefaultSpacedUs: promDefault === null ? null : percentiles(baseline, baseline.length, 1000),
      idleCpuUsPerSec: { without, delayMonitor, with: withCollector },
    };
  } finally {
    store.close();
  }
}

/** A registry with prom-client's default metrics only, or null without prom-client. */
async function promDefaultMetrics(): Promise<{ getMetricsAsJSON(): Promise<unknown> } | null> {
  try {
    const client = await import('prom-client');
    const registry = new client.Registry();
    client.collectDefaultMetrics({ register: registry });
    await registry.getMetricsAsJSON();
    return registry;
  } catch {
    return null;
  }
}

/** A prom-client registry of `n` metrics: the default ones, then counters, gauges and histograms. */
async function promRegistry(n: number) {
  const client = await import('prom-client');
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const have = (await registry.getMetricsAsJSON()).length;
  for (let i = have; i < n; i++) {
    const name = `bench_metric_${i}`;
    const labelNames = ['route'];
    if (i % 3 === 0)
      new client.Counter({ name: `${name}_total`, help: name, labelNames, registers: [registry] }).inc(
        { route: '/' },
        i,
      );
    else if (i % 3 === 1)
      new client.Gauge({ name, help: name, labelNames, registers: [registry] }).set({ route: '/a' }, i);
    else
      new client.Histogram({ name, help: name, labelNames, registers: [registry] }).observe(
        { route: '/b' },
        i / 100,
      );
  }
  return registry;
}

async function promBench(
  dir: string,
  o: Required<InstrumentBenchOptions>,
): Promise<InstrumentBenchResult['promClient']> {
  let bridge: typeof import('../prom-client/index.js');
  try {
    bridge = await import('../prom-client/index.js');
  } catch (err) {
    if (isRondoError(err, 'ERR_RONDO_MISSING_PEER')) return null;
    throw err;
  }
  const registry = await promRegistry(o.promMetrics);
  const store = Store.open(`${dir}/prom`, { schemas: schemas(200), maxFutureSkew: Number.POSITIVE_INFINITY });
  try {
    const recorder = new bridge.RegistryRecorder(store, registry);
    let t = Math.floor(Date.now() / 1000) * 1000;
    await recorder.sample((t += 1000)); // registers the series
    const rounds = Math.max(1, Math.floor(o.samples / 5));
    const own = new Float64Array(rounds);
    const sample = new Float64Array(rounds);
    // Interleaved, so both see the same machine.
    for (let i = 0; i < rounds; i++) {
      let start = performance.now();
      await registry.getMetricsAsJSON();
      own[i] = performance.now() - start;
      start = performance.now();
      await recorder.sample((t += 1000));
      sample[i] = performance.now() - start;
    }
    return {
      metrics: (await registry.getMetricsAsJSON()).length,
      series: store.series().length,
      registryUs: percentiles(own, rounds, 1000),
      sampleUs: percentiles(sample, rounds, 1000),
    };
  } finally {
    store.close();
  }
}

/** Runs the instrumentation benchmarks in a temporary directory. */
export async function runInstrumentBench(
  options: InstrumentBenchOptions = {},
): Promise<InstrumentBenchResult> {
  const o: Required<InstrumentBenchOptions> = {
    samples: options.samples ?? 1000,
    spaced: options.spaced ?? 150,
    idleMs: options.idleMs ?? 2000,
    promMetrics: options.promMetrics ?? 50,
  };
  return withTempDir('rondo-bench-instrument-', async (dir) => ({
    runtime: await runtimeBench(dir, o),
    promClient: await promBench(dir, o),
  }));
}

/** The instrumentation figures as report lines. */
export function formatInstrumentBench(r: InstrumentBenchResult): string[] {
  const us = (p: Percentiles): string => `p50 ${p.p50.toFixed(1)} µs, p99 ${p.p99.toFixed(1)} µs`;
  const rt = r.runtime;
  const added = rt.idleCpuUsPerSec.with - rt.idleCpuUsPerSec.without;
  const lines = [
    `runtime collector (rondo/runtime), ${rt.series} series per sample:`,
    `  one sample, back to back:          ${us(rt.hotUs)}`,
    `  one sample, 20 ms idle before each: ${us(rt.spacedUs)} (as a 1 s timer finds the caches)`,
    ...(rt.promDefaultSpacedUs === null
      ? []
      : [
          `  same spacing, prom-client's default metrics by getMetricsAsJSON(): ${us(rt.promDefaultSpacedUs)}`,
        ]),
    `  at every: '1s' it holds the event loop ${(rt.spacedUs.p50 / 10_000).toFixed(4)} % of the time (p50 sample ÷ 1 s)`,
    `  CPU of an idle process: ${rt.idleCpuUsPerSec.without.toFixed(0)} µs/s alone, ${rt.idleCpuUsPerSec.delayMonitor.toFixed(0)} µs/s with Node's delay monitor at 10 ms, ${rt.idleCpuUsPerSec.with.toFixed(0)} µs/s with the collector (${added >= 0 ? '+' : ''}${added.toFixed(0)} µs/s)`,
  ];
  if (r.promClient === null) return [...lines, 'prom-client bridge: skipped (prom-client is not installed)'];
  const p = r.promClient;
  return [
    ...lines,
    `prom-client bridge (rondo/prom-client), ${p.metrics} metrics, ${p.series} series:`,
    `  registry.getMetricsAsJSON() alone: ${us(p.registryUs)}`,
    `  one RegistryRecorder.sample():     ${us(p.sampleUs)} (the bridge adds ${(p.sampleUs.p50 - p.registryUs.p50).toFixed(1)} µs at p50)`,
  ];
}
