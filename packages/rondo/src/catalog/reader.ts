// A reader's view of the catalogue, kept up to date without re-reading what it has: the
// records the writer appended since the last look, or the whole journal again after the writer
// compacted it (the file was replaced).
import { RondoError } from '../errors.js';
import { metadataPath } from '../layout.js';
import { readMetadata } from '../metadata.js';
import type { TierSet } from '../tiers.js';
import { type Catalog, SeriesEntry } from './catalog.js';
import { agedOut } from './lifecycle.js';
import { v1Records } from './load.js';
import type { SeriesLog } from './series-log.js';

/**
 * Brings a reader's catalogue up to date: applies new journal records (or, for a store of
 * format 1 still written by an older rondo, the series added to rondo.json), then the columns
 * the writer published, then forgets retired series whose data has aged out.
 */
export function readerRefresh(
  catalog: Catalog,
  log: SeriesLog | null,
  sets: readonly TierSet[],
  dir: string,
): void {
  const head = sets[0]!.rings[0]!.slab;
  if (head.superseded) {
    throw new RondoError(
      'ERR_RONDO_CLOSED',
      `store ${dir} was migrated by its writer: open it again to read the new layout`,
      {
        path: dir,
      },
    );
  }
  if (log === null) refreshV1(catalog, dir, sets);
  else {
    const read = log.readNew();
    if (read.restart) catalog.reset(read.handleFloor);
    for (const r of read.records) catalog.apply(r);
  }
  sets.forEach((set, s) => {
    set.columns = set.rings[0]!.slab.seriesCount;
    for (const e of catalog.retiredHolders(s)) if (agedOut(set, e.retiredAt)) catalog.drop(e);
  });
}

/** A format-1 store written by an older rondo: the series list in rondo.json only grows. */
function refreshV1(catalog: Catalog, dir: string, sets: readonly TierSet[]): void {
  const meta = readMetadata(dir);
  if (meta.v1Series === null) {
    throw new RondoError(
      'ERR_RONDO_CLOSED',
      `store ${dir} was upgraded by its writer: open it again to read it`,
      {
        path: dir,
      },
    );
  }
  const records = v1Records(
    metadataPath(dir),
    sets.map((s) => s.schema),
    meta.v1Series,
  );
  for (const r of records.slice(catalog.size)) catalog.add(new SeriesEntry(r));
}
