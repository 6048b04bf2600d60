import type {
  MaintenanceOptions,
  QueryOptions,
  QueryResult,
  SeriesHandle,
  SeriesInfo,
  StoreInfo,
  StoreOptions,
  StoreStats,
} from './api.js';
import { CursorLocks } from './cursors.js';
import { type DrainBatch, type DrainOptions, drainStore } from './drain.js';
import { closed, invalidTimestamp, invalidValue, RondoError, readOnly } from './errors.js';
import { type Labels, normalizeSeries, seriesKey } from './labels.js';
import { startMaintenanceTimer } from './maintenance.js';
import { readMetadata, type SeriesRecord, writeMetadata } from './metadata.js';
import { closeOpened, type OpenedStore, openStoreDir } from './open.js';
import { storeInfo, storeStats } from './report.js';
import { type Ring, S_END, S_START, S_WRITES } from './ring.js';
import { type Schema, schemaMatches } from './schema.js';
import { T_TIME, type TierSet } from './tiers.js';
import { MAX_TIMESTAMP_MS } from './timestamp.js';
import { checkOptions, checkTier, checkTime } from './validate.js';

/** Exclusive upper bound of a timestamp: slot times are stored as u64 ns. */
const TIME_END = MAX_TIMESTAMP_MS + 1;
/** Index of the value record()'s slow path stores, in `Store.pending`. */
const P_VALUE = 0;
/** Index of the time record()'s slow path stores at, in `Store.pending`. */
const P_TIME = 1;

/**
 * A rondo store: a directory of fixed-size memory-mapped rings, one per (schema, tier).
 * One writer per store (flock); any number of readers, in any process.
 */
export class Store {
  /** Store directory. */
  readonly dir: string;
  /** True for a reader. */
  readonly readOnly: boolean;
  private readonly schemas: readonly Schema[];
  private readonly sets: readonly TierSet[];
  private readonly records: SeriesRecord[] = [];
  private readonly keys = new Map<string, SeriesHandle>();
  // Hot-path tables indexed by handle: the tier-0 column, its ring, and its tier set.
  // Readers and closed stores keep them empty so record() fails on the first lookup.
  private cols: Float64Array[] = [];
  private rings: Ring[] = [];
  private handleSets: TierSet[] = [];
  private lockFd: number | null;
  private closed = false;
  private registered = 0;
  private readonly maintenance = new Set<() => void>();
  /** record()'s slow path takes [P_VALUE] and [P_TIME] here: doubles passed as arguments would be boxed. */
  private readonly pending = new Float64Array(2);
  private readonly cursorLocks = new CursorLocks();

  private constructor(opened: OpenedStore) {
    this.dir = opened.dir;
    this.readOnly = opened.readOnly;
    this.schemas = opened.schemas;
    this.sets = opened.sets;
    this.lockFd = opened.lockFd;
  }

  /**
   * Opens the store in `dir`. With `schemas`, creates it when absent or checks that an existing
   * store has exactly these schemas (ERR_RONDO_SCHEMA_MISMATCH). Without, opens an existing store
   * with its stored schemas (ERR_RONDO_NOT_FOUND when there is none).
   */
  static open(dir: string, options: StoreOptions = {}): Store {
    const opened = openStoreDir(dir, options);
    const store = new Store(opened);
    try {
      store.adopt(opened.series);
    } catch (err) {
      closeOpened(opened.sets, opened.lockFd);
      throw err;
    }
    if (!store.readOnly)
      for (const set of store.sets) for (const ring of set.rings) ring.slab.setSeriesCount(set.columns);
    return store;
  }

  /** Adds series records (from metadata) to the in-memory tables. */
  private adopt(series: readonly SeriesRecord[]): void {
    for (let h = this.records.length; h < series.length; h++) {
      const rec = series[h]!;
      const set = this.setNamed(rec.schema);
      this.records.push(rec);
      this.keys.set(seriesKey(rec.name, rec.labels), h);
      set.columns = Math.max(set.columns, rec.column + 1);
      if (!this.readOnly) this.bindHandle(h, set, rec.column);
    }
  }

