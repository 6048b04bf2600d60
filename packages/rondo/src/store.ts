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
import type { Catalog, SeriesEntry } from './catalog/catalog.js';
import { identityKey } from './catalog/journal.js';
import { agedOut } from './catalog/lifecycle.js';
import { readerRefresh } from './catalog/reader.js';
import { type RegisterOptions, Registry, type SeriesSpec } from './catalog/registry.js';
import type { SeriesLog } from './catalog/series-log.js';
import { CursorLocks } from './cursors.js';
import { type DrainBatch, type DrainOptions, drainStore } from './drain.js';
import { formatDuration, parseDuration } from './duration.js';
import { closed, invalidTimestamp, invalidValue, RondoError, readOnly } from './errors.js';
import { type Labels, normalizeSeries } from './labels.js';
import type { WriterLock } from './lock.js';
import { startMaintenanceTimer } from './maintenance.js';
import { type MigrateOptions, type MigrationResult, migrate } from './migrate.js';
import { closeOpened, openStoreDir } from './open.js';
import { lifeEnd, pointBefore, readSeries, trimToLife } from './query.js';
import { applyCounterFn, checkQueryFn } from './rate.js';
import { seriesInfo, storeInfo, storeStats } from './report.js';
import { S_END, S_START, S_WRITES } from './ring.js';
import type { Schema } from './schema.js';
import { T_TIME, type TierSet } from './tiers.js';
import { MAX_TIMESTAMP_MS } from './timestamp.js';
import { checkTier } from './validate.js';

/** Exclusive upper bound of a timestamp: slot times are stored as u64 ns. */
const TIME_END = MAX_TIMESTAMP_MS + 1;
/** Index of the value record()'s slow path stores, in `Store.pending`. */
const P_VALUE = 0;
/** Index of the time record()'s slow path stores at, in `Store.pending`. */
const P_TIME = 1;

/**
 * A rondo store: a directory of fixed-size memory-mapped rings, one per (schema, tier), and a
 * journal of its series. One writer per store (flock); any number of readers, in any process.
 */
export class Store {
  /** Store directory. */
  readonly dir: string;
  /** True for a reader. */
  readonly readOnly: boolean;
  private readonly schemas: readonly Schema[];
  private readonly sets: readonly TierSet[];
  private readonly catalog: Catalog;
  private readonly log: SeriesLog | null;
  private readonly registry: Registry | null;
  /** Directory of the current generation's data files (slabs, journal, cursors). */
  private readonly dataDir: string;
  // record()'s table: the entry of handle h is at [h & mask]; emptied by close().
  private table: (SeriesEntry | undefined)[];
  private mask: number;
  private lock: WriterLock | null;
  private closed = false;
  private catalogSeq = 0;
  private readonly maintenance = new Set<() => void>();
  /** [0]: how far past the clock (ms) a point may be (StoreOptions.maxFutureSkew). */
  private readonly skew = new Float64Array(1);
  /** record()'s slow path takes [P_VALUE] and [P_TIME] here: doubles passed as arguments would be boxed. */
  private readonly pending = new Float64Array(2);
  private readonly cursorLocks = new CursorLocks();
  /** Per schema with retireAfter: where record()'s slow path notes late points (see IdleTracker). */
  private readonly lateFrom: (Float64Array | null)[];

  private constructor(dir: string, options: StoreOptions) {
    // Checked first: a bad option must not leave the store opened (and locked).
    const skew = futureSkew((options as StoreOptions | null)?.maxFutureSkew);
    const opened = openStoreDir(dir, options);
    this.skew[0] = skew;
    this.dir = opened.dir;
    this.readOnly = opened.readOnly;
    this.schemas = opened.schemas;
    this.sets = opened.sets;
    this.catalog = opened.catalog;
    this.log = opened.log;
    this.lock = opened.lock;
    this.dataDir = opened.dataDir;
    try {
      this.registry = this.readOnly ? null : new Registry(this.catalog, this.log!, this.schemas, this.sets);
    } catch (err) {
      closeOpened(this.sets, this.log, this.lock);
      throw err;
    }
    this.lateFrom = this.registry?.lateFrom() ?? [];
    this.catalogSeq = opened.catalogSeq;
    this.table = this.catalog.table;
    this.mask = this.catalog.mask;
  }

