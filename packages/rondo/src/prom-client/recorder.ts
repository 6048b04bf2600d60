// A prom-client registry's metrics as rondo series: each sample reads the registry as JSON and
// records every value, registering label sets as they appear.
import { checkStore, labelsOption, warn } from '../bridge/options.js';
import { SeriesRecorder, type SeriesType } from '../bridge/series-recorder.js';
import { type Labels, RondoError, type Store } from '../index.js';
import { checkOptions } from '../validate.js';

/** One metric as prom-client's `registry.getMetricsAsJSON()` gives it. */
export interface PromMetricJson {
  /** Metric name (of a histogram or summary: the base name). */
  name: string;
  /** 'counter', 'gauge', 'histogram' or 'summary' (prom-client's types declare a numeric enum in that order). */
  type: string | number;
  /** Its values: one per label set, and per bucket, quantile, sum and count. */
  values: readonly {
    value: number;
    labels: Readonly<Record<string, string | number | undefined>>;
    /** The series name when it differs from `name` (`_bucket`, `_sum`, `_count`). */
    metricName?: string;
  }[];
}

/** What recordRegistry() needs of a prom-client `Registry` (any version with getMetricsAsJSON). */
export interface PromRegistry {
  /** Collects every metric (running their collect() callbacks). */
  getMetricsAsJSON(): Promise<readonly PromMetricJson[]>;
}

/** Options of {@link RegistryRecorder}. */
export interface RegistryRecorderOptions {
  /** Labels added to every series that does not carry the label already, e.g. `{ instance: 'api-1' }`. */
  labels?: Labels;
  /** Hears of series the store refuses to register (full schema, …); default: process.emitWarning. */
  onError?: (err: unknown) => void;
}

/**
 * The series type of one value: counters, and the buckets, sum and count of histograms and
 * summaries, are cumulative ('counter': their coarse tiers keep `last`, and rate() applies);
 * gauges and summary quantiles are gauges.
 */
export function promSeriesType(metricType: string | number, series: string, name: string): SeriesType {
  const type = typeof metricType === 'number' ? ENUM_TYPES[metricType] : metricType;
  if (type === 'counter') return 'counter';
  if (type === 'histogram' || type === 'summary') return series === name ? 'gauge' : 'counter';
  return 'gauge';
}

/** prom-client's MetricType enum as its .d.ts declares it (its JSON carries the names). */
const ENUM_TYPES = ['counter', 'gauge', 'histogram', 'summary'];

/**
 * Records what a prom-client registry holds, one sample at a time (recordRegistry() runs it on a
 * timer): counters and gauges as series with their labels, histograms as `_bucket{le}`, `_sum`
 * and `_count`, summaries as `{quantile}`, `_sum` and `_count`.
 */
export class RegistryRecorder {
  private readonly rec: SeriesRecorder;
  private readonly extra: Labels;
  private closed = false;

  constructor(
    store: Store,
    private readonly registry: PromRegistry,
    options: RegistryRecorderOptions = {},
  ) {
    checkStore('RegistryRecorder', store);
    if (typeof (registry as Partial<PromRegistry> | null)?.getMetricsAsJSON !== 'function') {
      throw new RondoError(
        'ERR_RONDO_INVALID_ARGUMENT',
        'RegistryRecorder: expected a prom-client Registry (an object with getMetricsAsJSON())',
      );
    }
    checkOptions('RegistryRecorder', options, ['labels', 'onError']);
    this.extra = labelsOption('RegistryRecorder', options.labels);
    this.rec = new SeriesRecorder(store, options.onError ?? warn);
  }

  /**
   * Reads the registry and records every value at `t` (ms, default: now, taken before the
   * registry is read); resolves to the points recorded. Records nothing once closed, even for a
   * sample that was reading the registry when close() was called; rejects with
   * ERR_RONDO_CLOSED when the store was closed.
   */
  async sample(t: number = Date.now()): Promise<number> {
    if (this.closed) return 0;
    const metrics = await this.registry.getMetricsAsJSON();
    if (this.closed) return 0;
    for (const m of metrics) {
      for (const v of m.values) {
        const name = v.metricName ?? m.name;
        const slot = this.rec.slot(name, this.labelsOf(v.labels), promSeriesType(m.type, name, m.name));
        this.rec.set(slot, v.value);
      }
    }
    return this.rec.record(t);
  }

  /** A value's labels as strings (an empty value is no label, as in Prometheus), plus the extra ones. */
  private labelsOf(labels: Readonly<Record<string, string | number | undefined>>): Labels {
    const out: Record<string, string> = {};
    for (const key in labels) {
      const v = labels[key];
      if (v !== undefined && v !== '') out[key] = String(v);
    }
    for (const key in this.extra) if (!(key in out)) out[key] = this.extra[key]!;
    return out;
  }

  /** Stops recording. Idempotent. */
  close(): void {
    this.closed = true;
  }
}
