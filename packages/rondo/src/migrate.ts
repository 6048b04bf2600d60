// Store.migrate: rewrites a store into new schemas as a new generation of data files beside the
// old one, then switches to it with one atomic rename of rondo.json. Killed at any moment, the
// store opens as the old version (the new files are swept) or the new one (the old are).
import { rmSync } from 'node:fs';
import { fsyncDir } from './atomic-file.js';
import type { SeriesEntry } from './catalog/catalog.js';
import { encodeRegister, encodeRetire } from './catalog/journal.js';
import { loadCatalog } from './catalog/load.js';
import { SeriesLog } from './catalog/series-log.js';
import { RondoError } from './errors.js';
import { dataDir, journalPath, metadataPath } from './layout.js';
import { acquireWriterLock, releaseWriterLock } from './lock.js';
import { type Metadata, metadataExists, readMetadata, writeMetadata } from './metadata.js';
import { type CursorNote, convertCursors, holdCursors } from './migrate-cursors.js';
import { coarseRun, type Run, seriesFn, tier0Run } from './migrate-fill.js';
import { describeMismatch } from './migrate-plan.js';
import { type Ring, S_SLOT } from './ring.js';
import { normalizeSchemas, type Schema, schemaMatches, schemasHash } from './schema.js';
import { HEADER_BYTES } from './slab.js';
import { createGeneration, mapSlabs, unmapSets } from './store-files.js';
import { removeLeftovers } from './sweep.js';
import { TierSet } from './tiers.js';
import { checkKeys } from './validate.js';

/** Progress of a migration, for a progress bar. */
export interface MigrateProgress {
  /** Steps done (one step = one series in one new tier). */
  done: number;
  /** Steps in all. */
  total: number;
}

/** A series a migration could not carry over. */
export interface DroppedSeries {
  /** Its handle in the old store. */
  handle: number;
  /** Metric name. */
  name: string;
  /** Labels. */
  labels: Record<string, string>;
  /** Why: no new schema matches its labels, or (a retired series) its new schema has no room left. */
  reason: 'no matching schema' | 'no room';
}

/** What a migration did (see docs/architecture.md, "Migration", for what is kept). */
export interface MigrationResult {
  /** False when the stored layout already was the given one (nothing was rewritten). */
  changed: boolean;
  /** What differs, in one line (empty when nothing). */
  summary: string;
  /** Series carried over (live and retired), with their handles. */
  series: number;
  /** Series left behind. */
  dropped: DroppedSeries[];
  /** Points and windows written into the new layout. */
  points: number;
  /** Per drain cursor: carried over (positions converted by time) or reset, with why. */
  cursors: CursorNote[];
  /** The store's data generation after the migration. */
  generation: number;
}

/** One series of the old store, placed in the new layout. */
interface Placed {
  entry: SeriesEntry;
  schema: number;
  column: number;
}

/** The old generation, opened for reading. */
interface OldStore {
  schemas: Schema[];
  sets: TierSet[];
  entries: SeriesEntry[];
  nextHandle: number;
  close(): void;
}

/**
 * Migrates store `dir` (its writer lock held by the caller) from `meta` to `given`; returns what
 * it did. Nothing is changed when a series that is still live would not fit.
 */
