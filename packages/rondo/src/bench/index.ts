/**
 * rondo/bench: reproducible micro-benchmarks of the store's hot paths, used by `npm run bench`
 * and `rondo bench`. Every run works in its own temporary store and removes it afterwards.
 * The functions report figures only; nothing here asserts a target.
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { RondoError } from '../errors.js';
import type { SchemaConfig } from '../schema.js';
import { Store } from '../store.js';
import { benchFsWriteSync, benchUdpSend } from './baselines.js';
import {
  nextTurn,
  type Percentiles,
  percentiles,
  positiveInt,
  registerAll,
  T0,
  withTempDir,
} from './stats.js';

export {
  type CatalogBenchOptions,
  type CatalogBenchResult,
  formatCatalogBench,
  runCatalogBench,
} from './catalog.js';
export {
  formatInstrumentBench,
  type InstrumentBenchOptions,
  type InstrumentBenchResult,
  runInstrumentBench,
} from './instrument.js';
export { type QueryBenchResult, runQueryBench } from './query.js';
export type { Percentiles } from './stats.js';

/** Options of {@link runWriteBench}. */
export interface WriteBenchOptions {
  /** record() calls measured (default 10_000_000); the GC-counted pass makes as many again. */
  points?: number;
  /** Series recorded round-robin at each timestamp (default 30). */
  series?: number;
  /** 1: one 1s/1d tier; 3: 1s/10m, 10s/6h avg, 5m/7d avg, so slot advances may consolidate (default 1). */
  tiers?: 1 | 3;
  /** Called between phases with record() calls done and to do; never inside a measured loop. */
  onProgress?: (done: number, total: number) => void;
}

/** What {@link runWriteBench} measured. */
export interface WriteBenchResult {
  /** process.version. */
  node: string;
  /** record() calls in each measured pass. */
  points: number;
  /** Series recorded per timestamp. */
  series: number;
  /** Tiers configured. */
  tiers: number;
  /** record(): throughput of the untimed pass, ns per call of the timed pass, GCs of the untimed pass. */
  record: { opsPerSec: number; nsPerCall: Percentiles; gcEvents: number };
  /** fs.writeSync of 16 bytes appended to a temp file. */
  fsWriteSync: { opsPerSec: number; nsPerCall: Percentiles };
  /** dgram send of 16 bytes to a receiver on 127.0.0.1. */
  udpSend: { opsPerSec: number; nsPerCall: Percentiles };
  /** record() ops/s divided by each baseline's ops/s. */
  ratio: { fsWriteSync: number; udpSend: number };
}

/** What {@link runConsolidateBench} measured. */
export interface ConsolidateBenchResult {
  /** Series in the schema. */
  series: number;
  /** Tiers in the schema. */
  tiers: 3;
  /** Wall time of one consolidate() call made once per simulated second, µs. */
  usPerCall: Percentiles;
}

/** Target batch size: ~1000 calls take tens of µs, so the timer's ~50 ns overhead and resolution vanish. */
const BATCH_TARGET = 1024;

/** Warm-up calls at most: enough for V8 to optimize record() and the loops (and to fill the rings once). */
const WARMUP_MAX = 3_000_000;

function oneTier(series: number): SchemaConfig {
  return { name: 'bench', maxSeries: series, tiers: [{ interval: '1s', retention: '1d' }] };
}

function threeTiers(series: number): SchemaConfig {
  return {
    name: 'bench',
    maxSeries: series,
    tiers: [
      { interval: '1s', retention: '10m' },
      { interval: '10s', retention: '6h', consolidation: 'avg' },
      { interval: '5m', retention: '7d', consolidation: 'avg' },
    ],
  };
}

// The two record() loops are separate functions so each stays monomorphic and V8 optimizes them
// on their own. Neither allocates: handles are Smis and values doubles kept unboxed once record()
// is inlined; the time lives in a Float64Array, because a double carried across the outer loop
// of such a nest is boxed by V8 (one heap number per round, which is what made GCs appear).
const clock = new Float64Array(1);

/**
 * Timed pass: `batches` batches of `rounds` rounds; a round records every series at one time,
 * then time advances 1 s. out[b] = wall time of batch b in ms. performance.now() allocates on
 * Node 20 (a few hundred bytes per call), which is why GCs are counted in the other pass.
 */