  /**
   * Opens the store in `dir`. With `schemas`, creates it when absent or checks that an existing
   * store has exactly these schemas (ERR_RONDO_SCHEMA_MISMATCH; with `migrate: true` the store
   * is migrated to them instead). Without, opens an existing store with its stored schemas
   * (ERR_RONDO_NOT_FOUND when there is none).
   */
  static open(dir: string, options: StoreOptions = {}): Store {
    return new Store(dir, options);
  }

  /**
   * Rewrites the store in `dir` into `options.schemas` (more or fewer series slots, tiers added,
   * removed or changed, schemas added or reordered), keeping every point that fits the new
   * layout; crash-safe (the store opens afterwards as the old or the new version). Needs the
   * writer lock: ERR_RONDO_LOCKED while a writer has the store open. See docs/architecture.md.
   */
  static migrate(dir: string, options: MigrateOptions): MigrationResult {
    return migrate(dir, options);
  }

  /** After the catalogue changed: record()'s table may have been replaced by a bigger one. */
  private syncTable(): void {
    this.table = this.catalog.table;
    this.mask = this.catalog.mask;
  }

  /** Readers pick up what the writer changed in the catalogue since the last look (a header counter tells). */
  private refresh(): void {
    if (!this.readOnly || this.closed) return;
    const seq = this.sets[0]!.rings[0]!.slab.catalogSeq;
    // A format-1 store written by an older rondo publishes new series in the header counts only.
    const grew = this.log === null && this.sets.some((set) => set.rings[0]!.slab.seriesCount > set.columns);
    if (seq === this.catalogSeq && !grew) return;
    // Taken only once the refresh succeeded: a store migrated away (ERR_RONDO_CLOSED) stays so.
    readerRefresh(this.catalog, this.log, this.sets, this.dir);
    this.catalogSeq = seq;
    this.syncTable();
  }

  private checkOpen(): void {
    if (this.closed) throw closed(this.dir);
  }

  private writer(what: string): Registry {
    this.checkOpen();
    if (this.registry === null) throw readOnly(what, this.dir);
    return this.registry;
  }

  /**
   * Registers a series (or returns the handle of the live series with the same name and labels)
   * in the first schema whose `match` its labels carry. Survives a crash of the process when it
   * returns (one write to the journal); flush() makes it survive a power loss too.
   */
  register(name: string, labels: Labels = {}, options: RegisterOptions = {}): SeriesHandle {
    const e = this.writer('register').register(name, labels, options);
    this.syncTable();
    return e.handle;
  }

  /** Registers many series with one journal write (all or none); returns their handles in order. */
  registerMany(series: readonly SeriesSpec[]): SeriesHandle[] {
    const entries = this.writer('registerMany').registerMany(series);
    this.syncTable();
    return entries.map((e) => e.handle);
  }

  /**
   * Retires a series: it can no longer be recorded (its handle is then ERR_RONDO_INVALID_HANDLE
   * for record()), its data stays queryable until it has aged out of every tier, and then its
   * column is given to a new series. Idempotent.
   */
  retire(handle: SeriesHandle): void {
    const registry = this.writer('retire');
    const e = this.entryOf(handle);
    if (e.live) registry.retire(e);
  }

  /**
   * Records `value` for the series at `timestamp` (ms; default Date.now()). NaN records "no value".
   * Syscall-free, and allocation-free when given a timestamp (Date.now() itself allocates);
   * a point too old for the ring is dropped and counted.
   */
  record(handle: SeriesHandle, value: number, timestamp?: number): void {
    const e = this.table[handle & this.mask];
    // A stale or foreign handle finds another series' entry, or none; a string never equals a number.
    if (e === undefined || e.handle !== handle || e.values === null) throw this.handleError(handle);
    if (typeof value !== 'number' || (value - value !== 0 && !Number.isNaN(value))) throw invalidValue(value);
    const t = timestamp === undefined ? Date.now() : timestamp;
    const ring = e.ring!;
    const state = ring.state;
    if (typeof t === 'number' && t >= state[S_START]! && t < state[S_END]!) {
      e.values[e.base + ring.curPos] = value;
      state[S_WRITES]!++;
      return;
    }
    if (typeof t !== 'number') throw invalidTimestamp(t);
    this.pending[P_VALUE] = value;
    this.pending[P_TIME] = t;
    this.recordSlow(e);
  }

