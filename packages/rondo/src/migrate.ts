// Store.migrate: rewrites a store into new schemas as a new generation of data files beside the
// old one, then switches to it with one atomic rename of rondo.json. Killed at any moment, the
// store opens as the old version (the new files are swept) or the new one (the old are).
import { readdirSync, rmSync } from 'node:fs';
import type { SeriesEntry } from './catalog/catalog.js';
import { encodeRegister, encodeRetire } from './catalog/journal.js';
import { loadCatalog } from './catalog/load.js';
import { SeriesLog } from './catalog/series-log.js';
import { FN_CODE, foldValues, minKnown } from './consolidate.js';
import { type CursorDoc, readCursor, type TierCursor, writeCursor } from './cursors.js';
import { RondoError } from './errors.js';
import { cursorDir, dataDir, journalPath, metadataPath } from './layout.js';
import { acquireWriterLock, releaseWriterLock } from './lock.js';
import { type Metadata, metadataExists, readMetadata, writeMetadata } from './metadata.js';
import { describeMismatch } from './migrate-plan.js';
import { S_SLOT } from './ring.js';
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
  cursors: { name: string; kept: boolean; note: string }[];
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
    removeGeneration(dir, generation); // a leftover of an earlier attempt
    let points: number;
    let cursors: MigrationResult['cursors'];
    try {
      ({ points, cursors } = writeGeneration(dir, generation, old, given, placed, meta, onProgress));
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
  onProgress?: (p: MigrateProgress) => void,
): { points: number; cursors: MigrationResult['cursors'] } {
  const data = dataDir(dir, generation);
  createGeneration(dir, given, generation, false);
  const sets: TierSet[] = [];
  try {
    for (const s of given) sets.push(new TierSet(s, mapSlabs(data, s, true), true));
    const points = copyData(old, sets, placed, onProgress);
    writeJournal(data, given, old, placed);
    const cursors = convertCursors(dataDir(dir, meta.generation), data, old, given, placed);
    for (const set of sets) for (const ring of set.rings) ring.slab.sync();
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

/** Opens the old generation's slabs and catalogue for reading. */
function openOld(dir: string, meta: Metadata): OldStore {
  const schemas = normalizeSchemas(meta.schemas, HEADER_BYTES);
  const data = dataDir(dir, meta.generation);
  const sets: TierSet[] = [];
  try {
    for (const s of schemas) sets.push(new TierSet(s, mapSlabs(data, s, false), false));
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

/** Writes every series' data into the new rings; returns the points and windows written. */
function copyData(
  old: OldStore,
  sets: TierSet[],
  placed: Placed[],
  onProgress?: (p: MigrateProgress) => void,
): number {
  const end = storeEnd(old);
  const total = placed.reduce((n, p) => n + sets[p.schema]!.rings.length, 0);
  let done = 0;
  let points = 0;
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
    for (const p of mine) {
      set.setCounter(p.column, p.entry.counter);
      const sources = oldSources(old, p.entry);
      for (let k = 0; k < set.rings.length; k++) {
        points += fillTier(set, k, p, sources);
        if (++done % 256 === 0 || done === total) onProgress?.({ done, total });
      }
    }
    for (let k = 1; k < set.rings.length; k++) {
      const r = set.rings[k]!.intervalMs / set.rings[k - 1]!.intervalMs;
      set.setConsolidatedTo(k, Math.floor(set.rings[k - 1]!.newest / r) * r);
    }
  }
  return points;
}

/** A tier of data one series had in the old store: its interval and points (the series' own only). */
interface Source {
  interval: number;
  times: Float64Array;
  values: Float64Array;
  /** Start (ms) of the oldest slot the old ring held: windows from here on are whole. */
  from: number;
}

/** The series' points in each old tier, within its life (floor ≤ t < retirement). */
function oldSources(old: OldStore, e: SeriesEntry): Source[] {
  const set = old.sets[e.schema]!;
  return set.rings.map((ring) => {
    const newest = ring.currentNewest();
    const lo = Math.ceil(e.floor / ring.intervalMs);
    const hi = Math.min(newest, Math.ceil(e.retiredAt / ring.intervalMs) - 1);
    const pts =
      e.column < set.columns ? ring.read(e.column, lo, hi, newest) : ring.read(e.column, 1, 0, newest);
    return {
      interval: ring.intervalMs,
      times: pts.timestamps,
      values: pts.values,
      from: ring.oldest(newest) * ring.intervalMs,
    };
  });
}

/**
 * Fills tier k of the new schema for one series. Tier 0 takes the old tier-0 points at their
 * new slots (the last one of a slot wins, as record() does). A coarse tier folds, window by
 * window, the finest source that holds the whole window: an old tier whose interval divides the
 * new one, or the new tier below (as the cascade would); returns the values written.
 */
function fillTier(set: TierSet, k: number, p: Placed, sources: Source[]): number {
  const ring = set.rings[k]!;
  const I = ring.intervalMs;
  const first = ring.oldest(ring.newest);
  const values = new Map<number, number>();
  if (k === 0) {
    const src = sources[0]!;
    for (let i = 0; i < src.times.length; i++) values.set(Math.floor(src.times[i]! / I), src.values[i]!);
  } else {
    const below = set.rings[k - 1]!;
    const newBelow = below.read(p.column, 1, below.newest, below.newest);
    const candidates: Source[] = [
      ...sources.filter((s) => I % s.interval === 0),
      {
        interval: below.intervalMs,
        times: newBelow.timestamps,
        values: newBelow.values,
        from: below.oldest(below.newest) * below.intervalMs,
      },
    ].sort((a, b) => b.interval - a.interval);
    const tier = set.schema.tiers[k]!;
    const fn = p.entry.counter ? FN_CODE.last : FN_CODE[tier.consolidation!];
    for (const src of candidates) foldSource(src, I, minKnown(tier.xff, I / src.interval), fn, values);
  }
  let written = 0;
  for (const [slot, v] of values) {
    if (slot < first || slot > ring.newest || Number.isNaN(v)) continue;
    ring.state[S_SLOT] = slot;
    const pos = ring.writePosition();
    ring.slab.values[p.column * ring.slots + pos] = v;
    written++;
  }
  return written;
}

/** Folds `src` into windows of `I` ms (only whole windows it holds), overwriting coarser sources' windows. */
function foldSource(src: Source, I: number, need: number, fn: number, out: Map<number, number>): void {
  let i = 0;
  while (i < src.times.length) {
    const w = Math.floor(src.times[i]! / I);
    const window: number[] = [];
    while (i < src.times.length && Math.floor(src.times[i]! / I) === w) window.push(src.values[i++]!);
    if (w * I < src.from) continue; // the window's first slots had left this source
    out.set(w, foldValues(fn, window, need));
  }
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

/**
 * Carries each drain cursor over: a series' next slot becomes the same time in its new schema's
 * tier of the same index. An uncommitted batch is dropped (it is drained again, converted).
 */
function convertCursors(
  from: string,
  to: string,
  old: OldStore,
  given: readonly Schema[],
  placed: Placed[],
): MigrationResult['cursors'] {
  let names: string[];
  try {
    names = readdirSync(cursorDir(from))
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -5));
  } catch {
    return [];
  }
  const where = new Map(placed.map((p) => [String(p.entry.handle), p]));
  const out: MigrationResult['cursors'] = [];
  for (const name of names) {
    let doc: CursorDoc;
    try {
      doc = readCursor(from, name);
    } catch (err) {
      out.push({ name, kept: false, note: `unreadable, reset: ${(err as Error).message}` });
      continue;
    }
    const fresh: CursorDoc = { format: 'rondo-cursor', version: 1, name, tiers: {} };
    const notes: string[] = [];
    for (const [tier, tc] of Object.entries(doc.tiers)) {
      fresh.tiers[tier] = convertTier(Number(tier), tc, old, given, where);
      if (tc.pending !== null && tc.pending.base === tc.generation)
        notes.push(`tier ${tier}: an uncommitted batch will be drained again`);
    }
    writeCursor(to, fresh);
    out.push({ name, kept: true, note: notes.join('; ') || 'positions converted by time' });
  }
  return out;
}

function convertTier(
  tier: number,
  tc: TierCursor,
  old: OldStore,
  given: readonly Schema[],
  where: Map<string, Placed>,
): TierCursor {
  const out: TierCursor = { generation: tc.generation, pending: null, schemas: {} };
  for (const [schemaName, sc] of Object.entries(tc.schemas)) {
    if (!old.schemas.some((s) => s.name === schemaName)) continue;
    for (const [handle, next] of Object.entries(sc.next)) {
      const p = where.get(handle);
      const t = p === undefined ? undefined : given[p.schema]!.tiers[tier];
      if (p === undefined || t === undefined) continue;
      const name = given[p.schema]!.name;
      out.schemas[name] ??= { interval: t.interval, next: {} };
      out.schemas[name].next[handle] = Math.ceil((next * sc.interval) / t.interval);
    }
  }
  return out;
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
  const given = normalizeSchemas(options.schemas, HEADER_BYTES);
  if (!metadataExists(dir))
    throw new RondoError('ERR_RONDO_NOT_FOUND', `no rondo store at ${dir}`, { path: dir });
  const fd = acquireWriterLock(dir);
  try {
    return migrateStore(dir, readMetadata(dir), given, options.onProgress);
  } finally {
    releaseWriterLock(fd);
  }
}
