// Opening a store directory: the writer lock, creating a new store, checking an existing one's
// schemas (or migrating it), mapping every slab and loading the series catalogue; whatever
// fails, what was taken so far is released.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import type { StoreOptions } from './api.js';
import type { Catalog } from './catalog/catalog.js';
import { loadCatalog } from './catalog/load.js';
import type { SeriesLog } from './catalog/series-log.js';
import { corrupt, ioError, RondoError } from './errors.js';
import { dataDir, lockPath, metadataPath } from './layout.js';
import { acquireWriterLock, releaseWriterLock, type WriterLock } from './lock.js';
import { type Metadata, metadataExists, readMetadata, writeMetadata } from './metadata.js';
import { migrateLocked } from './migrate.js';
import { describeMismatch } from './migrate-plan.js';
import { normalizeSchemas, type Schema, schemaToConfig } from './schema.js';
import { HEADER_BYTES } from './slab.js';
import { checkMappable, createGeneration, mapSlabs, unmapSets } from './store-files.js';
import { removeLeftovers } from './sweep.js';
import { TierSet } from './tiers.js';
import { checkKeys } from './validate.js';

/** The keys of StoreOptions. */
const STORE_OPTIONS = ['schemas', 'readOnly', 'migrate', 'maxFutureSkew'];

/** A store directory opened and checked: what the Store is built from. */
export interface OpenedStore {
  /** Store directory. */
  dir: string;
  /** Opened as a reader. */
  readOnly: boolean;
  /** The stored schemas, in configuration order. */
  schemas: Schema[];
  /** One tier set per schema, its slabs mapped. */
  sets: TierSet[];
  /** The series. */
  catalog: Catalog;
  /** The open series journal (null for a reader of a format-1 store). */
  log: SeriesLog | null;
  /** The directory of the current generation's data files (slabs, journal, cursors). */
  dataDir: string;
  /** The writer lock, or null for a reader. */
  lock: WriterLock | null;
  /** The first slab's catalogSeq, read before the superseded check (see openStoreDir). */
  catalogSeq: number;
}

/** Releases what an opened store holds: the journal, every mapping, then the writer lock. */
export function closeOpened(sets: readonly TierSet[], log: SeriesLog | null, lock: WriterLock | null): void {
  log?.close();
  unmapSets(sets);
  if (lock !== null) releaseWriterLock(lock);
}

/** Checks Store.open's arguments; returns the given schemas, validated (undefined when none). */
function checkArguments(dir: string, options: StoreOptions): Schema[] | undefined {
  if (typeof dir !== 'string' || dir.length === 0) {
    throw new RondoError('ERR_RONDO_CONFIG', 'Store.open: dir must be a non-empty path');
  }
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new RondoError('ERR_RONDO_CONFIG', 'Store.open: options must be an object');
  }
  checkKeys('ERR_RONDO_CONFIG', 'Store.open', options, STORE_OPTIONS);
  return options.schemas === undefined ? undefined : normalizeSchemas(options.schemas, HEADER_BYTES);
}

/** Attempts of a reader that finds the generation it opened replaced by a migration meanwhile. */
const READER_ATTEMPTS = 3;

/**
 * Opens the store in `dir` (see Store.open): validates the options, takes the writer lock,
 * creates the store or checks (or migrates) its schemas, maps every slab, loads the catalogue.
 * A reader that raced a migration (it read rondo.json just before the switch) opens again: the
 * old generation's files may be gone, or be marked superseded already. catalogSeq is read before
 * that mark is checked, so a mark made later shows as a new catalogSeq at the next refresh.
 */
export function openStoreDir(dir: string, options: StoreOptions): OpenedStore {
  for (let attempt = 1; ; attempt++) {
    // options are checked by openOnce (they may be anything here)
    const generation = (options as StoreOptions | null)?.readOnly === true ? currentGeneration(dir) : null;
    let opened: OpenedStore;
    try {
      opened = openOnce(dir, options);
    } catch (err) {
      if (generation === null || attempt >= READER_ATTEMPTS || currentGeneration(dir) === generation)
        throw err;
      continue;
    }
    if (!opened.readOnly || !opened.sets[0]!.rings[0]!.slab.superseded) return opened;
    closeOpened(opened.sets, opened.log, null);
    if (attempt >= READER_ATTEMPTS)
      throw new RondoError('ERR_RONDO_CLOSED', `store ${dir} is being migrated: open it again`, {
        path: dir,
      });
  }
}

/** The generation rondo.json names now, or null when it cannot be read. */
function currentGeneration(dir: string): number | null {
  try {
    return readMetadata(dir).generation;
  } catch {
    return null;
  }
}

/**
 * Before the lock: a store to open must exist (unless a writer has schemas to create it); a
 * directory to create it in must be fit for it, and is made. Says whether this open creates the
 * store and whether the directory was there before (what a failed creation must leave).
 */