function recordTimed(
  store: Store,
  handles: number[],
  values: Float64Array,
  rounds: number,
  batches: number,
  t: number,
  out: Float64Array,
): number {
  const series = handles.length;
  clock[0] = t;
  for (let b = 0; b < batches; b++) {
    const start = performance.now();
    for (let r = 0; r < rounds; r++) {
      const now: number = clock[0]!;
      for (let i = 0; i < series; i++) store.record(handles[i]!, values[i]! + r, now);
      clock[0] = now + 1000;
    }
    out[b] = performance.now() - start;
  }
  return clock[0]!;
}

/** Untimed pass: the same calls with nothing else in the loop, for throughput and the GC count. */
function recordPlain(
  store: Store,
  handles: number[],
  values: Float64Array,
  rounds: number,
  t: number,
): number {
  const series = handles.length;
  clock[0] = t;
  for (let r = 0; r < rounds; r++) {
    const now: number = clock[0]!;
    for (let i = 0; i < series; i++) store.record(handles[i]!, values[i]! + (r & 1023), now);
    clock[0] = now + 1000;
  }
  return clock[0]!;
}

/**
 * record() throughput, per-call latency and GC events, next to two baselines (fs.writeSync and
 * a UDP send of 16 bytes) measured in the same run.
 *
 * Method: one record() takes nanoseconds, below what a timer can resolve, so calls are timed in
 * batches of 30·k ≈ 1024 (whole rounds) with performance.now() outside the inner loop; the
 * percentiles are those of the per-batch means (batch time / batch size). After a warm-up of up
 * to 3 M calls, two passes of `points` calls run: an untimed pass (throughput = calls / its wall
 * time; GC events counted by a PerformanceObserver on 'gc' entries that start inside it, since
 * the loop itself allocates nothing) and the timed pass (percentiles).
 */
export async function runWriteBench(options: WriteBenchOptions = {}): Promise<WriteBenchResult> {
  const plan = planWrite(options);
  return withTempDir('rondo-bench-', async (dir) => {
    const store = Store.open(`${dir}/store`, {
      schemas: [plan.tiers === 1 ? oneTier(plan.series) : threeTiers(plan.series)],
    });
    let record: WriteBenchResult['record'];
    try {
      const run: WriteRun = { plan, store, handles: registerAll(store, plan.series), t: T0, done: 0 };
      const times = new Float64Array(Math.max(plan.batches, plan.warmupBatches));
      warmUp(run, times);
      const untimed = await untimedPass(run);
      timedPass(run, times);
      record = { ...untimed, nsPerCall: percentiles(times, plan.batches, 1e6 / plan.batchCalls) };
      const stats = store.stats();
      if (stats.recorded !== plan.total) {
        throw new Error(
          `bench: the store counted ${stats.recorded} points, the bench recorded ${plan.total}`,
        );
      }
    } finally {
      store.close();
    }
    const baselineCalls = Math.min(200_000, Math.max(640, Math.round(plan.points / 50)));
    const fs = benchFsWriteSync(dir, baselineCalls);
    const udp = await benchUdpSend(baselineCalls);
    return {
      node: process.version,
      points: plan.points,
      series: plan.series,
      tiers: plan.tiers,
      record,
      fsWriteSync: { opsPerSec: fs.opsPerSec, nsPerCall: fs.nsPerCall },
      udpSend: { opsPerSec: udp.opsPerSec, nsPerCall: udp.nsPerCall },
      ratio: { fsWriteSync: record.opsPerSec / fs.opsPerSec, udpSend: record.opsPerSec / udp.opsPerSec },
    };
  });
}

/** The sizes of a write benchmark, from its options. */
interface WritePlan {
  series: number;
  tiers: 1 | 3;
  /** Rounds per timed batch (every series once per round). */
  rounds: number;
  /** record() calls per batch. */
  batchCalls: number;
  /** Batches per measured pass. */
  batches: number;
  /** record() calls per measured pass. */
  points: number;
  /** Batches of warm-up. */
  warmupBatches: number;
  /** record() calls in all. */
  total: number;
  /** The value of series i is values[i] plus the round number (mod 1024). */
  values: Float64Array;
  onProgress: ((done: number, total: number) => void) | undefined;
}