  private setNamed(schema: string): TierSet {
    return this.sets[this.schemas.findIndex((s) => s.name === schema)]!;
  }

  private bindHandle(h: SeriesHandle, set: TierSet, column: number): void {
    const ring = set.rings[0]!;
    this.cols[h] = ring.slab.values.subarray(column * ring.slots, (column + 1) * ring.slots);
    this.rings[h] = ring;
    this.handleSets[h] = set;
  }

  /** Readers pick up series the writer registered since the last look (a header counter tells). */
  private refresh(): void {
    if (!this.readOnly || this.closed) return;
    if (this.sets.every((set) => set.rings[0]!.slab.seriesCount <= set.columns)) return;
    this.adopt(readMetadata(this.dir).series);
  }

  private checkOpen(): void {
    if (this.closed) throw closed(this.dir);
  }

  private checkWritable(what: string): void {
    this.checkOpen();
    if (this.readOnly) throw readOnly(what, this.dir);
  }

  /**
   * Registers a series (or returns the handle it already has) in the first schema whose `match`
   * its labels satisfy. Durable when it returns.
   */
  register(name: string, labels: Labels = {}): SeriesHandle {
    this.checkWritable('register');
    const norm = normalizeSeries(name, labels);
    const existing = this.keys.get(seriesKey(norm.name, norm.labels));
    if (existing !== undefined) return existing;
    const set = this.route(name, norm.labels);
    if (set.columns >= set.schema.maxSeries) {
      throw new RondoError(
        'ERR_RONDO_MAX_SERIES',
        `schema ${set.schema.name} is full: it holds ${set.schema.maxSeries} series (maxSeries)`,
      );
    }
    const rec: SeriesRecord = {
      name: norm.name,
      labels: norm.labels,
      schema: set.schema.name,
      column: set.columns,
    };
    // The column must be empty before the series exists: rings clear only registered columns.
    set.clearColumn(rec.column);
    writeMetadata(this.dir, this.schemas, [...this.records, rec]);
    this.adopt([...this.records, rec]);
    for (const ring of set.rings) ring.slab.setSeriesCount(set.columns);
    this.registered++;
    return this.records.length - 1;
  }

  /** The tier set of the first schema whose `match` the labels satisfy. */
  private route(name: string, labels: Labels): TierSet {
    const index = this.schemas.findIndex((s) => schemaMatches(s, labels));
    if (index < 0) {
      const list = this.schemas.map((s) => `${s.name} ${JSON.stringify(s.match)}`).join(', ');
      throw new RondoError(
        'ERR_RONDO_NO_MATCHING_SCHEMA',
        `no schema matches ${name} ${JSON.stringify(labels)} (schemas: ${list})`,
      );
    }
    return this.sets[index]!;
  }

  /**
   * Records `value` for the series at `timestamp` (ms; default Date.now()). NaN records "no value".
   * Syscall-free, and allocation-free when given a timestamp (Date.now() itself allocates);
   * a point too old for the ring is dropped and counted.
   */
  record(handle: SeriesHandle, value: number, timestamp?: number): void {
    const col = this.cols[handle];
    // The typeof test keeps strings such as '0' or 'length' from indexing the table.
    if (col === undefined || typeof handle !== 'number') throw this.handleError(handle);
    if (typeof value !== 'number' || (value - value !== 0 && !Number.isNaN(value))) throw invalidValue(value);
    const t = timestamp === undefined ? Date.now() : timestamp;
    const ring = this.rings[handle]!;
    const state = ring.state;
    if (typeof t === 'number' && t >= state[S_START]! && t < state[S_END]!) {
      col[ring.curPos] = value;
      state[S_WRITES]!++;
      return;
    }
    if (typeof t !== 'number') throw invalidTimestamp(t);
    this.pending[P_VALUE] = value;
    this.pending[P_TIME] = t;
    this.recordSlow(handle);
  }

  /** A point outside the current slot: advance the ring, open a late slot, or drop it. */
  private recordSlow(handle: SeriesHandle): void {
    const set = this.handleSets[handle]!;
    const t = this.pending[P_TIME]!;
    if (!(t >= set.minTime && t < TIME_END)) throw this.timestampError(t, set);
    set.state[T_TIME] = t;
    const pos = set.writePosition();
    if (pos < 0) return;
    this.cols[handle]![pos] = this.pending[P_VALUE]!;
    this.rings[handle]!.state[S_WRITES]!++;
  }

