// Building a store's catalogue at open: replaying the journal (or, for a store of format 1,
// creating the journal from rondo.json's series list: the upgrade), then reconciling it with
// the slab headers.
import { corrupt } from '../errors.js';
import { normalizeSeries } from '../labels.js';
import { journalPath } from '../layout.js';
import type { V1Series } from '../metadata.js';
import { type Schema, schemasHash } from '../schema.js';
import type { TierSet } from '../tiers.js';
import { Catalog, SeriesEntry } from './catalog.js';
import { encodeRegister, identityKey, type RegisterRecord } from './journal.js';
import { SeriesLog } from './series-log.js';

/** A store's catalogue and its open journal. */
export interface LoadedCatalog {
  /** The series. */
  catalog: Catalog;
  /** The open journal; null for a reader of a store of format 1 (not upgraded yet). */
  log: SeriesLog | null;
}

/** What {@link loadCatalog} needs. */
export interface CatalogSource {
  /** Path of rondo.json (for messages about a format-1 series list). */
  metadataPath: string;
  /** The data directory (where the journal is). */
  dataDir: string;
  /** The store's schemas. */
  schemas: readonly Schema[];
  /** Their tier sets, mapped. */
  sets: readonly TierSet[];
  /** Writer (upgrades, repairs) or reader. */
  writable: boolean;
  /** The series list of a format-1 rondo.json, or null for format 2. */
  v1Series: readonly V1Series[] | null;
}

/** Loads the catalogue of a store (see the module note). */
export function loadCatalog(src: CatalogSource): LoadedCatalog {
  const path = journalPath(src.dataDir);
  const hash = schemasHash(src.schemas);
  const capacities = src.schemas.map((s) => s.maxSeries);
  if (src.v1Series !== null) {
    // Checked as they are, so that damage is reported against rondo.json.
    const catalog = new Catalog(src.metadataPath, capacities);
    const records = v1Records(src.metadataPath, src.schemas, src.v1Series);
    for (const r of records) catalog.add(new SeriesEntry(r));
    if (!src.writable) {
      finish(catalog, src, false);
      return { catalog, log: null };
    }
    // The upgrade: the journal is written whole before rondo.json says format 2, so a crash
    // in between leaves format 1, which the next open upgrades again.
    SeriesLog.create(path, hash, records.length, records.map(encodeRegister));
  }
  const catalog = new Catalog(path, capacities);
  const { log, read } = SeriesLog.open(path, hash, src.writable);
  try {
    catalog.nextHandle = read.handleFloor;
    catalog.reserve(read.records.length);
    for (const r of read.records) catalog.apply(r);
    finish(catalog, src, src.writable);
  } catch (err) {
    log.close();
    throw err;
  }
  return { catalog, log };
}

/** Register records for the series of a format-1 rondo.json (handle = index, floor 0). */
export function v1Records(
  path: string,
  schemas: readonly Schema[],
  series: readonly V1Series[],
): Omit<RegisterRecord, 'type'>[] {
  return series.map((s, handle) => {
    const schema = schemas.findIndex((x) => x.name === s.schema);
    if (schema < 0) throw corrupt(path, `series ${handle} names schema ${s.schema}, which does not exist`);
    if (s.column >= schemas[schema]!.maxSeries)
      throw corrupt(path, `series ${handle} has column ${s.column} beyond the capacity`);
    let norm: { name: string; labels: Record<string, string> };
    try {
      norm = normalizeSeries(s.name, s.labels);
    } catch (cause) {
      throw corrupt(path, `series entry ${handle}: ${(cause as Error).message}`, cause);
    }
    return { handle, schema, column: s.column, floor: 0, flags: 0, key: identityKey(norm.name, norm.labels) };
  });
}

/**
 * Reconciles the catalogue with the slab headers' series counts (columns ever assigned): a
 * count above the journal's means a writer was killed between publishing a column and writing
 * its record (the column is simply free); a journal naming a column at or above the count
 * means the header lost a write (power loss): the writer clears that column and raises the
 * count, since the column may hold zeros that were never recorded.
 */
function finish(catalog: Catalog, src: CatalogSource, repair: boolean): void {
  let repaired = false;
  src.sets.forEach((set, s) => {
    const published = set.rings[0]!.slab.seriesCount;
    const used = catalog.highWater(s);
    if (used > published && repair) {
      for (let c = published; c < used; c++) set.clearColumn(c);
      for (const ring of set.rings) ring.slab.setSeriesCount(used);
      repaired = true;
    }
    catalog.finishLoad(s, Math.max(published, used));
    // A reader reads a column only below the published count (see Store.query).
    set.columns = repair ? Math.max(published, used) : published;
  });
  // Readers re-read the counts when the catalogue changes: tell those already open.
  if (repaired) src.sets[0]!.rings[0]!.slab.bumpCatalogSeq();
}
