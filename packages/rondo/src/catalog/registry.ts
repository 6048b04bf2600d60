// The writer's side of the series lifecycle: registering (new columns or freed ones), retiring
// (by hand or after `retireAfter` idle), freeing the columns of series whose data has aged
// out, and compacting the journal. Every change is one journal append, made before the series
// becomes visible, after its column was cleared.
import { RondoError } from '../errors.js';
import { type Labels, normalizeSeries } from '../labels.js';
import type { Schema } from '../schema.js';
import { schemaMatches } from '../schema.js';
import type { TierSet } from '../tiers.js';
import { type Catalog, SeriesEntry } from './catalog.js';
import { encodeRegister, encodeRetire, FLAG_COUNTER, identityKey } from './journal.js';
import { agedOut, IdleTracker, schemaNow } from './lifecycle.js';
import type { SeriesLog } from './series-log.js';

/** Options of `Store.register`. */
export interface RegisterOptions {
  /**
   * 'counter' for a monotonic counter (its coarse tiers keep the window's last value whatever
   * the schema's consolidation, so rates stay right); default 'gauge'.
   */
  type?: 'gauge' | 'counter';
}

/** One series to register with `Store.registerMany`. */
export interface SeriesSpec {
  /** Metric name. */
  name: string;
  /** Labels. */
  labels?: Labels;
  /** Series type; default 'gauge'. */
  type?: 'gauge' | 'counter';
}

/** A series to register, checked and routed. */
interface Request {
  name: string;
  key: string;
  schema: number;
  flags: number;
}

/** Journal compaction starts once dead records outnumber this and the records that are still current. */
const COMPACT_MIN_DEAD = 1024;

/** The writer's series registry (see the module note). */
export class Registry {
  /** Series registered and retired through this registry. */
  readonly counts = { registered: 0, retired: 0 };
  private readonly idle: (IdleTracker | null)[];

  constructor(
    private readonly catalog: Catalog,
    private readonly log: SeriesLog,
    private readonly schemas: readonly Schema[],
    private readonly sets: readonly TierSet[],
  ) {
    this.idle = sets.map((set) => (set.schema.retireAfter === null ? null : new IdleTracker(set)));
    catalog.forEach((e) => {
      sets[e.schema]!.setCounter(e.column, e.counter);
      if (e.live) this.bind(e);
      // A retire record replayed at open may still be in the page cache only (its writer was
      // killed before any fsync): reusing its column must fsync the journal first, like for
      // one retired now.
      else e.retireEnd = log.bytes;
    });
  }

  /** Checks and routes one series; ERR_RONDO_INVALID_LABEL / ERR_RONDO_NO_MATCHING_SCHEMA / ERR_RONDO_INVALID_ARGUMENT. */
  private request(name: unknown, labels: unknown, type: unknown): Request {
    if (type !== undefined && type !== 'gauge' && type !== 'counter') {
      throw new RondoError(
        'ERR_RONDO_INVALID_ARGUMENT',
        `register: type must be 'gauge' or 'counter', got ${JSON.stringify(type)}`,
      );
    }
    const norm = normalizeSeries(name, labels);
    const schema = this.schemas.findIndex((s) => schemaMatches(s, norm.labels));
    if (schema < 0) {
      const list = this.schemas.map((s) => `${s.name} ${JSON.stringify(s.match)}`).join(', ');
      throw new RondoError(
        'ERR_RONDO_NO_MATCHING_SCHEMA',
        `no schema matches ${norm.name} ${JSON.stringify(norm.labels)} (schemas: ${list})`,
      );
    }
    return {
      name: norm.name,
      key: identityKey(norm.name, norm.labels),
      schema,
      flags: type === 'counter' ? FLAG_COUNTER : 0,
    };
  }

  /** Registers one series, or returns the live one with the same name and labels. */
  register(name: string, labels: Labels | undefined, options: RegisterOptions): SeriesEntry {
    if (options === null || typeof options !== 'object') {
      throw new RondoError(
        'ERR_RONDO_INVALID_ARGUMENT',
        "register: options must be an object like { type: 'counter' }",
      );
    }
    const req = this.request(name, labels, options.type);
    return this.catalog.liveByKey(req.key) ?? this.add([req])[0]!;
  }

  /** Registers many series with one journal write; all or none (nothing is written when one fails). */
  registerMany(specs: readonly SeriesSpec[]): SeriesEntry[] {
    if (!Array.isArray(specs))
      throw new RondoError(
        'ERR_RONDO_INVALID_ARGUMENT',
        'registerMany: expected an array of { name, labels }',
      );
    const reqs = specs.map((s, i) => {
      if (s === null || typeof s !== 'object')
        throw new RondoError('ERR_RONDO_INVALID_ARGUMENT', `registerMany: entry ${i} is not an object`);
      return this.request(s.name, s.labels, s.type);
    });
    const fresh = new Map<string, Request>();
    for (const r of reqs) if (!this.catalog.liveByKey(r.key) && !fresh.has(r.key)) fresh.set(r.key, r);
    const added = new Map(this.add([...fresh.values()]).map((e) => [e.key, e]));
    return reqs.map((r) => this.catalog.liveByKey(r.key) ?? added.get(r.key)!);
  }