  /** A point outside the current slot: advance the ring, open a late slot, or drop it. */
  private recordSlow(e: SeriesEntry): void {
    const set = e.set!;
    this.checkPendingTime(e);
    const t = this.pending[P_TIME]!;
    set.state[T_TIME] = t;
    const pos = set.writePosition();
    if (pos < 0) return;
    e.values![e.base + pos] = this.pending[P_VALUE]!;
    e.ring!.state[S_WRITES]!++;
    // A late point lands in a slot retireAfter's tracker may have looked at already.
    const late = this.lateFrom[e.schema];
    if (late != null && t < e.ring!.state[S_START]! && t < late[0]!) late[0] = t;
  }

  /**
   * Throws unless the time in `pending[P_TIME]` (taken from there: a double passed to a call V8
   * may not inline is allocated) is one `e`'s schema can hold and not further ahead of the clock
   * than maxFutureSkew, where a jump would empty the ring.
   */
  private checkPendingTime(e: SeriesEntry): void {
    const t = this.pending[P_TIME]!;
    const set = e.set!;
    if (!(t >= set.minTime && t < TIME_END)) throw this.timestampError(t, set);
    // Date.now() (which allocates) is read only for a jump that large, which is rare.
    if (t - e.ring!.state[S_END]! > this.skew[0]! && t > Date.now() + this.skew[0]!)
      throw this.futureError(t);
  }

