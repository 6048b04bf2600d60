// The in-memory catalogue of series: handles, identities, columns and lifecycle (live, retired,
// gone), built from the journal's records. No I/O here: series-log.ts reads and writes the file.
import { corrupt, RondoError } from '../errors.js';
import type { Ring } from '../ring.js';
import type { TierSet } from '../tiers.js';
import {
  decodeIdentity,
  FLAG_COUNTER,
  type JournalRecord,
  REC_REGISTER,
  type RegisterRecord,
} from './journal.js';

/**
 * One known series: live, or retired with data still in some tier. The writer binds its tier-0
 * column, ring and tier set for record()'s hot path (null for readers and retired series).
 */
export class SeriesEntry {
  /** Series handle: unique for the life of the store, never given to another series. */
  readonly handle: number;
  /** Index of the series' schema. */
  readonly schema: number;
  /** Value column in the schema's slabs. */
  readonly column: number;
  /** Points before this time (ms) in the column are an earlier owner's, never this series'. */
  readonly floor: number;
  /** Type flags (FLAG_COUNTER). */
  readonly flags: number;
  /** Encoded name and labels (see identityKey). */
  readonly key: string;
  /** Retirement time (ms): no point at or after it belongs to the series; Infinity while live. */
  retiredAt = Number.POSITIVE_INFINITY;
  /** Journal offset just after the retire record (0 when live): it must be durable before the column is reused. */
  retireEnd = 0;
  /**
   * The writer's tier-0 value columns (the slab's, shared by every series of the schema: a
   * view per series would cost a typed array each at open); null for readers and once retired.
   */
  values: Float64Array | null = null;
  /** Offset of the series' column in `values` (column × slots). */
  base = 0;
  /** The tier-0 ring (hot path), or null like `col`. */
  ring: Ring | null = null;
  /** The schema's tier set (hot path), or null like `col`. */
  set: TierSet | null = null;
  private identity: { name: string; labels: Record<string, string> } | undefined;

  constructor(r: Omit<RegisterRecord, 'type'>) {
    this.handle = r.handle;
    this.schema = r.schema;
    this.column = r.column;
    this.floor = r.floor;
    this.flags = r.flags;
    this.key = r.key;
  }

  /** Metric name (decoded from the key on first use). */
  get name(): string {
    return this.decoded().name;
  }

  /** Labels, sorted by key (decoded from the key on first use). */
  get labels(): Record<string, string> {
    return this.decoded().labels;
  }

  private decoded(): { name: string; labels: Record<string, string> } {
    if (this.identity === undefined) {
      const id = decodeIdentity(this.key);
      if (id === null) {
        throw new RondoError(
          'ERR_RONDO_CORRUPT',
          `series ${this.handle}: its name and labels in the series journal are damaged`,
        );
      }
      this.identity = id;
    }
    return this.identity;
  }

  /** True while the series can be recorded. */
  get live(): boolean {
    return this.retiredAt === Number.POSITIVE_INFINITY;
  }

  /** True for a counter. */
  get counter(): boolean {
    return (this.flags & FLAG_COUNTER) !== 0;
  }
}

/** The columns of one schema. */
interface SchemaColumns {
  /** Columns ever assigned: [0, highWater) may hold data; the rest of the file was never written. */
  highWater: number;
  /** Column → its series (live or retired with data left), or undefined when free. */
  owners: (SeriesEntry | undefined)[];
  /** Free columns below highWater, oldest freed first, from `freeHead` on. */
  free: number[];
  /** Index of the first free column in `free` (the ones before were taken again). */
  freeHead: number;
  /** Column → retirement time of its last owner (the next owner's floor), 0 if none. */
  lastRetired: number[];
  /** The retired series of the schema that still hold their columns. */
  retired: Set<SeriesEntry>;
}

/**
 * The series of a store by handle (an open-addressing table indexed by `handle & mask`, so that
 * record() finds a series with one array load and handles never need to be reused or dense),
 * by identity (live series only), and by schema column.
 */
export class Catalog {
  /** Hot-path table: the entry of handle h is at [h & mask] (or absent). */
  table: (SeriesEntry | undefined)[] = new Array(64).fill(undefined);
  /** Mask of `table` (its size minus one; the size is a power of two). */
  mask = 63;
  /** Next handle to give out (handles only grow, across reopen too). */
  nextHandle = 0;
  /** Records in the journal that describe nothing current (dead registrations and retirements). */
  deadRecords = 0;
  private count = 0;
  private readonly live = new Map<string, SeriesEntry>();
  private readonly columns: SchemaColumns[];

  constructor(
    private readonly path: string,
    private readonly capacities: readonly number[],
  ) {
    this.columns = capacities.map(() => ({
      highWater: 0,
      owners: [],
      free: [],
      freeHead: 0,
      lastRetired: [],
      retired: new Set(),
    }));
  }