  /** Adds new series (distinct, none live yet): columns, clearing, one append, then the catalogue. */
  private add(reqs: readonly Request[]): SeriesEntry[] {
    if (reqs.length === 0) return [];
    const columns = this.allocate(reqs);
    const entries: SeriesEntry[] = [];
    const records: Buffer[] = [];
    for (const [i, r] of reqs.entries()) {
      const { column, floor } = columns[i]!;
      const handle = this.catalog.reserveHandle();
      const e = new SeriesEntry({ handle, schema: r.schema, column, floor, flags: r.flags, key: r.key });
      entries.push(e);
      records.push(encodeRegister(e));
      // The column must be empty before the series exists: rings clear only columns in use.
      const set = this.sets[r.schema]!;
      set.clearColumn(column);
      if (column >= set.columns) {
        set.columns = column + 1;
        for (const ring of set.rings) ring.slab.setSeriesCount(set.columns);
      }
    }
    this.log.append(Buffer.concat(records));
    this.published();
    this.counts.registered += entries.length;
    for (const e of entries) {
      this.catalog.add(e);
      this.bind(e);
      this.idle[e.schema]?.registered(e.column);
    }
    return entries;
  }

  /** Columns for `reqs`, in order; ERR_RONDO_MAX_SERIES (before anything changes) when a schema has too few. */
  private allocate(reqs: readonly Request[]): { column: number; floor: number }[] {
    const wanted = new Map<number, number>();
    for (const r of reqs) wanted.set(r.schema, (wanted.get(r.schema) ?? 0) + 1);
    const given = new Map<number, { column: number; floor: number }[]>();
    for (const [s, n] of wanted) {
      let cols = this.catalog.allocate(s, this.schemas[s]!.maxSeries, n);
      if (cols.length < n) {
        this.freeAgedOut(s);
        cols = this.catalog.allocate(s, this.schemas[s]!.maxSeries, n);
      }
      if (cols.length < n) throw this.fullError(s, n);
      given.set(s, cols);
    }
    const next = new Map<number, number>();
    return reqs.map((r) => {
      const i = next.get(r.schema) ?? 0;
      next.set(r.schema, i + 1);
      return given.get(r.schema)![i]!;
    });
  }

  private fullError(s: number, n: number): RondoError {
    const schema = this.schemas[s]!;
    const retired = this.catalog.retiredHolders(s).length;
    const waiting =
      retired > 0 ? `; ${retired} retired series still hold columns until their data ages out` : '';
    // registerMany may fail with some columns free: say how many, not that all are taken.
    const free = this.catalog.allocate(s, schema.maxSeries, n).length;
    const state =
      free === 0
        ? `is full: its ${schema.maxSeries} columns (maxSeries) are taken`
        : `has no room for ${n} new series: ${free} of its ${schema.maxSeries} columns are free`;
    return new RondoError(
      'ERR_RONDO_MAX_SERIES',
      `schema ${schema.name} ${state}${waiting}. ` +
        "Make room by retiring series (store.retire(handle), or the schema option retireAfter, e.g. '1h'), " +
        'or grow the schema with Store.migrate / `rondo migrate`',
    );
  }

  /** Retires a live series: it can no longer be recorded; its data stays until it ages out. */
  retire(e: SeriesEntry): void {
    const at = schemaNow(this.sets[e.schema]!);
    const end = this.log.append(encodeRetire(e.handle, at));
    this.published();
    this.catalog.retire(e, at, end);
    this.counts.retired++;
  }

  /**
   * Maintenance (from consolidate()): retires series idle for their schema's retireAfter,
   * frees the columns of retired series whose data has aged out, and compacts the journal
   * when it is mostly dead records. Returns the series retired.
   */
  maintain(): number {
    let retired = 0;
    this.sets.forEach((set, s) => {
      const tracker = this.idle[s];
      if (tracker === null || tracker === undefined || set.schema.retireAfter === null) return;
      for (const e of tracker.idle(this.catalog.liveIn(s), set.schema.retireAfter)) {
        this.retire(e);
        retired++;
      }
    });
    for (let s = 0; s < this.sets.length; s++) this.freeAgedOut(s);
    if (this.catalog.deadRecords > Math.max(COMPACT_MIN_DEAD, 2 * this.catalog.size)) this.compact();
    return retired;
  }

  /**
   * Per schema: where record()'s slow path notes the lowest slot it wrote late (see
   * IdleTracker.lateFrom), or null when the schema has no retireAfter.
   */
  lateFrom(): (Float64Array | null)[] {
    return this.idle.map((t) => t?.lateFrom ?? null);
  }

  /** Frees the columns of schema `s`'s retired series whose data has left every tier. */
  private freeAgedOut(s: number): void {
    const set = this.sets[s]!;
    const gone = this.catalog.retiredHolders(s).filter((e) => agedOut(set, e.retiredAt));
    if (gone.length === 0) return;
    // A freed column may be given to a new series only once the retirement is on disk: after a
    // power loss, the old series must never come back as the owner of the new one's points.
    this.log.syncTo(Math.max(...gone.map((e) => e.retireEnd)));
    for (const e of gone) this.catalog.drop(e);
  }

  /** Rewrites the journal with only the current records (crash-safe replace). */
  compact(): void {
    const records: Buffer[] = [];
    for (const e of this.catalog.entries()) {
      records.push(encodeRegister(e));
      if (!e.live) records.push(encodeRetire(e.handle, e.retiredAt));
    }
    this.log.rewrite(records, this.catalog.nextHandle);
    this.catalog.deadRecords = 0;
    this.published();
  }

  /** Tells readers the journal changed (they poll the first tier-0 slab's counter). */
  private published(): void {
    this.sets[0]!.rings[0]!.slab.bumpCatalogSeq();
  }

  /** Binds a live series for record()'s hot path. */
  private bind(e: SeriesEntry): void {
    const set = this.sets[e.schema]!;
    set.setCounter(e.column, e.counter);
    const ring = set.rings[0]!;
    e.values = ring.slab.values;
    e.base = e.column * ring.slots;
    e.ring = ring;
    e.set = set;
  }
}