  private futureError(t: number): RondoError {
    const ahead = formatDuration(Math.max(1, Math.round(t - Date.now())));
    return new RondoError(
      'ERR_RONDO_INVALID_TIMESTAMP',
      `timestamp ${t} (${new Date(t).toISOString()}) is ${ahead} ahead of the clock, beyond maxFutureSkew (${formatDuration(this.skew[0]!)}): it would empty the rings. Check its unit (ms since the epoch), or open the store with a larger maxFutureSkew (Infinity for replay)`,
    );
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
      const e = this.table[h & this.mask];
      if (e === undefined || e.handle !== h || e.values === null) throw this.handleError(h);
      // Per handle: schemas differ in their first valid time, and nothing may be written on failure.
      if (typeof t !== 'number') throw this.timestampError(t, e.set!);
      this.pending[P_TIME] = t;
      this.checkPendingTime(e);
      const v = values[i]!;
      if (typeof v !== 'number' || (v - v !== 0 && !Number.isNaN(v))) throw invalidValue(v);
    }
    for (let i = 0; i < handles.length; i++) this.record(handles[i]!, values[i]!, t);
  }

  private handleError(handle: unknown): RondoError {
    if (this.closed) return closed(this.dir);
    if (this.readOnly) return readOnly('record', this.dir);
    const e = typeof handle === 'number' ? this.catalog.get(handle) : undefined;
    if (e !== undefined && !e.live) return this.catalog.retiredHandle(e);
    return this.catalog.unknownHandle(handle);
  }

  /** The entry of a handle for reads (readers look for series registered since). */
  private entryOf(handle: SeriesHandle): SeriesEntry {
    this.checkOpen();
    let e = typeof handle === 'number' ? this.catalog.get(handle) : undefined;
    if (e === undefined) {
      this.refresh();
      e = typeof handle === 'number' ? this.catalog.get(handle) : undefined;
    }
    if (e === undefined) throw this.catalog.unknownHandle(handle);
    return e;
  }

  /**
   * The points of a series in `start ≤ t < end`, ascending, from one tier; with `fn`, the
   * counter's rate or increase at those points (see QueryOptions.fn).
   */
  query(handle: SeriesHandle, options: QueryOptions = {}): QueryResult {
    this.refresh();
    const e = this.entryOf(handle);
    const fn = checkQueryFn((options as QueryOptions | null)?.fn);
    const set = this.sets[e.schema]!;
    let result = readSeries(set, e, options);
    if (this.readOnly) {
      // A reader looks at the catalogue again: had the writer retired the series and given its
      // column to another while the points were read, the other's points (all at or after the
      // retirement) must not be returned under this series' name.
      this.refresh();
      result = trimToLife(result, lifeEnd(this.catalog, e));
    }
    if (fn === undefined || result.timestamps.length === 0) return result;
    const prev = pointBefore(set, e, result.tier, result.timestamps[0]!);
    return { ...result, ...applyCounterFn(result, fn, prev) };
  }

  /** The series in handle order, live and retired (those whose data has not aged out yet). */
  series(): SeriesInfo[] {
    this.checkOpen();
    this.refresh();
    // A retired series that has aged out may still be in the catalogue (a store just opened drops
    // it at its first maintenance, a reader at its next look at the journal): it is not listed.
    return this.catalog
      .entries()
      .filter((e) => e.live || !agedOut(this.sets[e.schema]!, e.retiredAt))
      .map((e) => seriesInfo(e, this.schemas));
  }

  /** Looks a live series up by name and labels without registering it; undefined when absent. */
  lookup(name: string, labels: Labels = {}): SeriesHandle | undefined {
    this.checkOpen();
    this.refresh();
    const norm = normalizeSeries(name, labels);
    return this.catalog.liveByKey(identityKey(norm.name, norm.labels))?.handle;
  }

  /** Schemas, tiers (slots, bytes, oldest and newest point), series counts and bytes on disk. */
  info(): StoreInfo {
    this.checkOpen();
    this.refresh();
    return storeInfo({
      dir: this.dir,
      readOnly: this.readOnly,
      sets: this.sets,
      catalog: this.catalog,
      journalBytes: this.log?.bytes ?? 0,
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
      {
        dir: this.dataDir,
        sets: this.sets,
        series: this.catalog.entries(),
        locks: this.cursorLocks,
        afterRead: () => this.refresh(),
        lifeEnd: (e) => lifeEnd(this.catalog, e),
      },
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
    return storeStats(this.sets, this.registry?.counts ?? { registered: 0, retired: 0 });
  }

  /**
   * Folds finer tiers into coarser ones (tier 0 → 1 → 2 …) and returns the windows written;
   * then retires idle series (retireAfter) and frees the columns of retired series whose data
   * has aged out. Exact whenever it runs; with nothing new it writes nothing.
   */
  consolidate(): number {
    const registry = this.writer('consolidate');
    let written = 0;
    for (const set of this.sets) written += set.consolidate();
    registry.maintain();
    this.syncTable();
    return written;
  }

  /** Runs consolidate() on an unreferenced timer (it never keeps the process alive); returns stop(). */
  startMaintenance(options: MaintenanceOptions = {}): () => void {
    this.writer('startMaintenance');
    return startMaintenanceTimer(() => this.consolidate(), options, this.maintenance);
  }

  /** msync every slab and fsync the series journal: durable against power loss, not only a process crash. */
  flush(): void {
    this.checkOpen();
    if (this.readOnly) return;
    for (const set of this.sets) for (const ring of set.rings) ring.slab.sync();
    this.log?.sync();
  }

  /** Stops maintenance, unmaps, and releases the writer lock. Idempotent. */
  close(): void {
    if (this.closed) return;
    for (const stop of [...this.maintenance]) stop();
    this.cursorLocks.release();
    this.closed = true;
    this.table = [];
    this.mask = 0;
    closeOpened(this.sets, this.log, this.lock);
    this.lock = null;
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

/** The default of StoreOptions.maxFutureSkew: clocks of one fleet rarely differ by more. */
const DEFAULT_FUTURE_SKEW = 5 * 60_000;

/** StoreOptions.maxFutureSkew in ms: a duration, or Infinity for no limit (replay, simulation). */
function futureSkew(value: StoreOptions['maxFutureSkew']): number {
  if (value === undefined) return DEFAULT_FUTURE_SKEW;
  if (value === Number.POSITIVE_INFINITY) return value;
  return parseDuration(value, 'Store.open maxFutureSkew');
}