/** A write benchmark under way: its store and where time and progress stand. */
interface WriteRun {
  plan: WritePlan;
  store: Store;
  handles: number[];
  /** The next round's timestamp. */
  t: number;
  /** record() calls made so far. */
  done: number;
}

function planWrite(options: WriteBenchOptions): WritePlan {
  const series = positiveInt(options.series, 30, 'series');
  const wanted = positiveInt(options.points, 10_000_000, 'points');
  const tiers = options.tiers ?? 1;
  if (tiers !== 1 && tiers !== 3)
    throw new RondoError('ERR_RONDO_INVALID_ARGUMENT', `bench: tiers must be 1 or 3, got ${String(tiers)}`);
  const rounds = Math.max(1, Math.round(BATCH_TARGET / series));
  const batchCalls = rounds * series;
  const batches = Math.max(1, Math.round(wanted / batchCalls));
  const points = batches * batchCalls;
  const warmupBatches = Math.max(1, Math.round(Math.min(WARMUP_MAX, points) / batchCalls));
  const values = new Float64Array(series);
  for (let i = 0; i < series; i++) values[i] = 100 + i * 0.25;
  const total = (warmupBatches + 2 * batches) * batchCalls;
  return {
    series,
    tiers,
    rounds,
    batchCalls,
    batches,
    points,
    warmupBatches,
    total,
    values,
    onProgress: options.onProgress,
  };
}

/** Warm-up: alternates both loops in chunks so each is optimized as a whole function, not only by OSR. */
function warmUp(run: WriteRun, times: Float64Array): void {
  const { plan, store, handles } = run;
  const chunks = Math.min(10, plan.warmupBatches);
  for (let c = 0; c < chunks; c++) {
    const n =
      Math.floor(((c + 1) * plan.warmupBatches) / chunks) - Math.floor((c * plan.warmupBatches) / chunks);
    const half = n >> 1;
    run.t = recordTimed(store, handles, plan.values, plan.rounds, n - half, run.t, times);
    run.t = recordPlain(store, handles, plan.values, plan.rounds * half, run.t);
    run.done += n * plan.batchCalls;
    plan.onProgress?.(run.done, plan.total);
  }
}

/**
 * The untimed pass: throughput, and GC events. GC entries are delivered later, so they are
 * collected after the pass and kept only when they started inside it.
 */
async function untimedPass(run: WriteRun): Promise<{ opsPerSec: number; gcEvents: number }> {
  const { plan } = run;
  await nextTurn();
  const gcStarts: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcStarts.push(e.startTime);
  });
  observer.observe({ entryTypes: ['gc'] });
  const start = performance.now();
  run.t = recordPlain(run.store, run.handles, plan.values, plan.rounds * plan.batches, run.t);
  const end = performance.now();
  await nextTurn();
  await new Promise((resolve) => setTimeout(resolve, 10));
  observer.disconnect();
  run.done += plan.points;
  plan.onProgress?.(run.done, plan.total);
  return {
    opsPerSec: (plan.points * 1000) / (end - start),
    gcEvents: gcStarts.filter((s) => s >= start && s <= end).length,
  };
}

/** The timed pass into `times`, in chunks so progress can be reported between them (never inside a batch). */
function timedPass(run: WriteRun, times: Float64Array): void {
  const { plan } = run;
  const chunks = Math.min(10, plan.batches);
  let b = 0;
  for (let c = 0; c < chunks; c++) {
    const end = Math.floor(((c + 1) * plan.batches) / chunks);
    run.t = recordTimed(
      run.store,
      run.handles,
      plan.values,
      plan.rounds,
      end - b,
      run.t,
      times.subarray(b, end),
    );
    b = end;
    plan.onProgress?.(run.done + b * plan.batchCalls, plan.total);
  }
}

/**
 * consolidate() once per simulated second, as startMaintenance would call it, on a schema of
 * `series` series (default 30) and 3 tiers (1s/10m, 10s/6h avg, 5m/7d avg). Each second records
 * every series first (untimed); each consolidate() is timed on its own. The first simulated
 * 20 minutes (tier 0 wrapped twice) are a warm-up and not reported.
 */