export function migrateStore(
  dir: string,
  meta: Metadata,
  given: Schema[],
  onProgress?: (p: MigrateProgress) => void,
): MigrationResult {
  const old = openOld(dir, meta);
  try {
    const summary = describeMismatch(old.schemas, given) ?? '';
    if (summary === '') {
      // Policies (retireAfter) may still differ; a format-1 store is upgraded by its next open.
      if (meta.version === 2) writeMetadata(dir, given, meta.generation);
      return {
        changed: false,
        summary,
        series: 0,
        dropped: [],
        points: 0,
        cursors: [],
        generation: meta.generation,
      };
    }
    const { placed, dropped } = place(old, given);
    const generation = meta.generation + 1;
    const held = holdCursors(dataDir(dir, meta.generation));
    try {
      removeGeneration(dir, generation); // a leftover of an earlier attempt
      let points: number;
      let cursors: CursorNote[];
      try {
        ({ points, cursors } = writeGeneration(
          dir,
          generation,
          old,
          given,
          placed,
          meta,
          held.names,
          onProgress,
        ));
      } catch (err) {
        removeGeneration(dir, generation);
        throw err;
      }
      writeMetadata(dir, given, generation); // the switch
      for (const set of old.sets) {
        set.rings[0]!.slab.markSuperseded();
        set.rings[0]!.slab.bumpCatalogSeq();
      }
      old.close();
      removeLeftovers(dir, generation);
      return { changed: true, summary, series: placed.length, dropped, points, cursors, generation };
    } finally {
      held.release();
    }
  } finally {
    old.close();
  }
}

/** Creates generation `generation` holding the old store's data in the new layout (not switched to yet). */
function writeGeneration(
  dir: string,
  generation: number,
  old: OldStore,
  given: Schema[],
  placed: Placed[],
  meta: Metadata,
  cursorNames: readonly string[],
  onProgress?: (p: MigrateProgress) => void,
): { points: number; cursors: CursorNote[] } {
  const data = dataDir(dir, generation);
  createGeneration(dir, given, generation, false);
  const sets: TierSet[] = [];
  try {
    for (const s of given) sets.push(new TierSet(s, mapSlabs(data, s, true), true));
    const points = copyData(old, sets, placed, onProgress);
    writeJournal(data, given, old, placed);
    const home = new Map(placed.map((p) => [String(p.entry.handle), p]));
    const from = dataDir(dir, meta.generation);
    const cursors = convertCursors(from, data, cursorNames, old.schemas, given, home);
    for (const set of sets) for (const ring of set.rings) ring.slab.sync();
    fsyncDir(data); // the cursor directory's entry
    return { points, cursors };
  } finally {
    unmapSets(sets);
  }
}

/** Store.open with `migrate: true`: migrates, then returns the new metadata. */
export function migrateLocked(dir: string, meta: Metadata, given: Schema[]): Metadata {
  migrateStore(dir, meta, given);
  return readMetadata(dir);
}

/**
 * Opens the old generation's slabs and catalogue for reading. The slabs are mapped writable, as
 * the writer (whose lock the migration holds) maps them: after a crash their rings are recovered
 * the way a writer's open would, and after the switch their headers are marked superseded.
 */
function openOld(dir: string, meta: Metadata): OldStore {
  const schemas = normalizeSchemas(meta.schemas, HEADER_BYTES);
  const data = dataDir(dir, meta.generation);
  const sets: TierSet[] = [];
  try {
    for (const s of schemas) sets.push(new TierSet(s, mapSlabs(data, s, true), true));
    const { catalog, log } = loadCatalog({
      metadataPath: metadataPath(dir),
      dataDir: data,
      schemas,
      sets,
      writable: false,
      v1Series: meta.v1Series,
    });
    log?.close();
    let closed = false;
    return {
      schemas,
      sets,
      entries: catalog.entries(),
      nextHandle: catalog.nextHandle,
      close: () => {
        if (!closed) unmapSets(sets);
        closed = true;
      },
    };
  } catch (err) {
    unmapSets(sets);
    throw err;
  }
}

/**
 * Routes every series by the new matchers and gives it a column: live series first (all must
 * fit, else ERR_RONDO_MAX_SERIES and nothing changes), then retired ones, newest first, while
 * there is room.
 */