  /** Forgets everything (a reader re-reading a replaced journal); handles below `handleFloor` were given. */
  reset(handleFloor: number): void {
    this.table = new Array(64).fill(undefined);
    this.mask = 63;
    this.count = 0;
    this.nextHandle = handleFloor;
    this.deadRecords = 0;
    this.live.clear();
    for (const cols of this.columns) {
      Object.assign(cols, { highWater: 0, owners: [], free: [], freeHead: 0, lastRetired: [] });
      cols.retired.clear();
    }
  }

  /** The entry of `handle`, or undefined. */
  get(handle: number): SeriesEntry | undefined {
    const e = this.table[handle & this.mask];
    return e !== undefined && e.handle === handle ? e : undefined;
  }

  /** ERR_RONDO_INVALID_HANDLE for recording the retired series `e`. */
  retiredHandle(e: SeriesEntry): RondoError {
    return new RondoError(
      'ERR_RONDO_INVALID_HANDLE',
      `series ${e.handle} (${e.name}) was retired at ${new Date(e.retiredAt).toISOString()}: it can no longer be recorded (register it again for a new series)`,
    );
  }

  /** ERR_RONDO_INVALID_HANDLE for a handle the catalogue does not have (any more). */
  unknownHandle(handle: unknown): RondoError {
    // Handles below nextHandle were given out (bar a few skipped ones): such a series was
    // retired and forgotten once its data aged out; its handle is never given to another.
    const given = typeof handle === 'number' && Number.isSafeInteger(handle) && handle >= 0;
    const why =
      given && handle < this.nextHandle
        ? ': its series was retired and its data has aged out (a handle is never reused; register the series again for a new one)'
        : '';
    return new RondoError(
      'ERR_RONDO_INVALID_HANDLE',
      `${String(handle)} is not a series handle of this store${why}`,
    );
  }

  /** The live series with identity `key`, or undefined. */
  liveByKey(key: string): SeriesEntry | undefined {
    return this.live.get(key);
  }

  /** Every entry (live and retired), in handle order. */
  entries(): SeriesEntry[] {
    const out: SeriesEntry[] = [];
    for (const e of this.table) if (e !== undefined) out.push(e);
    return out.sort((a, b) => a.handle - b.handle);
  }

  /** Calls `fn` for every entry (live and retired), in no particular order. */
  forEach(fn: (e: SeriesEntry) => void): void {
    for (const e of this.table) if (e !== undefined) fn(e);
  }

  /** Number of entries. */
  get size(): number {
    return this.count;
  }

  /** Grows the handle table ahead of adding about `n` more entries (one rehash instead of many). */
  reserve(n: number): void {
    while (this.count + n > (this.mask + 1) / 2) this.grow();
  }

  /** Columns ever assigned in schema `s`. */
  highWater(s: number): number {
    return this.columns[s]!.highWater;
  }

  /**
   * After replaying the journal: raises schema `s`'s high-water mark to `n` (the slab headers'
   * count; columns assigned by a writer killed before its journal write) and lists the free
   * columns, those whose last owner retired longest ago first.
   */
  finishLoad(s: number, n: number): void {
    const cols = this.columns[s]!;
    cols.highWater = Math.max(cols.highWater, n);
    cols.free = [];
    cols.freeHead = 0;
    for (let c = 0; c < cols.highWater; c++) if (cols.owners[c] === undefined) cols.free.push(c);
    cols.free.sort((a, b) => (cols.lastRetired[a] ?? 0) - (cols.lastRetired[b] ?? 0));
  }

  /** Applies a journal record (replay at open, or a reader catching up). */
  apply(r: JournalRecord): void {
    if (r.type === REC_REGISTER) this.add(new SeriesEntry(r));
    else {
      const e = this.get(r.handle);
      if (e === undefined || !e.live) {
        this.deadRecords++;
        return;
      }
      this.retire(e, r.at, 0);
    }
  }

  /** Adds a series; a retired series still owning its column is dropped (its data had aged out). */
  add(e: SeriesEntry): void {
    const cols = this.columns[e.schema];
    if (cols === undefined)
      throw corrupt(this.path, `series ${e.handle} names schema ${e.schema}, which does not exist`);
    if (e.column >= this.capacities[e.schema]!)
      throw corrupt(
        this.path,
        `series ${e.handle} has column ${e.column}, beyond the schema's ${this.capacities[e.schema]} columns`,
      );
    if (this.get(e.handle) !== undefined) throw corrupt(this.path, `handle ${e.handle} is registered twice`);
    const prev = cols.owners[e.column];
    if (prev !== undefined) {
      if (prev.live)
        throw corrupt(this.path, `series ${e.handle} and ${prev.handle} both hold column ${e.column}`);
      this.drop(prev);
    }
    // One lookup of the key, not two (at open, with a cold map, they are most of the work): a
    // live twin (a damaged journal) shows as the map not growing, and is put back.
    const size = this.live.size;
    this.live.set(e.key, e);
    if (this.live.size === size) {
      const twin = this.table.find((x) => x?.live && x.key === e.key) ?? e;
      this.live.set(e.key, twin);
      throw corrupt(this.path, `series ${e.handle} repeats the live series ${twin.handle}`);
    }
    this.take(cols, e.column);
    cols.owners[e.column] = e;
    this.insert(e);
    if (e.handle >= this.nextHandle) this.nextHandle = e.handle + 1;
  }

