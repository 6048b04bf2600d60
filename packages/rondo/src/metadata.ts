// `rondo.json`: the store's schemas and the generation of its data files. Version 2 keeps the
// series in the journal (catalog/); version 1 (older stores) listed them here, and is read only
// to upgrade it.
import { existsSync } from 'node:fs';
import { writeFileAtomic } from './atomic-file.js';
import { corrupt, ioError, RondoError } from './errors.js';
import { METADATA_FILE, metadataPath } from './layout.js';
import { isMissing, readRegular } from './regular-file.js';
import { type Schema, type SchemaConfig, schemaToConfig } from './schema.js';

/** The metadata format version this rondo writes. */
export const METADATA_VERSION = 2;

/** One series as format 1 listed it in `rondo.json` (its handle was its index). */
export interface V1Series {
  /** Metric name. */
  name: string;
  /** Labels. */
  labels: Record<string, string>;
  /** Name of the schema the series was routed to. */
  schema: string;
  /** Value column in the schema's slabs. */
  column: number;
}

/** The metadata file's content. */
export interface Metadata {
  /** Metadata format version: 2, or 1 for a store not upgraded yet. */
  version: 1 | 2;
  /** Data generation: 0 = files in the store directory, N = in `g<N>/` (see Store.migrate). */
  generation: number;
  /** Schemas in configuration order, durations in ms. */
  schemas: SchemaConfig[];
  /** Format 1 only: the registered series, by handle. */
  v1Series: V1Series[] | null;
}

/** True when `dir` holds a store's metadata. */
export function metadataExists(dir: string): boolean {
  return existsSync(metadataPath(dir));
}

/** Reads and structurally checks the metadata; ERR_RONDO_NOT_FOUND when absent, ERR_RONDO_CORRUPT when unreadable. */
export function readMetadata(dir: string): Metadata {
  const path = metadataPath(dir);
  let text: string;
  try {
    text = readRegular(path, 'the metadata').toString('utf8');
  } catch (err) {
    if (isMissing(err)) {
      throw new RondoError('ERR_RONDO_NOT_FOUND', `no rondo store at ${dir} (${METADATA_FILE} is missing)`, {
        cause: err,
        path: dir,
      });
    }
    throw err;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw corrupt(path, `metadata is not valid JSON (${(cause as Error).message})`, cause);
  }
  const m = doc as {
    format?: unknown;
    version?: unknown;
    schemas?: unknown;
    series?: unknown;
    generation?: unknown;
  };
  if (!m || typeof m !== 'object' || m.format !== 'rondo-store')
    throw corrupt(path, 'not rondo metadata (format field)');
  if (m.version !== 1 && m.version !== METADATA_VERSION)
    throw corrupt(path, `metadata version ${String(m.version)} is not supported (this rondo reads 1 and 2)`);
  if (!Array.isArray(m.schemas)) throw corrupt(path, 'schemas must be an array');
  if (m.version === 1) {
    if (!Array.isArray(m.series)) throw corrupt(path, 'series must be an array');
    return {
      version: 1,
      generation: 0,
      schemas: m.schemas as SchemaConfig[],
      v1Series: checkV1Series(path, m.series),
    };
  }
  const generation = m.generation;
  if (typeof generation !== 'number' || !Number.isSafeInteger(generation) || generation < 0)
    throw corrupt(path, 'generation must be a whole number ≥ 0');
  return { version: 2, generation, schemas: m.schemas as SchemaConfig[], v1Series: null };
}

/** The series list of format 1, structurally checked (the upgrade checks the rest). */
function checkV1Series(path: string, series: unknown[]): V1Series[] {
  for (const [i, s] of series.entries()) {
    const r = s as Partial<V1Series> | null;
    const ok =
      r !== null &&
      typeof r === 'object' &&
      typeof r.name === 'string' &&
      r.labels !== null &&
      typeof r.labels === 'object' &&
      Object.values(r.labels).every((v) => typeof v === 'string') &&
      typeof r.schema === 'string' &&
      Number.isSafeInteger(r.column) &&
      (r.column as number) >= 0;
    if (!ok) throw corrupt(path, `series entry ${i} is malformed`);
  }
  return series as V1Series[];
}

/** Writes the metadata (format 2) atomically: temp file, fsync, rename, fsync of the directory. */
export function writeMetadata(dir: string, schemas: readonly Schema[], generation: number): void {
  const doc = {
    format: 'rondo-store',
    version: METADATA_VERSION,
    generation,
    schemas: schemas.map(schemaToConfig),
  };
  const path = metadataPath(dir);
  try {
    writeFileAtomic(path, `${JSON.stringify(doc, null, 1)}\n`);
  } catch (cause) {
    throw ioError(path, 'write the metadata', cause);
  }
}