function place(old: OldStore, given: readonly Schema[]): { placed: Placed[]; dropped: DroppedSeries[] } {
  const used = given.map(() => 0);
  const placed: Placed[] = [];
  const dropped: DroppedSeries[] = [];
  const order = [
    ...old.entries.filter((e) => e.live),
    ...old.entries.filter((e) => !e.live).sort((a, b) => b.retiredAt - a.retiredAt),
  ];
  const short = new Map<string, number>();
  for (const entry of order) {
    const schema = given.findIndex((s) => schemaMatches(s, entry.labels));
    const info = { handle: entry.handle, name: entry.name, labels: entry.labels };
    if (schema < 0) dropped.push({ ...info, reason: 'no matching schema' });
    else if (used[schema]! < given[schema]!.maxSeries)
      placed.push({ entry, schema, column: used[schema]!++ });
    else if (entry.live) short.set(given[schema]!.name, (short.get(given[schema]!.name) ?? 0) + 1);
    else dropped.push({ ...info, reason: 'no room' });
  }
  if (short.size > 0) {
    const list = [...short]
      .map(([name, n]) => `schema ${name} needs room for ${n} more live series`)
      .join('; ');
    throw new RondoError(
      'ERR_RONDO_MAX_SERIES',
      `migrate: ${list} (raise its maxSeries, or retire series first); nothing was changed`,
    );
  }
  placed.sort((a, b) => a.entry.handle - b.entry.handle);
  return { placed, dropped };
}

/** The time (ms) up to which the old store holds data: the end of the newest tier-0 slot of any schema. */
function storeEnd(old: OldStore): number {
  let end = 0;
  for (const set of old.sets) {
    const ring = set.rings[0]!;
    if (ring.newest !== 0) end = Math.max(end, (ring.newest + 1) * ring.intervalMs);
  }
  return end;
}

/** Writes one series into every tier of its new schema; returns the points written. */
function copySeries(old: OldStore, set: TierSet, p: Placed, step: () => void): number {
  set.setCounter(p.column, p.entry.counter);
  const olds = oldRuns(old, p.entry);
  let run: Run | null = null;
  let points = 0;
  for (const [k, tier] of set.schema.tiers.entries()) {
    run =
      run === null
        ? tier0Run(olds[0]!, tier.interval)
        : coarseRun(run, olds, tier.interval, seriesFn(tier.consolidation, p.entry.counter), tier.xff);
    points += writeRun(set.rings[k]!, p.column, run);
    step();
  }
  return points;
}

/** Writes every series' data into the new rings; returns the points and windows written. */
function copyData(
  old: OldStore,
  sets: TierSet[],
  placed: Placed[],
  onProgress?: (p: MigrateProgress) => void,
): number {
  const end = storeEnd(old);
  const total = placed.reduce((n, p) => n + sets[p.schema]!.rings.length, 0);
  const every = Math.max(1, Math.ceil(total / 100)); // at most a hundred reports, whatever the size
  let done = 0;
  let points = 0;
  const step = (): void => {
    if (++done % every === 0 || done === total) onProgress?.({ done, total });
  };
  for (const [s, set] of sets.entries()) {
    const mine = placed.filter((p) => p.schema === s);
    set.columns = mine.length;
    for (const ring of set.rings) ring.slab.setSeriesCount(mine.length);
    if (end === 0 || mine.length === 0) continue;
    // The fill writes windows directly: no consolidation may run from an advance meanwhile.
    for (const ring of set.rings) {
      ring.beforeLoss = null;
      ring.state[S_SLOT] = Math.floor((end - 1) / ring.intervalMs);
      ring.writePosition();
    }
    for (const p of mine) points += copySeries(old, set, p, step);
    for (let k = 1; k < set.rings.length; k++) {
      const r = set.rings[k]!.intervalMs / set.rings[k - 1]!.intervalMs;
      set.setConsolidatedTo(k, Math.floor(set.rings[k - 1]!.newest / r) * r);
    }
  }
  // Series without points were skipped above: the bar still ends full.
  if (done < total) onProgress?.({ done: total, total });
  return points;
}

