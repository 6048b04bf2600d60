// The public types of the Store API (the Store class itself is in store.ts).
import type { Duration } from './duration.js';
import type { QueryFn } from './rate.js';
import type { Consolidation, SchemaConfig } from './schema.js';

/**
 * A registered series, as returned by {@link Store.register}: a whole number, stable across
 * reopen and migration, and never given to another series (a retired series' handle stays an error).
 */
export type SeriesHandle = number;

/** Options of {@link Store.open}. */
export interface StoreOptions {
  /** Schemas to create the store with, or to check an existing store against. */
  schemas?: SchemaConfig[];
  /** Open as a reader: no lock, no writes; any number of readers may run beside the writer. */
  readOnly?: boolean;
  /**
   * When the stored schemas differ from `schemas` in layout (capacity, tiers, …): migrate the
   * store to them (see Store.migrate) instead of failing with ERR_RONDO_SCHEMA_MISMATCH.
   */
  migrate?: boolean;
  /**
   * How far ahead of the clock (Date.now()) a point may be, e.g. '5m' (the default): a point
   * further ahead would empty every ring of its schema, so record() refuses it with
   * ERR_RONDO_INVALID_TIMESTAMP and changes nothing. Infinity for replay and simulation.
   */
  maxFutureSkew?: Duration;
}

/** Options of {@link Store.query}. */
export interface QueryOptions {
  /** Inclusive start, ms since the epoch (or a Date); default: the oldest point kept. */
  start?: number | Date;
  /** Exclusive end, ms since the epoch (or a Date); default: after the newest point. */
  end?: number | Date;
  /** Tier index (default 0), or 'auto' for the finest tier whose retention reaches `start`. */
  tier?: number | 'auto';
  /**
   * Read the series as a counter: 'increase' gives, at each known point, what the counter
   * gained since the previous known point of the tier (looked for before `start` too);
   * 'rate' that increase per second of the time between the two. A decrease is a counter
   * reset: the increase is then the new value (counted from 0), as in Prometheus. A point
   * without a predecessor has no value. See docs/instrument.md.
   */
  fn?: QueryFn;
}

/** The points of one series, oldest first. */
export interface QueryResult {
  /** Tier the points come from. */
  tier: number;
  /** Slot width of that tier, ms. */
  interval: number;
  /** True when the tier's retention reaches back to `start` (always true without a start). */
  covered: boolean;
  /** Aligned slot start times, ms. */
  timestamps: Float64Array;
  /** Values, one per timestamp. */
  values: Float64Array;
}

/** A registered series, as listed by {@link Store.series}. */
export interface SeriesInfo {
  /** Handle to record and query with. */
  handle: SeriesHandle;
  /** Metric name. */
  name: string;
  /** Labels, sorted by key. */
  labels: Record<string, string>;
  /** Name of the schema that stores it. */
  schema: string;
  /** 'counter' or 'gauge' (see Store.register). */
  type: 'gauge' | 'counter';
  /** When the series was retired (ms, the schema's time), or undefined while it is live. */
  retired?: number;
}

/** One tier in {@link StoreInfo}. */
export interface TierInfo {
  /** Tier index. */
  index: number;
  /** Slot width, ms. */
  interval: number;
  /** Retention, ms. */
  retention: number;
  /** Consolidation function (null on tier 0). */
  consolidation: Consolidation | null;
  /** Minimum known fraction for a window to be known. */
  xff: number;
  /** Ring size. */
  slots: number;
  /** Slots holding data now. */
  slotsUsed: number;
  /** Slab file size. */
  bytes: number;
  /** Slab file path. */
  file: string;
  /** Start of the oldest slot held, ms, or null when empty. */
  oldest: number | null;
  /** Start of the newest slot, ms, or null when empty. */
  newest: number | null;
}

/** One schema in {@link StoreInfo}. */
export interface SchemaInfo {
  /** Schema name. */
  name: string;
  /** Labels a series must carry. */
  match: Record<string, string>;
  /** Series capacity. */
  maxSeries: number;
  /** Live series (they hold a column each). */
  series: number;
  /** Retired series whose data is still in some tier (they hold their column until it has aged out). */
  retired: number;
  /** Idle time after which a series is retired automatically (ms), or null for never. */
  retireAfter: number | null;
  /** Tiers, fine to coarse. */
  tiers: TierInfo[];
}

/** What {@link Store.info} reports. */
export interface StoreInfo {
  /** Store directory. */
  dir: string;
  /** Whether this handle is a reader. */
  readOnly: boolean;
  /** Whether a writer holds the store now (this one included). */
  writerActive: boolean;
  /** Process id of the writer holding the store (this process for a writer), or null. */
  writerPid: number | null;
  /** Schemas in configuration order. */
  schemas: SchemaInfo[];
  /** Live series in all schemas. */
  seriesCount: number;
  /** Retired series whose data is still in some tier, in all schemas. */
  retiredCount: number;
  /** Bytes of all slab files, the series journal and the metadata. */
  totalBytes: number;
}

/** Counters since this Store was opened. */
export interface StoreStats {
  /** Points stored by record()/recordBatch(). */
  recorded: number;
  /** Late points dropped because their slot had left the retention window. */
  droppedLate: number;
  /** Consolidated windows written (by consolidate() and by the writer itself). */
  windowsWritten: number;
  /** Consolidations the writer ran because a slot was about to be reused unconsolidated. */
  autoConsolidations: number;
  /** Series registered by this handle. */
  registered: number;
  /** Series retired by this handle (by retire() or after retireAfter). */
  retired: number;
}

/** Options of {@link Store.startMaintenance}. */
export interface MaintenanceOptions {
  /** How often to consolidate; default '1s'. */
  every?: Duration;
  /** Called with an error thrown by a scheduled consolidation; default: process.emitWarning. */
  onError?: (err: unknown) => void;
}