export async function runConsolidateBench(
  options: { series?: number; calls?: number } = {},
): Promise<ConsolidateBenchResult> {
  const series = positiveInt(options.series, 30, 'series');
  const calls = positiveInt(options.calls, 21_600, 'calls');
  const warmup = 1200;
  return withTempDir('rondo-bench-', (dir) => {
    const store = Store.open(`${dir}/store`, { schemas: [threeTiers(series)] });
    try {
      const handles = registerAll(store, series);
      const times = new Float64Array(calls);
      let t = T0;
      for (let c = -warmup; c < calls; c++) {
        for (let i = 0; i < series; i++) store.record(handles[i]!, (c & 255) + i, t);
        const start = performance.now();
        store.consolidate();
        const dt = performance.now() - start;
        if (c >= 0) times[c] = dt;
        t += 1000;
      }
      return { series, tiers: 3, usPerCall: percentiles(times, calls, 1000) };
    } finally {
      store.close();
    }
  });
}

function fmtRate(opsPerSec: number): string {
  if (opsPerSec >= 1e6) return `${(opsPerSec / 1e6).toFixed(1)} M/s`;
  if (opsPerSec >= 1e3) return `${(opsPerSec / 1e3).toFixed(1)} k/s`;
  return `${opsPerSec.toFixed(0)} /s`;
}

function fmtNum(n: number, digits = 1): string {
  return n >= 1000 ? Math.round(n).toLocaleString('en-US') : n.toFixed(digits);
}

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

/** The table of a write benchmark without the method notes (for a report that prints several). */
export function formatWriteBenchTable(r: WriteBenchResult): string {
  const schema = r.tiers === 1 ? '1s/1d' : '1s/10m, 10s/6h avg, 5m/7d avg';
  const widths = [22, 11, 9, 9, 9, 9];
  const line = (name: string, x: { opsPerSec: number; nsPerCall: Percentiles }, ratio: string): string =>
    row(
      [
        name,
        fmtRate(x.opsPerSec),
        fmtNum(x.nsPerCall.p50),
        fmtNum(x.nsPerCall.p99),
        fmtNum(x.nsPerCall.p999),
        ratio,
      ],
      widths,
    );
  const points = r.points.toLocaleString('en-US');
  return [
    `record(): node ${r.node}, ${r.series} series, ${r.tiers} tier(s) (${schema}), ${points} calls per pass`,
    row(['', 'throughput', 'p50 ns', 'p99 ns', 'p999 ns', 'record ÷'], widths),
    line('record()', r.record, ''),
    line('fs.writeSync 16 B', r.fsWriteSync, `${fmtNum(r.ratio.fsWriteSync)}×`),
    line('dgram send 16 B (lo)', r.udpSend, `${fmtNum(r.ratio.udpSend)}×`),
    `GC events during ${points} record() calls after warm-up: ${r.record.gcEvents}`,
  ].join('\n');
}

/** How the write figures are measured, as printed under the tables. */
export const WRITE_METHOD_NOTES = [
  'Method (write): each round records every series at one timestamp, then time advances 1 s.',
  '  record(): after a warm-up of up to 3 M calls, an untimed pass gives the throughput and the GC',
  '    count (PerformanceObserver "gc" entries that start inside it; performance.now() allocates on',
  '    Node 20, so no timer runs in that pass). A second pass times batches of whole rounds',
  '    (~1024 calls) with performance.now(); ns/call are percentiles of the per-batch means.',
  '  fs.writeSync: 16-byte appends to a temp file; bursts of 64 timed; percentiles of burst means.',
  '  dgram send: connected UDP socket to a receiver on 127.0.0.1, send() without callback (Node',
  '    sends synchronously unless the socket would block; a queued send is waited for inside the',
  '    burst); bursts of 64 timed, one event-loop turn between bursts not counted.',
  '  "record ÷" = record() throughput divided by the baseline throughput.',
].join('\n');

/** The human-readable table of a write benchmark, with the method notes. */
export function formatWriteBench(r: WriteBenchResult): string {
  return `${formatWriteBenchTable(r)}\n\n${WRITE_METHOD_NOTES}`;
}
