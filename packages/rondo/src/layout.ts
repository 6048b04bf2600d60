import { join } from 'node:path';

// The files of a store directory, named in one place (docs/storage-format.md describes each).

/** Name of the metadata file inside a store directory. */
export const METADATA_FILE = 'rondo.json';
/** Name of the lock file a writer holds with flock. */
export const LOCK_FILE = 'LOCK';
/** Directory inside a store that holds the drain cursors. */
export const CURSOR_DIR = 'cursors';

/** Path of the metadata file of store `dir`. */
export function metadataPath(dir: string): string {
  return join(dir, METADATA_FILE);
}

/** Path of the writer's lock file of store `dir`. */
export function lockPath(dir: string): string {
  return join(dir, LOCK_FILE);
}

/** Name of the series journal inside a data directory. */
export const JOURNAL_FILE = 'series.journal';

/**
 * The directory of the data files (slabs, journal) of generation `generation` of store `dir`:
 * the store directory itself for generation 0, `g<N>/` inside it after a migration.
 */
export function dataDir(dir: string, generation: number): string {
  return generation === 0 ? dir : join(dir, `g${generation}`);
}

/** Path of the slab of tier `tier` of schema `schema` in data directory `data`. */
export function slabPath(data: string, schema: string, tier: number): string {
  return join(data, `${schema}.${tier}.slab`);
}

/** Path of the series journal in data directory `data`. */
export function journalPath(data: string): string {
  return join(data, JOURNAL_FILE);
}

/** Path of the cursor directory of store `dir`. */
export function cursorDir(dir: string): string {
  return join(dir, CURSOR_DIR);
}

/** Path of the file of cursor `name` of store `dir`. */
export function cursorPath(dir: string, name: string): string {
  return join(dir, CURSOR_DIR, `${name}.json`);
}

/** Path of the lock file of cursor `name` of store `dir` (one drainer per name). */
export function cursorLockPath(dir: string, name: string): string {
  return join(dir, CURSOR_DIR, `${name}.lock`);
}