  /** Removes `column` from the free columns (or raises the high-water mark past it). */
  private take(cols: SchemaColumns, column: number): void {
    if (column >= cols.highWater) {
      // Replay, or a fresh column: every column below it that has no owner is free.
      for (let c = cols.highWater; c < column; c++) if (cols.owners[c] === undefined) cols.free.push(c);
      cols.highWater = column + 1;
      return;
    }
    if (cols.free[cols.freeHead] === column) cols.freeHead++;
    else {
      const at = cols.free.indexOf(column, cols.freeHead);
      if (at >= 0) cols.free.splice(at, 1);
    }
    if (cols.freeHead > 1024 && cols.freeHead * 2 > cols.free.length) {
      cols.free = cols.free.slice(cols.freeHead);
      cols.freeHead = 0;
    }
  }

  /** Marks `e` retired at `at` (ms); `end` is the journal offset after its retire record. */
  retire(e: SeriesEntry, at: number, end: number): void {
    e.retiredAt = at;
    e.retireEnd = end;
    e.values = null;
    e.ring = null;
    e.set = null;
    if (this.live.get(e.key) === e) this.live.delete(e.key);
    const cols = this.columns[e.schema]!;
    cols.retired.add(e);
  }

  /** Forgets a retired series whose data has left every tier: its column becomes free. */
  drop(e: SeriesEntry): void {
    const cols = this.columns[e.schema]!;
    if (cols.owners[e.column] === e) {
      cols.owners[e.column] = undefined;
      cols.lastRetired[e.column] = e.retiredAt;
      cols.free.push(e.column);
    }
    const i = this.slotOf(e.handle);
    if (this.table[i] === e) {
      this.table[i] = undefined;
      this.count--;
    }
    if (this.live.get(e.key) === e) this.live.delete(e.key);
    cols.retired.delete(e);
    this.deadRecords += 2;
  }

  /**
   * Up to `n` columns for new series in schema `s` (`capacity` columns in all), in the order
   * they are to be used: never-used ones first, then freed ones (their `floor` is the last
   * owner's retirement). Changes nothing: adding the series takes them.
   */
  allocate(s: number, capacity: number, n: number): { column: number; floor: number }[] {
    const cols = this.columns[s]!;
    const out: { column: number; floor: number }[] = [];
    for (let c = cols.highWater; c < capacity && out.length < n; c++) out.push({ column: c, floor: 0 });
    for (let i = cols.freeHead; i < cols.free.length && out.length < n; i++) {
      const c = cols.free[i]!;
      out.push({ column: c, floor: cols.lastRetired[c] ?? 0 });
    }
    return out;
  }

  /** The live series of schema `s`. */
  liveIn(s: number): SeriesEntry[] {
    // A scan of the owners rather than a set kept up to date: adding 100,000 entries to a set
    // at every open cost more than this costs once a maintenance tick.
    return this.columns[s]!.owners.filter((e): e is SeriesEntry => e?.live === true);
  }

  /** The retired series of schema `s` that still hold columns (candidates to age out). */
  retiredHolders(s: number): SeriesEntry[] {
    return [...this.columns[s]!.retired];
  }

  /** Takes a handle for a new series: above every handle ever given, landing on a free table slot. */
  reserveHandle(): number {
    let h = this.nextHandle;
    while (this.table[h & this.mask] !== undefined) h++;
    this.nextHandle = h + 1;
    return h;
  }

  private slotOf(handle: number): number {
    return handle & this.mask;
  }

  private insert(e: SeriesEntry): void {
    if (this.count + 1 > (this.mask + 1) / 2) this.grow();
    while (this.table[this.slotOf(e.handle)] !== undefined) this.grow();
    this.table[this.slotOf(e.handle)] = e;
    this.count++;
  }

  /** Doubles the table: no two handles that did not share a slot can share one after. */
  private grow(): void {
    const old = this.table;
    this.mask = this.mask * 2 + 1;
    this.table = new Array(this.mask + 1).fill(undefined);
    for (const e of old) if (e !== undefined) this.table[e.handle & this.mask] = e;
  }
}