  private timestampError(t: unknown, set: TierSet): RondoError {
    return invalidTimestamp(t, { minTime: set.minTime, end: TIME_END, schema: set.schema.name });
  }

  /** Records `values[i]` for `handles[i]`, all at one timestamp (default Date.now()). Validates all first. */
  recordBatch(handles: ArrayLike<SeriesHandle>, values: ArrayLike<number>, timestamp?: number): void {
    if (handles === null || values === null || typeof handles !== 'object' || typeof values !== 'object') {
      throw new RondoError('ERR_RONDO_INVALID_ARGUMENT', 'recordBatch: handles and values must be arrays');
    }
    if (handles.length !== values.length) {
      throw new RondoError(
        'ERR_RONDO_INVALID_ARGUMENT',
        `recordBatch: ${handles.length} handles but ${values.length} values (they must be parallel)`,
      );
    }
    const t = timestamp === undefined ? Date.now() : timestamp;
    for (let i = 0; i < handles.length; i++) {
      const h = handles[i]!;
      if (this.cols[h] === undefined || typeof h !== 'number') throw this.handleError(h);
      // Per handle: schemas differ in their first valid time, and nothing may be written on failure.
      const set = this.handleSets[h]!;
      if (typeof t !== 'number' || !(t >= set.minTime && t < TIME_END)) throw this.timestampError(t, set);
      const v = values[i]!;
      if (typeof v !== 'number' || (v - v !== 0 && !Number.isNaN(v))) throw invalidValue(v);
    }
    for (let i = 0; i < handles.length; i++) this.record(handles[i]!, values[i]!, t);
  }

  private handleError(handle: unknown): RondoError {
    if (this.closed) return closed(this.dir);
    if (this.readOnly) return readOnly('record', this.dir);
    return new RondoError(
      'ERR_RONDO_INVALID_HANDLE',
      `${String(handle)} is not a series handle of this store`,
    );
  }

  /** The record of a handle, for reads (readers look for series registered since). */
  private recordOf(handle: SeriesHandle): SeriesRecord {
    this.checkOpen();
    if (!Number.isInteger(handle) || handle < 0 || handle >= this.records.length) this.refresh();
    const rec = Number.isInteger(handle) && handle >= 0 ? this.records[handle] : undefined;
    if (rec === undefined) {
      throw new RondoError(
        'ERR_RONDO_INVALID_HANDLE',
        `${String(handle)} is not a series handle of this store`,
      );
    }
    return rec;
  }

  /** The points of a series in `start ≤ t < end`, ascending, from one tier. */
  query(handle: SeriesHandle, options: QueryOptions = {}): QueryResult {
    const rec = this.recordOf(handle);
    const set = this.setNamed(rec.schema);
    checkOptions('query', options, ['start', 'end', 'tier']);
    const start = checkTime('query', 'start', options.start);
    const end = checkTime('query', 'end', options.end);
    if (start !== undefined && end !== undefined && start > end) {
      throw new RondoError('ERR_RONDO_INVALID_RANGE', `query: start (${start}) is after end (${end})`);
    }
    const want = options.tier ?? 0;
    const auto = want === 'auto' ? set.autoTier(start ?? Number.NEGATIVE_INFINITY) : null;
    const have = `schema ${set.schema.name} has tiers 0..${set.rings.length - 1} and 'auto'`;
    const tier = auto?.tier ?? checkTier('query', want, (t) => t < set.rings.length, have);
    const ring = set.rings[tier]!;
    const newest = ring.currentNewest();
    const covered = start === undefined || (auto?.covered ?? ring.covers(newest, start));
    const from = start === undefined ? 0 : Math.ceil(start / ring.intervalMs);
    const to = end === undefined ? newest : Math.ceil(end / ring.intervalMs) - 1;
    const points = ring.read(rec.column, from, to, newest);
    return { tier, interval: ring.intervalMs, covered, timestamps: points.timestamps, values: points.values };
  }

