// Opening a store directory: the writer lock, creating a new store, checking an existing one's
// schemas (or migrating it), mapping every slab and loading the series catalogue; whatever
// fails, what was taken so far is released.
import { mkdirSync } from 'node:fs';
import type { StoreOptions } from './api.js';
import type { Catalog } from './catalog/catalog.js';
import { loadCatalog } from './catalog/load.js';
import type { SeriesLog } from './catalog/series-log.js';
import { corrupt, ioError, RondoError } from './errors.js';
import { dataDir, metadataPath } from './layout.js';
import { acquireWriterLock, releaseWriterLock } from './lock.js';
import { type Metadata, metadataExists, readMetadata, writeMetadata } from './metadata.js';
import { migrateLocked } from './migrate.js';
import { describeMismatch } from './migrate-plan.js';
import { normalizeSchemas, type Schema } from './schema.js';
import { HEADER_BYTES } from './slab.js';
import { createGeneration, mapSlabs, unmapSets } from './store-files.js';
import { removeLeftovers } from './sweep.js';
import { TierSet } from './tiers.js';
import { checkKeys } from './validate.js';

/** The keys of StoreOptions. */
const STORE_OPTIONS = ['schemas', 'readOnly', 'migrate'];

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
  /** The writer lock's descriptor, or null for a reader. */
  lockFd: number | null;
}

/** Releases what an opened store holds: the journal, every mapping, then the writer lock. */
export function closeOpened(sets: readonly TierSet[], log: SeriesLog | null, lockFd: number | null): void {
  log?.close();
  unmapSets(sets);
  if (lockFd !== null) releaseWriterLock(lockFd);
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

/**
 * Opens the store in `dir` (see Store.open): validates the options, takes the writer lock,
 * creates the store or checks (or migrates) its schemas, maps every slab, loads the catalogue.
 */
export function openStoreDir(dir: string, options: StoreOptions): OpenedStore {
  const given = checkArguments(dir, options);
  const readOnly = options.readOnly === true;
  if ((readOnly || given === undefined) && !metadataExists(dir)) {
    const hint = given || readOnly ? '' : ' (pass schemas to create one)';
    throw new RondoError('ERR_RONDO_NOT_FOUND', `no rondo store at ${dir}${hint}`, { path: dir });
  }
  if (!readOnly && given !== undefined) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (cause) {
      throw ioError(dir, 'create the store directory', cause);
    }
  }
  const lockFd = readOnly ? null : acquireWriterLock(dir);
  const sets: TierSet[] = [];
  try {
    const meta = loadMetadata(dir, given, readOnly, options.migrate === true);
    if (!readOnly) removeLeftovers(dir, meta.generation);
    const schemas = normalizeStored(dir, meta);
    const data = dataDir(dir, meta.generation);
    for (const schema of schemas)
      sets.push(new TierSet(schema, mapSlabs(data, schema, !readOnly), !readOnly));
    const { catalog, log } = loadCatalog({
      metadataPath: metadataPath(dir),
      dataDir: data,
      schemas,
      sets,
      writable: !readOnly,
      v1Series: meta.v1Series,
    });
    if (meta.version === 1 && !readOnly) writeMetadata(dir, schemas, meta.generation);
    return { dir, readOnly, schemas, sets, catalog, log, lockFd, dataDir: data };
  } catch (err) {
    closeOpened(sets, null, lockFd);
    throw err;
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
    writeMetadata(dir, given, meta.generation);
    return readMetadata(dir);
  }
  return meta;
}
