import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomic-file.js';
import { corrupt, ioError, RondoError } from './errors.js';
import { normalizeSeries, seriesKey } from './labels.js';
import { METADATA_FILE, metadataPath } from './layout.js';
import { type Schema, type SchemaConfig, schemaToConfig } from './schema.js';

/** One registered series as stored in the metadata. */
export interface SeriesRecord {
  /** Metric name. */
  name: string;
  /** Labels, sorted by key. */
  labels: Record<string, string>;
  /** Name of the schema the series was routed to. */
  schema: string;
  /** Value column in the schema's slabs. */
  column: number;
}

/** The metadata file's content. */
export interface Metadata {
  /** Always 'rondo-store'. */
  format: 'rondo-store';
  /** Metadata format version (1). */
  version: 1;
  /** Schemas in configuration order, durations in ms. */
  schemas: SchemaConfig[];
  /** Registered series; a series' handle is its index here. */
  series: SeriesRecord[];
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
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    if (
      (cause as NodeJS.ErrnoException).code === 'ENOENT' ||
      (cause as NodeJS.ErrnoException).code === 'ENOTDIR'
    ) {
      throw new RondoError('ERR_RONDO_NOT_FOUND', `no rondo store at ${dir} (${METADATA_FILE} is missing)`, {
        cause,
        path: dir,
      });
    }
    throw ioError(path, 'read', cause);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw corrupt(path, `metadata is not valid JSON (${(cause as Error).message})`, cause);
  }
  const m = doc as Partial<Metadata>;
  if (!m || typeof m !== 'object' || m.format !== 'rondo-store')
    throw corrupt(path, 'not rondo metadata (format field)');
  if (m.version !== 1)
    throw corrupt(path, `metadata version ${String(m.version)} is not supported (expected 1)`);
  if (!Array.isArray(m.schemas) || !Array.isArray(m.series))
    throw corrupt(path, 'schemas and series must be arrays');
  const perSchema = new Map<string, number>();
  for (const s of m.schemas) {
    if (!s || typeof s !== 'object' || typeof s.name !== 'string')
      throw corrupt(path, 'a schema entry is malformed');
    perSchema.set(s.name, 0);
  }
  const keys = new Map<string, number>();
  for (const [i, s] of m.series.entries()) {
    const ok =
      s &&
      typeof s === 'object' &&
      typeof s.name === 'string' &&
      s.labels &&
      typeof s.labels === 'object' &&
      Object.values(s.labels).every((v) => typeof v === 'string') &&
      typeof s.schema === 'string' &&
      perSchema.has(s.schema) &&
      s.column === perSchema.get(s.schema);
    if (!ok) throw corrupt(path, `series entry ${i} is malformed`);
    let key: string;
    try {
      const norm = normalizeSeries(s.name, s.labels);
      key = seriesKey(norm.name, norm.labels);
    } catch (cause) {
      throw corrupt(path, `series entry ${i}: ${(cause as Error).message}`, cause);
    }
    if (keys.has(key)) throw corrupt(path, `series entry ${i} repeats series entry ${keys.get(key)}`);
    keys.set(key, i);
    perSchema.set(s.schema, s.column + 1);
  }
  return m as Metadata;
}

/** Writes the metadata atomically (temp file, fsync, rename, fsync dir). */
export function writeMetadata(
  dir: string,
  schemas: readonly Schema[],
  series: readonly SeriesRecord[],
): void {
  const doc: Metadata = {
    format: 'rondo-store',
    version: 1,
    schemas: schemas.map(schemaToConfig),
    series: series.map((s) => ({ name: s.name, labels: s.labels, schema: s.schema, column: s.column })),
  };
  const path = metadataPath(dir);
  try {
    writeFileAtomic(path, `${JSON.stringify(doc, null, 1)}\n`);
  } catch (cause) {
    throw ioError(path, 'write the metadata', cause);
  }
}