  /** The series registered, in handle order (readers include those added since they opened). */
  series(): SeriesInfo[] {
    this.checkOpen();
    this.refresh();
    return this.records.map((r, handle) => ({
      handle,
      name: r.name,
      labels: { ...r.labels },
      schema: r.schema,
    }));
  }

  /** Looks a series up by name and labels without registering it; undefined when absent. */
  lookup(name: string, labels: Labels = {}): SeriesHandle | undefined {
    this.checkOpen();
    this.refresh();
    const norm = normalizeSeries(name, labels);
    return this.keys.get(seriesKey(norm.name, norm.labels));
  }

  /** Schemas, tiers (slots, bytes, oldest and newest point), series count and bytes on disk. */
  info(): StoreInfo {
    this.checkOpen();
    this.refresh();
    return storeInfo({
      dir: this.dir,
      readOnly: this.readOnly,
      sets: this.sets,
      seriesCount: this.records.length,
    });
  }

  /**
   * Drains the points after cursor `name` for export (see docs/export.md); the cursor advances,
   * durably, only when the returned batch is committed. Works on readers too.
   */
  drain(name: string, options: DrainOptions = {}): DrainBatch {
    this.checkOpen();
    this.refresh();
    return drainStore(
      { dir: this.dir, sets: this.sets, records: this.records, locks: this.cursorLocks },
      name,
      options,
    );
  }

  /**
   * End (exclusive, ms) of the newest slot written in `tier` (default 0) over the schemas that
   * have it (or only `schemas`, by name), or null when none has data: "now" as far as the store
   * is concerned. Cheap: reads one header field per schema. ERR_RONDO_INVALID_TIER when no
   * schema has `tier`, ERR_RONDO_NOT_FOUND for an unknown schema name.
   */
  newestEnd(tier = 0, schemas?: readonly string[]): number | null {
    this.checkOpen();
    checkTier('newestEnd', tier, (t) => this.sets.some((set) => t < set.rings.length), 'no schema has it');
    for (const name of schemas ?? []) {
      if (!this.schemas.some((s) => s.name === name))
        throw new RondoError(
          'ERR_RONDO_NOT_FOUND',
          `newestEnd: the store has no schema ${JSON.stringify(name)}`,
        );
    }
    let end: number | null = null;
    for (const set of this.sets) {
      const ring = set.rings[tier];
      if (ring === undefined || (schemas !== undefined && !schemas.includes(set.schema.name))) continue;
      const newest = ring.currentNewest();
      if (newest !== 0) end = Math.max(end ?? 0, (newest + 1) * ring.intervalMs);
    }
    return end;
  }

  /** Counters since open. */
  stats(): StoreStats {
    this.checkOpen();
    return storeStats(this.sets, this.registered);
  }

  /**
   * Folds finer tiers into coarser ones (tier 0 → 1 → 2 …) and returns the windows written.
   * Exact whenever it runs; with nothing new it writes nothing.
   */
  consolidate(): number {
    this.checkWritable('consolidate');
    let written = 0;
    for (const set of this.sets) written += set.consolidate();
    return written;
  }

  /** Runs consolidate() on an unreferenced timer (it never keeps the process alive); returns stop(). */
  startMaintenance(options: MaintenanceOptions = {}): () => void {
    this.checkWritable('startMaintenance');
    return startMaintenanceTimer(() => this.consolidate(), options, this.maintenance);
  }

  /** msync every slab: durable against power loss, not only a process crash. */
  flush(): void {
    this.checkOpen();
    if (this.readOnly) return;
    for (const set of this.sets) for (const ring of set.rings) ring.slab.sync();
  }

  /** Stops maintenance, unmaps, and releases the writer lock. Idempotent. */
  close(): void {
    if (this.closed) return;
    for (const stop of [...this.maintenance]) stop();
    this.cursorLocks.release();
    this.closed = true;
    this.cols = [];
    this.rings = [];
    this.handleSets = [];
    closeOpened(this.sets, this.lockFd);
    this.lockFd = null;
  }

  /** True after close(). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** The validated schemas, in configuration order. */
  schemaList(): readonly Schema[] {
    return this.schemas;
  }
}