/** The series' points in each old tier, within its life (floor ≤ t < retirement), as runs for migrate-fill.ts. */
function oldRuns(old: OldStore, e: SeriesEntry): Run[] {
  const set = old.sets[e.schema]!;
  return set.rings.map((ring, k) => {
    const newest = ring.currentNewest();
    const lo = Math.ceil(e.floor / ring.intervalMs);
    const hi = Math.min(newest, Math.ceil(e.retiredAt / ring.intervalMs) - 1);
    const pts =
      e.column < set.columns ? ring.read(e.column, lo, hi, newest) : ring.read(e.column, 1, 0, newest);
    const tier = set.schema.tiers[k]!;
    return {
      interval: ring.intervalMs,
      // An empty ring holds no window whole (it stands for nothing, not for "no data").
      from: newest === 0 ? Number.POSITIVE_INFINITY : ring.oldest(newest) * ring.intervalMs,
      fn: seriesFn(tier.consolidation, e.counter),
      times: Array.from(pts.timestamps),
      values: Array.from(pts.values),
    };
  });
}

/** Writes the points of `run` that fall in tier k's ring into column `column`; returns how many. */
function writeRun(ring: Ring, column: number, run: Run): number {
  const first = ring.oldest(ring.newest);
  let written = 0;
  for (let i = 0; i < run.times.length; i++) {
    const slot = run.times[i]! / ring.intervalMs;
    if (slot < first || slot > ring.newest) continue;
    ring.state[S_SLOT] = slot;
    const pos = ring.writePosition();
    ring.slab.values[column * ring.slots + pos] = run.values[i]!;
    written++;
  }
  return written;
}

/** Writes the new journal: every placed series keeps its handle; retired ones keep their retirement. */
function writeJournal(data: string, given: readonly Schema[], old: OldStore, placed: Placed[]): void {
  const records: Buffer[] = [];
  for (const p of placed) {
    const e = p.entry;
    records.push(
      encodeRegister({
        handle: e.handle,
        schema: p.schema,
        column: p.column,
        floor: 0,
        flags: e.flags,
        key: e.key,
      }),
    );
    if (!e.live) records.push(encodeRetire(e.handle, e.retiredAt));
  }
  SeriesLog.create(journalPath(data), schemasHash(given), old.nextHandle, records);
}

/** Removes a generation directory left by a migration that was not switched to. */
export function removeGeneration(dir: string, generation: number): void {
  if (generation !== 0) rmSync(dataDir(dir, generation), { recursive: true, force: true });
}

/** Options of Store.migrate. */
export interface MigrateOptions {
  /** The schemas to rewrite the store into. */
  schemas: import('./schema.js').SchemaConfig[];
  /** Called as the data is copied (for a progress bar). */
  onProgress?: (p: MigrateProgress) => void;
}

/** Store.migrate: takes the writer lock (ERR_RONDO_LOCKED while a writer runs) and migrates. */
export function migrate(dir: string, options: MigrateOptions): MigrationResult {
  if (typeof dir !== 'string' || dir.length === 0)
    throw new RondoError('ERR_RONDO_CONFIG', 'Store.migrate: dir must be a non-empty path');
  if (options === null || typeof options !== 'object')
    throw new RondoError('ERR_RONDO_CONFIG', 'Store.migrate: options must be an object like { schemas }');
  checkKeys('ERR_RONDO_CONFIG', 'Store.migrate', options, ['schemas', 'onProgress']);
  if (options.schemas === undefined)
    throw new RondoError('ERR_RONDO_CONFIG', 'Store.migrate: schemas are required');
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function')
    throw new RondoError(
      'ERR_RONDO_CONFIG',
      'Store.migrate: onProgress must be a function ({ done, total }) => void',
    );
  const given = normalizeSchemas(options.schemas, HEADER_BYTES);
  if (!metadataExists(dir))
    throw new RondoError('ERR_RONDO_NOT_FOUND', `no rondo store at ${dir}`, { path: dir });
  const lock = acquireWriterLock(dir);
  try {
    return migrateStore(dir, readMetadata(dir), given, options.onProgress);
  } finally {
    releaseWriterLock(lock);
  }
}
