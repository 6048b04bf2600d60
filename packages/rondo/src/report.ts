// What a Store reports about itself: info() (schemas, tiers, disk) and stats() (counters).
import { statSync } from 'node:fs';
import type { SchemaInfo, SeriesInfo, StoreInfo, StoreStats, TierInfo } from './api.js';
import type { Catalog, SeriesEntry } from './catalog/catalog.js';
import { agedOut } from './catalog/lifecycle.js';
import { ioError } from './errors.js';
import { metadataPath } from './layout.js';
import { writerActive, writerPid } from './lock.js';
import type { Schema } from './schema.js';
import { slabBytes } from './slab.js';
import type { TierSet } from './tiers.js';

/** What {@link storeInfo} reads from a Store. */
export interface ReportSource {
  /** Store directory. */
  dir: string;
  /** Whether the Store is a reader. */
  readOnly: boolean;
  /** Tier sets in schema order. */
  sets: readonly TierSet[];
  /** The series (readers: as far as they know). */
  catalog: Catalog;
  /** Size of the series journal. */
  journalBytes: number;
}

/** Schemas, tiers (slots, bytes, oldest and newest point), series count and bytes on disk. */
export function storeInfo(src: ReportSource): StoreInfo {
  const meta = metadataPath(src.dir);
  let totalBytes: number;
  try {
    totalBytes = statSync(meta).size;
  } catch (cause) {
    throw ioError(meta, 'stat', cause);
  }
  // A retired series whose data has aged out is forgotten, even before the writer's next
  // maintenance (or a reader's next look at the journal) drops it from the catalogue.
  const schemas = src.sets.map((set, s) =>
    schemaInfo(
      set,
      src.catalog.liveIn(s).length,
      src.catalog.retiredHolders(s).filter((e) => !agedOut(set, e.retiredAt)).length,
    ),
  );
  totalBytes += src.journalBytes;
  for (const s of schemas) for (const t of s.tiers) totalBytes += t.bytes;
  return {
    dir: src.dir,
    readOnly: src.readOnly,
    writerActive: !src.readOnly || writerActive(src.dir),
    writerPid: src.readOnly ? writerPid(src.dir) : process.pid,
    schemas,
    seriesCount: schemas.reduce((n, s) => n + s.series, 0),
    retiredCount: schemas.reduce((n, s) => n + s.retired, 0),
    totalBytes,
  };
}

function schemaInfo(set: TierSet, live: number, retired: number): SchemaInfo {
  const { schema } = set;
  return {
    name: schema.name,
    match: { ...schema.match },
    maxSeries: schema.maxSeries,
    series: live,
    retired,
    retireAfter: schema.retireAfter,
    tiers: set.rings.map((ring, index): TierInfo => {
      const t = schema.tiers[index]!;
      const span = ring.span(ring.currentNewest());
      return {
        index,
        interval: t.interval,
        retention: t.retention,
        consolidation: t.consolidation,
        xff: t.xff,
        slots: t.slots,
        slotsUsed: span.used,
        bytes: slabBytes(t.slots, schema.maxSeries),
        file: ring.slab.path,
        oldest: span.oldest,
        newest: span.newest,
      };
    }),
  };
}

/** Counters since open, summed over the schemas. */
export function storeStats(
  sets: readonly TierSet[],
  series: { registered: number; retired: number },
): StoreStats {
  let recorded = 0;
  let droppedLate = 0;
  let windowsWritten = 0;
  let autoConsolidations = 0;
  for (const set of sets) {
    recorded += set.rings[0]!.writes;
    droppedLate += set.counters.droppedLate;
    windowsWritten += set.counters.windowsWritten;
    autoConsolidations += set.counters.autoConsolidations;
  }
  return { recorded, droppedLate, windowsWritten, autoConsolidations, ...series };
}

/** The public view of a catalogue entry (Store.series()). */
export function seriesInfo(e: SeriesEntry, schemas: readonly Schema[]): SeriesInfo {
  const info: SeriesInfo = {
    handle: e.handle,
    name: e.name,
    labels: { ...e.labels },
    schema: schemas[e.schema]!.name,
    type: e.counter ? 'counter' : 'gauge',
  };
  if (!e.live) info.retired = e.retiredAt;
  return info;
}