function prepareDir(
  dir: string,
  given: Schema[] | undefined,
  readOnly: boolean,
): { creating: boolean; dirExisted: boolean } {
  const exists = metadataExists(dir);
  if ((readOnly || given === undefined) && !exists) {
    const hint = given || readOnly ? '' : ' (pass schemas to create one)';
    throw new RondoError('ERR_RONDO_NOT_FOUND', `no rondo store at ${dir}${hint}`, { path: dir });
  }
  const creating = !readOnly && given !== undefined && !exists;
  const dirExisted = existsSync(dir);
  if (creating) checkCreatable(dir, given!);
  if (!readOnly && given !== undefined) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (cause) {
      throw ioError(dir, 'create the store directory', cause);
    }
  }
  return { creating, dirExisted };
}

/** One attempt of openStoreDir. */
function openOnce(dir: string, options: StoreOptions): OpenedStore {
  const given = checkArguments(dir, options);
  const readOnly = options.readOnly === true;
  const { creating, dirExisted } = prepareDir(dir, given, readOnly);
  const lock = readOnly ? null : acquireWriterLock(dir);
  const sets: TierSet[] = [];
  try {
    const meta = loadMetadata(dir, given, readOnly, options.migrate === true);
    if (!readOnly) removeLeftovers(dir, meta.generation);
    const schemas = normalizeStored(dir, meta);
    const data = dataDir(dir, meta.generation);
    for (const schema of schemas)
      sets.push(new TierSet(schema, mapSlabs(data, schema, !readOnly), !readOnly));
    // Read before the journal: the writer appends a record, then bumps catalogSeq, so a
    // registration landing while the journal is read shows as a new catalogSeq at the reader's
    // next refresh (read after, it could count a record the catalogue missed).
    const catalogSeq = sets[0]!.rings[0]!.slab.catalogSeq;
    const { catalog, log } = loadCatalog({
      metadataPath: metadataPath(dir),
      dataDir: data,
      schemas,
      sets,
      writable: !readOnly,
      v1Series: meta.v1Series,
    });
    if (meta.version === 1 && !readOnly) writeMetadata(dir, schemas, meta.generation);
    return { dir, readOnly, schemas, sets, catalog, log, lock, dataDir: data, catalogSeq };
  } catch (err) {
    closeOpened(sets, null, lock);
    // A creation that failed leaves nothing behind: createGeneration removed its files.
    if (creating && !metadataExists(dir))
      rmSync(dirExisted ? lockPath(dir) : dir, { recursive: true, force: true });
    throw err;
  }
}

/** Names rondo writes in a store directory (a crash during creation may leave any of them). */
const OWN_NAMES = /^(LOCK|rondo\.json|series\.journal|cursors|g\d+|.+\.slab|.+\.tmp-\d+)$/;

/**
 * Before creating a store in `dir`: refuses a directory that holds files of another program (a
 * store must not be written among them), and slabs this Node could not map.
 */
function checkCreatable(dir: string, schemas: readonly Schema[]): void {
  checkMappable(schemas);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // absent (created next), or not a directory (mkdir says so)
  }
  const foreign = names.filter((n) => !OWN_NAMES.test(n));
  if (foreign.length > 0) {
    const list =
      foreign.slice(0, 3).join(', ') + (foreign.length > 3 ? `, … (${foreign.length} in all)` : '');
    throw new RondoError(
      'ERR_RONDO_CONFIG',
      `${dir} is not empty and is not a rondo store (it holds ${list}): create the store in a new or empty directory`,
      { path: dir },
    );
  }
}

/** The stored schemas, validated (damage is ERR_RONDO_CORRUPT naming rondo.json). */
function normalizeStored(dir: string, meta: Metadata): Schema[] {
  try {
    return normalizeSchemas(meta.schemas, HEADER_BYTES);
  } catch (cause) {
    throw corrupt(metadataPath(dir), (cause as Error).message, cause);
  }
}

/**
 * The metadata, after creating the store (none yet), migrating it (`migrate` and other
 * layouts), or taking the given schemas' policies (retireAfter) when only those differ.
 */
function loadMetadata(
  dir: string,
  given: Schema[] | undefined,
  readOnly: boolean,
  migrate: boolean,
): Metadata {
  if (!metadataExists(dir)) {
    createGeneration(dir, given!, 0, true); // only a writer with schemas gets here
    return readMetadata(dir);
  }
  const meta = readMetadata(dir);
  if (given === undefined) return meta;
  const stored = normalizeStored(dir, meta);
  const diff = describeMismatch(stored, given);
  if (diff !== null) {
    if (!migrate || readOnly) {
      const how = readOnly
        ? 'a reader cannot migrate; open without schemas to read the store as it is'
        : 'to convert it, open with { schemas, migrate: true }, call Store.migrate(dir, { schemas }) or run `rondo migrate`';
      throw new RondoError(
        'ERR_RONDO_SCHEMA_MISMATCH',
        `${dir}: the store's schemas differ: ${diff} (${how})`,
        {
          path: dir,
        },
      );
    }
    return migrateLocked(dir, meta, given);
  }
  if (
    !readOnly &&
    JSON.stringify(stored.map((s) => s.retireAfter)) !== JSON.stringify(given.map((s) => s.retireAfter))
  ) {
    // A format-1 rondo.json holds the series list: the upgrade (after the journal is written)
    // writes the new policies with format 2; writing them now would drop the list first.
    if (meta.version === 1) return { ...meta, schemas: given.map(schemaToConfig) };
    writeMetadata(dir, given, meta.generation);
    return readMetadata(dir);
  }
  return meta;
}
