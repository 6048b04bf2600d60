// One sample of the process's runtime metrics (see list.ts): CPU, memory, heap spaces, event-loop
// delay and utilization since the last sample, GC by kind, handles, requests and file descriptors.
import { readdirSync, readFileSync } from 'node:fs';
import {
  constants,
  type EventLoopUtilization,
  type IntervalHistogram,
  monitorEventLoopDelay,
  PerformanceObserver,
  performance,
} from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { checkStore, labelsOption, warn } from '../bridge/options.js';
import { SeriesRecorder } from '../bridge/series-recorder.js';
import { type Duration, type Labels, parseTimerDuration, RondoError, type Store } from '../index.js';
import { checkOptions } from '../validate.js';
import { RUNTIME_METRICS } from './list.js';

/** GC kinds as perf_hooks reports them (entry.detail.kind) and as prom-client labels them. */
const GC_KINDS: readonly (readonly [number, string])[] = [
  [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
];

/** Process internals prom-client reads too; absent on some runtimes, hence optional. */
interface ProcessInternals {
  _getActiveHandles?: () => unknown[];
  _getActiveRequests?: () => unknown[];
}

/** Labels the collector sets itself (the `labels` option may not use them). */
const RESERVED_LABELS: readonly string[] = ['space', 'kind', 'version', 'major', 'minor', 'patch'];

/** Options of {@link RuntimeMetrics}. */
export interface RuntimeMetricsOptions {
  /** Labels added to every series, e.g. `{ app: 'api' }` (not space, kind, version, major, minor, patch). */
  labels?: Labels;
  /** Hears of series the store refuses to register later (a new heap space); default: process.emitWarning. */
  onError?: (err: unknown) => void;
  /**
   * Tick of the timer that measures the event-loop delay; default '10ms' (prom-client's
   * eventLoopMonitoringPrecision). Each tick wakes the process: a coarser one costs less CPU
   * when idle, and the lag figures then include that tick.
   */
  eventLoopResolution?: Duration;
}

/**
 * The runtime collector, for sampling on your own schedule (recordRuntimeMetrics() runs it on a
 * timer): its series (each given a slot once, so a sample builds no series key), the event-loop
 * delay histogram and the GC observer. Each sample() records one point of every series at one time.
 */
export class RuntimeMetrics {
  private readonly rec: SeriesRecorder;
  /** Slot of each metric without a label of its own, by name. */
  private readonly at = new Map<string, number>();
  /** Slots of the GC count and seconds per kind (index of GC_KINDS). */
  private readonly gcSlots: { count: number; sum: number }[];
  /** First of the three slots (total, used, available) of each heap space. */
  private readonly spaces = new Map<string, number>();
  private readonly versionSlot: number;
  private readonly labels: Labels;
  private readonly lag: IntervalHistogram;
  private readonly observer: PerformanceObserver;
  /** GC collections and seconds per kind (index of GC_KINDS), since the start. */
  private readonly gcCount = new Float64Array(GC_KINDS.length);
  private readonly gcSeconds = new Float64Array(GC_KINDS.length);
  private elu: EventLoopUtilization;
  private readonly maxFds = maxFds();
  private closed = false;

  /**
   * Registers every series in `store` (one journal write; throws what the store throws when it
   * refuses them, e.g. ERR_RONDO_MAX_SERIES) and starts measuring the event loop and GC.
   */
  constructor(store: Store, options: RuntimeMetricsOptions = {}) {
    checkStore('RuntimeMetrics', store);
    checkOptions('RuntimeMetrics', options, ['labels', 'onError', 'eventLoopResolution']);
    const labels = labelsOption('RuntimeMetrics', options.labels, RESERVED_LABELS);
    const resolution = parseTimerDuration(
      options.eventLoopResolution ?? '10ms',
      'RuntimeMetrics eventLoopResolution',
    );
    if (!Number.isInteger(resolution) || resolution < 1) {
      throw new RondoError(
        'ERR_RONDO_CONFIG',
        `RuntimeMetrics eventLoopResolution: ${String(options.eventLoopResolution)} is not a whole number of ms ≥ 1`,
      );
    }
    this.rec = new SeriesRecorder(store, options.onError ?? warn);
    this.labels = labels;
    const fds = openFds() >= 0;
    for (const m of RUNTIME_METRICS) {
      if (m.label !== undefined) continue;
      if (m.name === 'process_open_fds' && !fds) continue;
      if (m.name === 'process_max_fds' && this.maxFds < 0) continue;
      this.at.set(m.name, this.rec.slot(m.name, labels, m.type));
    }
    this.gcSlots = GC_KINDS.map(([, kind]) => ({
      count: this.rec.slot('nodejs_gc_duration_seconds_count', { ...labels, kind }, 'counter'),
      sum: this.rec.slot('nodejs_gc_duration_seconds_sum', { ...labels, kind }, 'counter'),
    }));
    this.versionSlot = this.rec.slot('nodejs_version_info', { ...labels, ...versionLabels() }, 'gauge');
    for (const s of getHeapSpaceStatistics()) this.spaceSlots(s.space_name);
    this.rec.registerAll();
    this.lag = monitorEventLoopDelay({ resolution });
    this.lag.enable();
    this.elu = performance.eventLoopUtilization();
    this.observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const kind = (entry as { detail?: { kind?: number } | null }).detail?.kind;
        const i = GC_KINDS.findIndex(([k]) => k === kind);
        if (i < 0) continue;
        this.gcCount[i]!++;
        this.gcSeconds[i]! += entry.duration / 1000;
      }
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** The first of the three slots of a heap space, made on first use (registered at the next record). */
  private spaceSlots(space: string): number {
    let first = this.spaces.get(space);
    if (first === undefined) {
      const labels = { ...this.labels, space };
      first = this.rec.slot('nodejs_heap_space_size_total_bytes', labels, 'gauge');
      this.rec.slot('nodejs_heap_space_size_used_bytes', labels, 'gauge');
      this.rec.slot('nodejs_heap_space_size_available_bytes', labels, 'gauge');
      this.spaces.set(space, first);
    }
    return first;
  }

  /** Gives the metric `name` (one without a label of its own) its value for this sample. */
  private set(name: string, value: number): void {
    const slot = this.at.get(name);
    if (slot !== undefined) this.rec.set(slot, value);
  }

  /**
   * Records one sample of every series at `t` (ms, default now); returns the points recorded (a
   * metric without a value this time, such as the event-loop delay before the loop ticked, is none).
   * The event-loop figures cover the time since the previous sample.
   */
  sample(t: number = Date.now()): number {
    if (this.closed) return 0;
    const cpu = process.cpuUsage();
    this.set('process_cpu_user_seconds_total', cpu.user / 1e6);
    this.set('process_cpu_system_seconds_total', cpu.system / 1e6);
    this.set('process_cpu_seconds_total', (cpu.user + cpu.system) / 1e6);
    const mem = process.memoryUsage();
    this.set('process_resident_memory_bytes', mem.rss);
    this.set('process_start_time_seconds', Math.round(performance.timeOrigin) / 1000);
    this.set('process_open_fds', openFds());
    this.set('process_max_fds', this.maxFds);
    this.set('nodejs_heap_size_total_bytes', mem.heapTotal);
    this.set('nodejs_heap_size_used_bytes', mem.heapUsed);
    this.set('nodejs_external_memory_bytes', mem.external);
    this.set('nodejs_array_buffers_bytes', mem.arrayBuffers);
    for (const s of getHeapSpaceStatistics()) {
      const slot = this.spaceSlots(s.space_name);
      this.rec.set(slot, s.space_size);
      this.rec.set(slot + 1, s.space_used_size);
      this.rec.set(slot + 2, s.space_available_size);
    }
    this.sampleLoop();
    this.gcSlots.forEach((s, i) => {
      this.rec.set(s.count, this.gcCount[i]!);
      this.rec.set(s.sum, this.gcSeconds[i]!);
    });
    this.rec.set(this.versionSlot, 1);
    return this.rec.record(t);
  }

  /** Event-loop delay statistics and utilization since the last sample; handles and requests. */
  private sampleLoop(): void {
    const { lag } = this;
    // No delay measured since the last sample (the first one comes at once): no point, not 0.
    // (Node's percentile() and mean scan the histogram's buckets: on an empty one, all of them.)
    // Like prom-client, the raw histogram: the time between two ticks of the (10 ms) timer. Its
    // stddev is left out: Node computes it over every bucket, ~0.3 ms, ten times all the rest.
    const none = lag.count === 0;
    this.set('nodejs_eventloop_lag_min_seconds', none ? Number.NaN : lag.min / 1e9);
    this.set('nodejs_eventloop_lag_max_seconds', none ? Number.NaN : lag.max / 1e9);
    this.set('nodejs_eventloop_lag_mean_seconds', none ? Number.NaN : lag.mean / 1e9);
    this.set('nodejs_eventloop_lag_p50_seconds', none ? Number.NaN : lag.percentile(50) / 1e9);
    this.set('nodejs_eventloop_lag_p90_seconds', none ? Number.NaN : lag.percentile(90) / 1e9);
    this.set('nodejs_eventloop_lag_p99_seconds', none ? Number.NaN : lag.percentile(99) / 1e9);
    lag.reset();
    const now = performance.eventLoopUtilization();
    this.set(
      'nodejs_eventloop_utilization_ratio',
      performance.eventLoopUtilization(now, this.elu).utilization,
    );
    this.elu = now;
    const internals = process as ProcessInternals;
    this.set('nodejs_active_handles_total', internals._getActiveHandles?.().length ?? Number.NaN);
    this.set('nodejs_active_requests_total', internals._getActiveRequests?.().length ?? Number.NaN);
    this.set('nodejs_active_resources_total', process.getActiveResourcesInfo().length);
  }

  /** Stops the delay histogram and the GC observer; sample() records nothing afterwards. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.lag.disable();
    this.observer.disconnect();
  }
}

/** Open file descriptors of this process, or -1 where /proc/self/fd does not exist. */
function openFds(): number {
  try {
    // Reading the directory opens one descriptor itself, which the listing shows.
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return -1;
  }
}

/** The soft limit of open files (/proc/self/limits), or -1 where unknown or unlimited. */
function maxFds(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = Number(line?.split(/\s+/)[3]);
    return Number.isFinite(soft) ? soft : -1;
  } catch {
    return -1;
  }
}

/** The labels of nodejs_version_info, as prom-client sets them. */
function versionLabels(): Labels {
  const [major = '0', minor = '0', patch = '0'] = process.versions.node.split('.');
  return { version: process.version, major, minor, patch };
}
