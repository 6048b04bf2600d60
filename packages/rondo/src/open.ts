// Opening a store directory: the writer lock, creating a new store, checking an existing one's
// schemas, and mapping every slab; whatever fails, what was taken so far is released.
import { mkdirSync } from 'node:fs';
import type { StoreOptions } from './api.js';
import { fsyncDir } from './atomic-file.js';
import { corrupt, ioError, RondoError } from './errors.js';
import { metadataPath, slabPath } from './layout.js';
import { acquireWriterLock, releaseWriterLock } from './lock.js';
import { metadataExists, readMetadata, type SeriesRecord, writeMetadata } from './metadata.js';
import { canonicalSchemaJson, normalizeSchemas, type Schema, schemaHash } from './schema.js';
import { createSlab, HEADER_BYTES, Slab, type SlabIdentity } from './slab.js';
import { TierSet } from './tiers.js';
import { checkKeys } from './validate.js';

/** The keys of StoreOptions. */
const STORE_OPTIONS = ['schemas', 'readOnly'];

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
  /** The series records of the metadata, by handle. */
  series: SeriesRecord[];
  /** The writer lock's descriptor, or null for a reader. */
  lockFd: number | null;
}

/** The identity slab `tier` of `schema` must have. */
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

/** Releases what an opened store holds: every mapping, then the writer lock. */
export function closeOpened(sets: readonly TierSet[], lockFd: number | null): void {
  for (const set of sets) for (const ring of set.rings) ring.slab.close();
  if (lockFd !== null) releaseWriterLock(lockFd);
}

/**
 * Opens the store in `dir` (see Store.open): validates the options, takes the writer lock,
 * creates the store or checks its schemas, and maps every slab.
 */
export function openStoreDir(dir: string, options: StoreOptions): OpenedStore {
  if (typeof dir !== 'string' || dir.length === 0) {
    throw new RondoError('ERR_RONDO_CONFIG', 'Store.open: dir must be a non-empty path');
  }
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new RondoError('ERR_RONDO_CONFIG', 'Store.open: options must be an object');
  }
  checkKeys('ERR_RONDO_CONFIG', 'Store.open', options, STORE_OPTIONS);
  const readOnly = options.readOnly === true;
  const given = options.schemas === undefined ? undefined : normalizeSchemas(options.schemas, HEADER_BYTES);
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
    const { schemas, series } = loadOrCreate(dir, given);
    for (const schema of schemas) sets.push(new TierSet(schema, mapSlabs(dir, schema, !readOnly), !readOnly));
    return { dir, readOnly, schemas, sets, series, lockFd };
  } catch (err) {
    closeOpened(sets, lockFd);
    throw err;
  }
}

/** Reads the stored schemas and series (checking them against `given`), or creates the store. */
function loadOrCreate(
  dir: string,
  given: Schema[] | undefined,
): { schemas: Schema[]; series: SeriesRecord[] } {
  if (!metadataExists(dir)) {
    // Only a writer with schemas gets here (checked by the caller).
    createStore(dir, given!);
    return { schemas: given!, series: [] };
  }
  const meta = readMetadata(dir);
  let schemas: Schema[];
  try {
    schemas = normalizeSchemas(meta.schemas, HEADER_BYTES);
  } catch (cause) {
    throw corrupt(metadataPath(dir), (cause as Error).message, cause);
  }
  if (given) {
    const diff = describeMismatch(schemas, given);
    if (diff) throw new RondoError('ERR_RONDO_SCHEMA_MISMATCH', `${dir}: ${diff}`, { path: dir });
  }
  for (const [h, rec] of meta.series.entries()) {
    const schema = schemas.find((s) => s.name === rec.schema)!;
    if (rec.column >= schema.maxSeries)
      throw corrupt(metadataPath(dir), `series ${h} has column ${rec.column} beyond the capacity`);
  }
  return { schemas, series: meta.series };
}

/** Maps the slabs of `schema`; on failure the ones mapped here are closed (the caller closes earlier schemas'). */
function mapSlabs(dir: string, schema: Schema, writable: boolean): Slab[] {
  const hash = schemaHash(schema);
  const slabs: Slab[] = [];
  try {
    for (let k = 0; k < schema.tiers.length; k++)
      slabs.push(Slab.open(slabPath(dir, schema.name, k), identity(schema, hash, k), writable));
  } catch (err) {
    for (const s of slabs) s.close();
    throw err;
  }
  return slabs;
}

/** Creates the slabs, then the metadata: until `rondo.json` exists, the directory is not a store. */
function createStore(dir: string, schemas: readonly Schema[]): void {
  try {
    for (const schema of schemas) {
      const hash = schemaHash(schema);
      for (let k = 0; k < schema.tiers.length; k++)
        createSlab(slabPath(dir, schema.name, k), identity(schema, hash, k));
    }
    fsyncDir(dir);
    writeMetadata(dir, schemas, []);
  } catch (cause) {
    throw ioError(dir, 'create the store', cause);
  }
}

/** What differs between the stored schemas and the given ones, in words; null when they agree. */
function describeMismatch(stored: readonly Schema[], given: readonly Schema[]): string | null {
  if (stored.length !== given.length) {
    return `the store has ${stored.length} schema(s) (${stored.map((s) => s.name).join(', ')}), the options give ${given.length}`;
  }
  for (let i = 0; i < stored.length; i++) {
    const a = canonicalSchemaJson(stored[i]!);
    const b = canonicalSchemaJson(given[i]!);
    if (a !== b) return `schema ${i} differs: stored ${a}, given ${b}`;
  }
  return null;
}
