// The OpenTelemetry metrics exporter: each export (a PeriodicExportingMetricReader calls it every
// interval) records the cumulative sums, gauges and histograms as series with Prometheus names.
import type {
  AggregationTemporality,
  DataPoint,
  Histogram,
  MetricData,
  PushMetricExporter,
  ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { checkStore, labelsOption, warn } from '../bridge/options.js';
import { SeriesRecorder, type SeriesType } from '../bridge/series-recorder.js';
import { type Labels, RondoError, type Store } from '../index.js';
import { checkOptions } from '../validate.js';
import { promLabelName, promLabels, promLabelValue, promMetricName } from './naming.js';
import { sdk } from './sdk.js';

/** ExportResultCode of @opentelemetry/core (not a dependency of rondo): SUCCESS, FAILED. */
const SUCCESS = 0;
const FAILED = 1;

/** What export() reports to the SDK (@opentelemetry/core's ExportResult). */
export interface ExportResultLike {
  /** 0 for success, 1 for failure. */
  code: number;
  /** Why it failed. */
  error?: Error;
}

/** Options of {@link RondoMetricExporter}. */
export interface RondoMetricExporterOptions {
  /** Labels added to every series that does not carry the label already. */
  labels?: Labels;
  /**
   * Resource attributes to copy into labels: a list of attribute names (`['service.name']`
   * gives `service_name`), or attribute → label name (`{ 'service.name': 'job' }`). Default: none.
   */
  resourceLabels?: readonly string[] | Readonly<Record<string, string>>;
  /**
   * Hears of what is not recorded: series the store refuses, exponential histograms, delta
   * temporality (each metric once); default: process.emitWarning.
   */
  onError?: (err: unknown) => void;
}

/** One point to record: its slot in the recorder, its value and its time (ms). */
interface Pending {
  slot: number;
  value: number;
  t: number;
}

/** ms since the epoch of an OpenTelemetry HrTime ([seconds, nanoseconds]). */
function hrMs(hr: readonly [number, number]): number {
  return hr[0] * 1000 + hr[1] / 1e6;
}

/**
 * A PushMetricExporter for @opentelemetry/sdk-metrics 2.x that records into a rondo store; use it
 * with a PeriodicExportingMetricReader (e.g. every 1000 ms). It asks for cumulative temporality.
 * Monotonic sums become counters named `…_total`, other sums and gauges gauges, histograms
 * `_bucket{le}`, `_sum` and `_count` series (counters), each at the time the SDK collected it.
 */
export class RondoMetricExporter implements PushMetricExporter {
  private readonly rec: SeriesRecorder;
  private readonly extra: Labels;
  private readonly resourceKeys: readonly (readonly [string, string])[];
  private readonly onError: (err: unknown) => void;
  private readonly reported = new Set<string>();
  private readonly pending: Pending[] = [];
  private shut = false;

  constructor(store: Store, options: RondoMetricExporterOptions = {}) {
    checkStore('RondoMetricExporter', store);
    checkOptions('RondoMetricExporter', options, ['labels', 'resourceLabels', 'onError']);
    this.extra = labelsOption('RondoMetricExporter', options.labels);
    this.resourceKeys = resourceKeys(options.resourceLabels);
    this.onError = options.onError ?? warn;
    this.rec = new SeriesRecorder(store, this.onError);
  }

  /** Records the metrics of one collection; reports failure (a closed store, …) to the SDK. */
  export(metrics: ResourceMetrics, resultCallback: (result: ExportResultLike) => void): void {
    if (this.shut) {
      resultCallback({
        code: FAILED,
        error: new RondoError('ERR_RONDO_CLOSED', 'RondoMetricExporter was shut down'),
      });
      return;
    }
    try {
      const base = this.baseLabels(metrics.resource.attributes);
      for (const scope of metrics.scopeMetrics) for (const m of scope.metrics) this.convert(m, base);
      this.flushPending();
      resultCallback({ code: SUCCESS });
    } catch (err) {
      this.pending.length = 0;
      resultCallback({ code: FAILED, error: err instanceof Error ? err : new Error(String(err)) });
    }
  }

  /** The labels every series of this export starts from: the resource's chosen attributes, then `labels`. */
  private baseLabels(attributes: Readonly<Record<string, unknown>>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, label] of this.resourceKeys) {
      const value = promLabelValue(attributes[key]);
      if (value !== undefined && value !== '') out[label] = value;
    }
    for (const key in this.extra) if (!(key in out)) out[key] = this.extra[key]!;
    return out;
  }

  /** Queues the points of one metric. */
  private convert(m: MetricData, base: Labels): void {
    const { name, unit } = m.descriptor;
    if (m.aggregationTemporality !== sdk.AggregationTemporality.CUMULATIVE) {
      this.reportOnce(name, 'has delta temporality; rondo records cumulative metrics only');
    } else if (m.dataPointType === sdk.DataPointType.SUM) {
      const kind = m.isMonotonic ? 'counter' : 'gauge';
      this.queue(promMetricName(name, unit, kind), kind, m.dataPoints, base);
    } else if (m.dataPointType === sdk.DataPointType.GAUGE) {
      this.queue(promMetricName(name, unit, 'gauge'), 'gauge', m.dataPoints, base);
    } else if (m.dataPointType === sdk.DataPointType.HISTOGRAM) {
      this.queueHistograms(promMetricName(name, unit, 'histogram'), m.dataPoints, base);
    } else {
      this.reportOnce(
        name,
        'is an exponential histogram, which rondo does not record; use explicit bucket histograms (the default aggregation)',
      );
    }
  }

  private queue(name: string, type: SeriesType, points: readonly DataPoint<number>[], base: Labels): void {
    for (const p of points) {
      const slot = this.rec.slot(name, withBase(promLabels(p.attributes), base), type);
      this.pending.push({ slot, value: p.value, t: hrMs(p.endTime) });
    }
  }

  /** A histogram point as cumulative `_bucket{le}` counts (the SDK gives them per bucket), `_sum`, `_count`. */
  private queueHistograms(name: string, points: readonly DataPoint<Histogram>[], base: Labels): void {
    for (const p of points) {
      const labels = withBase(promLabels(p.attributes), base);
      const t = hrMs(p.endTime);
      const { boundaries, counts } = p.value.buckets;
      let cumulative = 0;
      boundaries.forEach((le, i) => {
        cumulative += counts[i] ?? 0;
        const slot = this.rec.slot(`${name}_bucket`, { ...labels, le: String(le) }, 'counter');
        this.pending.push({ slot, value: cumulative, t });
      });
      const inf = this.rec.slot(`${name}_bucket`, { ...labels, le: '+Inf' }, 'counter');
      this.pending.push({ slot: inf, value: p.value.count, t });
      // The SDK leaves the sum out when a histogram may see negative values.
      if (p.value.sum !== undefined) {
        this.pending.push({ slot: this.rec.slot(`${name}_sum`, labels, 'counter'), value: p.value.sum, t });
      }
      this.pending.push({ slot: this.rec.slot(`${name}_count`, labels, 'counter'), value: p.value.count, t });
    }
  }

  /** Records the queued points, one recordBatch per distinct time (a collection has one). */
  private flushPending(): void {
    const byTime = new Map<number, Pending[]>();
    for (const p of this.pending) {
      const list = byTime.get(p.t);
      if (list === undefined) byTime.set(p.t, [p]);
      else list.push(p);
    }
    this.pending.length = 0;
    for (const [t, points] of [...byTime].sort(([a], [b]) => a - b)) {
      for (const p of points) this.rec.set(p.slot, p.value);
      this.rec.record(t);
    }
  }

  private reportOnce(metric: string, what: string): void {
    if (this.reported.has(metric)) return;
    this.reported.add(metric);
    this.onError(
      new RondoError('ERR_RONDO_INVALID_ARGUMENT', `RondoMetricExporter: metric ${metric} ${what}`),
    );
  }

  /** Cumulative for every instrument: a counter's series must hold its running total. */
  selectAggregationTemporality(): AggregationTemporality {
    return sdk.AggregationTemporality.CUMULATIVE;
  }

  /** Nothing is buffered: every export is recorded before it returns. */
  async forceFlush(): Promise<void> {}

  /** Later exports fail; the store stays open (it is the caller's). */
  async shutdown(): Promise<void> {
    this.shut = true;
  }
}

/** `labels` plus those of `base` it does not carry. */
function withBase(labels: Record<string, string>, base: Labels): Labels {
  for (const key in base) if (!(key in labels)) labels[key] = base[key]!;
  return labels;
}

/** The resourceLabels option as [attribute, label name] pairs. */
function resourceKeys(option: RondoMetricExporterOptions['resourceLabels']): [string, string][] {
  if (option === undefined) return [];
  if (Array.isArray(option)) {
    return option.map((key) => {
      if (typeof key !== 'string' || key === '') throw badResourceLabels();
      return [key, promLabelName(key)];
    });
  }
  if (option === null || typeof option !== 'object') throw badResourceLabels();
  return Object.entries(option).map(([key, label]) => {
    if (typeof label !== 'string' || label === '') throw badResourceLabels();
    return [key, label];
  });
}

function badResourceLabels(): RondoError {
  return new RondoError(
    'ERR_RONDO_INVALID_ARGUMENT',
    "RondoMetricExporter: resourceLabels must be a list of attribute names (['service.name']) or attribute → label ({ 'service.name': 'job' })",
  );
}
