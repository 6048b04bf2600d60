import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir } from './atomic-file.js';
import { CursorLocks } from './cursors.js';
import { type DrainBatch, type DrainOptions, drainStore } from './drain.js';
import { type Duration, parseTimerDuration } from './duration.js';
import { RondoError } from './errors.js';
import { type Labels, normalizeSeries, seriesKey } from './labels.js';
import { acquireWriterLock, releaseWriterLock, writerActive, writerPid } from './lock.js';
import { metadataExists, metadataPath, readMetadata, type SeriesRecord, writeMetadata } from './metadata.js';
import { type Ring, S_END, S_START, S_WRITES } from './ring.js';
import {
  type Consolidation,
  canonicalSchemaJson,
  normalizeSchemas,
  type Schema,
  type SchemaConfig,
  schemaHash,
  schemaMatches,
} from './schema.js';
import { createSlab, HEADER_BYTES, Slab, type SlabIdentity, slabBytes } from './slab.js';
import { TierSet } from './tiers.js';
import { MAX_TIMESTAMP_MS } from './timestamp.js';

/** A registered series, as returned by {@link Store.register}: a small integer, stable across reopen. */
export type SeriesHandle = number;

/** Options of {@link Store.open}. */
export interface StoreOptions {
  /** Schemas to create the store with, or to check an existing store against. */
  schemas?: SchemaConfig[];
  /** Open as a reader: no lock, no writes; any number of readers may run beside the writer. */
  readOnly?: boolean;
}

/** Options of {@link Store.query}. */
export interface QueryOptions {
  /** Inclusive start, ms since the epoch; default: the oldest point kept. */
  start?: number;
  /** Exclusive end, ms since the epoch; default: after the newest point. */
  end?: number;
  /** Tier index (default 0), or 'auto' for the finest tier whose retention reaches `start`. */
  tier?: number | 'auto';
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
  /** Series registered. */
  series: number;
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
  /** Series registered in all schemas. */
  seriesCount: number;
  /** Bytes of all slab files and the metadata. */
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
}

/** Options of {@link Store.startMaintenance}. */
export interface MaintenanceOptions {
  /** How often to consolidate; default '1s'. */
  every?: Duration;
  /** Called with an error thrown by a scheduled consolidation; default: process.emitWarning. */
  onError?: (err: unknown) => void;
}

function slabPath(dir: string, schema: string, tier: number): string {
  return join(dir, `${schema}.${tier}.slab`);
}

function identity(schema: Schema, hash: bigint, tier: number): SlabIdentity {
  const t = schema.tiers[tier]!;
  return {
    schemaHash: hash,
    tierIndex: tier,
    slots: t.slots,
    capacity: schema.maxSeries,
    intervalMs: t.interval,
  };
}

function describeMismatch(stored: readonly Schema[], given: readonly Schema[]): string | null {
  if (stored.length !== given.length) {
    return `the store has ${stored.length} schema(s) (${stored.map((s) => s.name).join(', ')}), the options give ${given.length}`;
  }
  for (let i = 0; i < stored.length; i++) {
    if (canonicalSchemaJson(stored[i]!) !== canonicalSchemaJson(given[i]!)) {
      return `schema ${i} differs: stored ${canonicalSchemaJson(stored[i]!)}, given ${canonicalSchemaJson(given[i]!)}`;
    }
  }
  return null;
}

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
  private readonly sets: TierSet[];
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
  private maintenance = new Set<() => void>();
  /** record()'s slow path takes its value and time here: doubles passed as arguments would be boxed. */
  private readonly slowIo = new Float64Array(2);
  private readonly cursorLocks = new CursorLocks();

  private constructor(
    dir: string,
    readOnly: boolean,
    schemas: Schema[],
    slabs: Slab[][],
    lockFd: number | null,
  ) {
    this.dir = dir;
    this.readOnly = readOnly;
    this.schemas = schemas;
    this.lockFd = lockFd;
    this.sets = schemas.map((s, i) => new TierSet(s, slabs[i]!, !readOnly));
  }

  /**
   * Opens the store in `dir`. With `schemas`, creates it when absent or checks that an existing
   * store has exactly these schemas (ERR_RONDO_SCHEMA_MISMATCH). Without, opens an existing store
   * with its stored schemas (ERR_RONDO_NOT_FOUND when there is none).
   */
  static open(dir: string, options: StoreOptions = {}): Store {
    if (typeof dir !== 'string' || dir.length === 0) {
      throw new RondoError('ERR_RONDO_CONFIG', 'Store.open: dir must be a non-empty path');
    }
    if (options === null || typeof options !== 'object') {
      throw new RondoError('ERR_RONDO_CONFIG', 'Store.open: options must be an object');
    }
    const readOnly = options.readOnly === true;
    const given = options.schemas === undefined ? undefined : normalizeSchemas(options.schemas, HEADER_BYTES);
    if (readOnly || given === undefined) {
      if (!metadataExists(dir)) {
        throw new RondoError(
          'ERR_RONDO_NOT_FOUND',
          `no rondo store at ${dir}${given || readOnly ? '' : ' (pass schemas to create one)'}`,
        );
      }
    }
    if (!readOnly && given !== undefined) {
      try {
        mkdirSync(dir, { recursive: true });
      } catch (cause) {
        throw ioError(`${dir}: cannot create the store directory`, cause);
      }
    }
    const lockFd = readOnly ? null : acquireWriterLock(dir);
    try {
      let schemas: Schema[];
      let series: SeriesRecord[] = [];
      if (metadataExists(dir)) {
        const meta = readMetadata(dir);
        try {
          schemas = normalizeSchemas(meta.schemas, HEADER_BYTES);
        } catch (cause) {
          throw new RondoError('ERR_RONDO_CORRUPT', `${metadataPath(dir)}: ${(cause as Error).message}`, {
            cause,
          });
        }
        if (given) {
          const diff = describeMismatch(schemas, given);
          if (diff) throw new RondoError('ERR_RONDO_SCHEMA_MISMATCH', `${dir}: ${diff}`);
        }
        series = meta.series;
      } else {
        schemas = given!;
        createStore(dir, schemas);
      }
      const slabs: Slab[][] = [];
      try {
        for (const schema of schemas) {
          const hash = schemaHash(schema);
          slabs.push(
            schema.tiers.map((_, k) =>
              Slab.open(slabPath(dir, schema.name, k), identity(schema, hash, k), !readOnly),
            ),
          );
        }
      } catch (err) {
        for (const list of slabs) for (const s of list) s.close();
        throw err;
      }
      let store: Store;
      try {
        store = new Store(dir, readOnly, schemas, slabs, lockFd);
        store.adopt(series);
      } catch (err) {
        for (const list of slabs) for (const s of list) s.close();
        throw err;
      }
      if (!readOnly)
        for (const set of store.sets) for (const ring of set.rings) ring.slab.setSeriesCount(set.columns);
      return store;
    } catch (err) {
      if (lockFd !== null) releaseWriterLock(lockFd);
      throw err;
    }
  }

  /** Adds series records (from metadata) to the in-memory tables. */
  private adopt(series: readonly SeriesRecord[]): void {
    for (let h = this.records.length; h < series.length; h++) {
      const rec = series[h]!;
      const index = this.schemas.findIndex((s) => s.name === rec.schema);
      const set = this.sets[index]!;
      if (rec.column >= set.schema.maxSeries) {
        throw new RondoError(
          'ERR_RONDO_CORRUPT',
          `${metadataPath(this.dir)}: series ${h} has column ${rec.column} beyond the capacity`,
        );
      }
      this.records.push(rec);
      this.keys.set(seriesKey(rec.name, rec.labels), h);
      set.columns = Math.max(set.columns, rec.column + 1);
      if (!this.readOnly) this.bindHandle(h, set, rec.column);
    }
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
    if (this.closed) throw new RondoError('ERR_RONDO_CLOSED', `store ${this.dir} is closed`);
  }

  private checkWritable(what: string): void {
    this.checkOpen();
    if (this.readOnly)
      throw new RondoError('ERR_RONDO_READ_ONLY', `${what}: store ${this.dir} is open read-only`);
  }

  /**
   * Registers a series (or returns the handle it already has) in the first schema whose `match`
   * its labels satisfy. Durable when it returns.
   */
  register(name: string, labels: Labels = {}): SeriesHandle {
    this.checkWritable('register');
    const norm = normalizeSeries(name, labels);
    const key = seriesKey(norm.name, norm.labels);
    const existing = this.keys.get(key);
    if (existing !== undefined) return existing;
    const index = this.schemas.findIndex((s) => schemaMatches(s, norm.labels));
    if (index < 0) {
      throw new RondoError(
        'ERR_RONDO_NO_MATCHING_SCHEMA',
        `no schema matches ${name} ${JSON.stringify(norm.labels)} (schemas: ${this.schemas.map((s) => `${s.name} ${JSON.stringify(s.match)}`).join(', ')})`,
      );
    }
    const set = this.sets[index]!;
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
    try {
      writeMetadata(this.dir, this.schemas, [...this.records, rec]);
    } catch (cause) {
      throw new RondoError(
        'ERR_RONDO_IO',
        `register ${name}: cannot write the metadata: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
    this.adopt([...this.records, rec]);
    for (const ring of set.rings) ring.slab.setSeriesCount(set.columns);
    this.registered++;
    return this.records.length - 1;
  }

  /**
   * Records `value` for the series at `timestamp` (ms; default Date.now()). NaN records "no value".
   * Allocation-free and syscall-free; a point too old for the ring is dropped and counted.
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
    this.slowIo[0] = value;
    this.slowIo[1] = t;
    this.recordSlow(handle);
  }

  /** A point outside the current slot: advance the ring, open a late slot, or drop it. */
  private recordSlow(handle: SeriesHandle): void {
    const set = this.handleSets[handle]!;
    const t = this.slowIo[1]!;
    if (!(t >= set.minTime && t < TIME_END)) throw invalidTimestamp(t, set);
    set.io[0] = t;
    const pos = set.writePosition();
    if (pos < 0) return;
    this.cols[handle]![pos] = this.slowIo[0]!;
    this.rings[handle]!.state[S_WRITES]!++;
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
      if (typeof t !== 'number' || !(t >= set.minTime && t < TIME_END)) throw invalidTimestamp(t, set);
      const v = values[i]!;
      if (typeof v !== 'number' || (v - v !== 0 && !Number.isNaN(v))) throw invalidValue(v);
    }
    for (let i = 0; i < handles.length; i++) this.record(handles[i]!, values[i]!, t);
  }

  private handleError(handle: unknown): RondoError {
    if (this.closed) return new RondoError('ERR_RONDO_CLOSED', `store ${this.dir} is closed`);
    if (this.readOnly)
      return new RondoError('ERR_RONDO_READ_ONLY', `record: store ${this.dir} is open read-only`);
    return new RondoError(
      'ERR_RONDO_INVALID_HANDLE',
      `${String(handle)} is not a series handle of this store`,
    );
  }

  private setOf(handle: SeriesHandle): { set: TierSet; column: number } {
    this.checkOpen();
    if (!Number.isInteger(handle) || handle < 0 || handle >= this.records.length) this.refresh();
    const rec = Number.isInteger(handle) && handle >= 0 ? this.records[handle] : undefined;
    if (rec === undefined) {
      throw new RondoError(
        'ERR_RONDO_INVALID_HANDLE',
        `${String(handle)} is not a series handle of this store`,
      );
    }
    return { set: this.sets[this.schemas.findIndex((s) => s.name === rec.schema)]!, column: rec.column };
  }

  /** The points of a series in `start ≤ t < end`, ascending, from one tier. */
  query(handle: SeriesHandle, options: QueryOptions = {}): QueryResult {
    const { set, column } = this.setOf(handle);
    if (options === null || typeof options !== 'object') {
      throw new RondoError(
        'ERR_RONDO_INVALID_ARGUMENT',
        'query: options must be an object like { start, end, tier }',
      );
    }
    const { start, end } = options;
    for (const [name, v] of [
      ['start', start],
      ['end', end],
    ] as const) {
      if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) {
        throw new RondoError(
          'ERR_RONDO_INVALID_RANGE',
          `query: ${name} must be a finite number of ms, got ${String(v)}`,
        );
      }
    }
    if (start !== undefined && end !== undefined && start > end) {
      throw new RondoError('ERR_RONDO_INVALID_RANGE', `query: start (${start}) is after end (${end})`);
    }
    const tierOpt = options.tier ?? 0;
    let tier: number;
    let covered: boolean;
    if (tierOpt === 'auto') {
      ({ tier, covered } = set.autoTier(start ?? Number.NEGATIVE_INFINITY, this.readOnly));
      if (start === undefined) covered = true;
    } else {
      if (!Number.isInteger(tierOpt) || tierOpt < 0 || tierOpt >= set.rings.length) {
        throw new RondoError(
          'ERR_RONDO_INVALID_TIER',
          `query: tier ${JSON.stringify(tierOpt)} does not exist (schema ${set.schema.name} has tiers 0..${set.rings.length - 1} and 'auto')`,
        );
      }
      tier = tierOpt;
      covered = true;
    }
    const ring = set.rings[tier]!;
    const newest = this.readOnly ? ring.refreshNewest() : ring.newest;
    if (tierOpt !== 'auto' && start !== undefined)
      covered = (newest - ring.slots + 1) * ring.intervalMs <= start;
    const from = start === undefined ? 0 : Math.ceil(start / ring.intervalMs);
    const to = end === undefined ? newest : Math.ceil(end / ring.intervalMs) - 1;
    const points = ring.read(column, from, to, newest, this.readOnly);
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
    let totalBytes: number;
    try {
      totalBytes = statSync(metadataPath(this.dir)).size;
    } catch (cause) {
      throw ioError(`${metadataPath(this.dir)}: cannot stat`, cause);
    }
    const schemas = this.sets.map((set): SchemaInfo => {
      const { schema } = set;
      return {
        name: schema.name,
        match: { ...schema.match },
        maxSeries: schema.maxSeries,
        series: set.columns,
        tiers: set.rings.map((ring, index): TierInfo => {
          const t = schema.tiers[index]!;
          const newest = this.readOnly ? ring.refreshNewest() : ring.newest;
          const span = ring.span(newest);
          const bytes = slabBytes(t.slots, schema.maxSeries);
          totalBytes += bytes;
          return {
            index,
            interval: t.interval,
            retention: t.retention,
            consolidation: t.consolidation,
            xff: t.xff,
            slots: t.slots,
            slotsUsed: span.used,
            bytes,
            file: ring.slab.path,
            oldest: span.oldest,
            newest: span.newest,
          };
        }),
      };
    });
    return {
      dir: this.dir,
      readOnly: this.readOnly,
      writerActive: !this.readOnly || writerActive(this.dir),
      writerPid: this.readOnly ? writerPid(this.dir) : process.pid,
      schemas,
      seriesCount: this.records.length,
      totalBytes,
    };
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
        dir: this.dir,
        readOnly: this.readOnly,
        sets: this.sets,
        records: this.records,
        locks: this.cursorLocks,
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
    if (!Number.isInteger(tier) || tier < 0 || !this.sets.some((set) => tier < set.rings.length)) {
      throw new RondoError('ERR_RONDO_INVALID_TIER', `newestEnd: no schema has tier ${JSON.stringify(tier)}`);
    }
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
      const newest = this.readOnly ? ring.refreshNewest() : ring.newest;
      if (newest !== 0) end = Math.max(end ?? 0, (newest + 1) * ring.intervalMs);
    }
    return end;
  }

  /** Counters since open. */
  stats(): StoreStats {
    this.checkOpen();
    let recorded = 0;
    let droppedLate = 0;
    let windowsWritten = 0;
    let autoConsolidations = 0;
    for (const set of this.sets) {
      recorded += set.rings[0]!.writes;
      droppedLate += set.counters.droppedLate;
      windowsWritten += set.counters.windowsWritten;
      autoConsolidations += set.counters.autoConsolidations;
    }
    return { recorded, droppedLate, windowsWritten, autoConsolidations, registered: this.registered };
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
    if (options === null || typeof options !== 'object') {
      throw new RondoError(
        'ERR_RONDO_INVALID_ARGUMENT',
        "startMaintenance: options must be an object like { every: '1s' }",
      );
    }
    const every = parseTimerDuration(options.every ?? '1s', 'startMaintenance every');
    const onError = options.onError ?? ((err: unknown) => process.emitWarning(err as Error));
    const timer = setInterval(() => {
      try {
        this.consolidate();
      } catch (err) {
        onError(err);
      }
    }, every);
    timer.unref();
    const stop = (): void => {
      clearInterval(timer);
      this.maintenance.delete(stop);
    };
    this.maintenance.add(stop);
    return stop;
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
    for (const set of this.sets) for (const ring of set.rings) ring.slab.close();
    if (this.lockFd !== null) {
      releaseWriterLock(this.lockFd);
      this.lockFd = null;
    }
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

/** Wraps a file-system error as ERR_RONDO_IO; a RondoError passes through unchanged. */
function ioError(what: string, cause: unknown): RondoError {
  if (cause instanceof RondoError) return cause;
  return new RondoError('ERR_RONDO_IO', `${what}: ${(cause as Error).message}`, { cause });
}

/** Creates the slabs, then the metadata: until `rondo.json` exists, the directory is not a store. */
function createStore(dir: string, schemas: readonly Schema[]): void {
  try {
    for (const schema of schemas) {
      const hash = schemaHash(schema);
      schema.tiers.forEach((_, k) => {
        createSlab(slabPath(dir, schema.name, k), identity(schema, hash, k));
      });
    }
    fsyncDir(dir);
    writeMetadata(dir, schemas, []);
  } catch (cause) {
    throw ioError(`${dir}: cannot create the store`, cause);
  }
}

function invalidValue(value: unknown): RondoError {
  return new RondoError(
    'ERR_RONDO_INVALID_VALUE',
    `value must be a finite number or NaN, got ${typeof value === 'number' ? String(value) : typeof value}`,
  );
}

/** Exclusive upper bound of a timestamp: slot times are stored as u64 ns. */
const TIME_END = MAX_TIMESTAMP_MS + 1;

function invalidTimestamp(t: unknown, set?: TierSet): RondoError {
  if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0 || set === undefined) {
    return new RondoError(
      'ERR_RONDO_INVALID_TIMESTAMP',
      `timestamp must be a finite number of ms > 0, got ${String(t)}`,
    );
  }
  if (t >= TIME_END) {
    return new RondoError(
      'ERR_RONDO_INVALID_TIMESTAMP',
      `timestamp ${t} is after ${MAX_TIMESTAMP_MS} ms (year 2554), the last time a slab can store (u64 ns)`,
    );
  }
  return new RondoError(
    'ERR_RONDO_INVALID_TIMESTAMP',
    `timestamp ${t} is before the first slot of schema ${set.schema.name} (${set.minTime} ms: slot 0 means "never written")`,
  );
}

/** Re-exported for the CLI: whether a writer holds the store in `dir`. */
/** Whether `dir` holds a store (its `rondo.json` exists). */
export { metadataExists as storeExists, writerActive, writerPid };
