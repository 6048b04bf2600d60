// The data files of one generation of a store: creating them and mapping them.
import { existsSync, mkdirSync, rmSync, statfsSync } from 'node:fs';
import { fsyncDir } from './atomic-file.js';
import { SeriesLog } from './catalog/series-log.js';
import { ioError, RondoError } from './errors.js';
import { dataDir, journalPath, slabPath } from './layout.js';
import { writeMetadata } from './metadata.js';
import { legacySchemaHash, type Schema, schemaHash, schemasHash } from './schema.js';
import { createSlab, formatBytes, Slab, type SlabIdentity, slabBytes, unmappable } from './slab.js';
import type { TierSet } from './tiers.js';

/** The identity slab `tier` of `schema` must have. */
export function slabIdentity(schema: Schema, tier: number): SlabIdentity {
  const t = schema.tiers[tier]!;
  const hash = schemaHash(schema);
  const legacy = legacySchemaHash(schema);
  return {
    schemaHash: hash,
    ...(legacy === hash ? {} : { legacySchemaHash: legacy }),
    tierIndex: tier,
    slots: t.slots,
    capacity: schema.maxSeries,
    intervalMs: t.interval,
  };
}

/** Maps the slabs of `schema` in data directory `data`; on failure the ones mapped here are closed. */
export function mapSlabs(data: string, schema: Schema, writable: boolean): Slab[] {
  const slabs: Slab[] = [];
  try {
    for (let k = 0; k < schema.tiers.length; k++)
      slabs.push(Slab.open(slabPath(data, schema.name, k), slabIdentity(schema, k), writable));
  } catch (err) {
    for (const s of slabs) s.close();
    throw err;
  }
  return slabs;
}

/** Unmaps every slab of `sets`. */
export function unmapSets(sets: readonly TierSet[]): void {
  for (const set of sets) for (const ring of set.rings) ring.slab.close();
}

/** ERR_RONDO_CONFIG, before anything is created, when a slab of `schemas` is too large for this Node to map. */
export function checkMappable(schemas: readonly Schema[]): void {
  for (const schema of schemas) {
    schema.tiers.forEach((t, k) => {
      const why = unmappable(slabBytes(t.slots, schema.maxSeries));
      if (why !== null) {
        throw new RondoError(
          'ERR_RONDO_CONFIG',
          `schema ${schema.name} tier ${k}: ${t.slots} slots × ${schema.maxSeries} series: ${why}; use fewer series per schema (split them over several schemas) or fewer slots`,
        );
      }
    });
  }
}

/** Bytes the data files of `schemas` take (slabs; the journal starts at 64 bytes). */
export function storeBytes(schemas: readonly Schema[]): number {
  let n = 0;
  for (const s of schemas) for (const t of s.tiers) n += slabBytes(t.slots, s.maxSeries);
  return n;
}

/** ERR_RONDO_IO, before anything is created, when the file system of `dir` has less room than `bytes`. */
function checkFreeSpace(dir: string, bytes: number): void {
  let free: number;
  try {
    const st = statfsSync(dir);
    free = st.bavail * st.bsize;
  } catch {
    return; // no statfs here: posix_fallocate still fails cleanly on a full disk
  }
  if (bytes > free) {
    throw new RondoError(
      'ERR_RONDO_IO',
      `${dir}: the store needs ${formatBytes(bytes)} (${bytes} bytes) and the file system has ${formatBytes(free)} free: shorten a retention, lower maxSeries, or use another disk`,
      { path: dir },
    );
  }
}

/**
 * Creates the data files of generation `generation` of store `dir` (slabs, an empty journal),
 * after checking that this Node can map them and that the disk has room. With `commit`, then
 * writes the metadata naming them: until `rondo.json` does, they are not the store's. When
 * anything fails, every file created here is removed again.
 */
export function createGeneration(
  dir: string,
  schemas: readonly Schema[],
  generation: number,
  commit: boolean,
): void {
  checkMappable(schemas);
  const data = dataDir(dir, generation);
  const created: string[] = [];
  try {
    if (data !== dir) {
      mkdirSync(data);
      created.push(data);
    }
    checkFreeSpace(data, storeBytes(schemas));
    for (const schema of schemas) {
      for (let k = 0; k < schema.tiers.length; k++) {
        const path = slabPath(data, schema.name, k);
        if (!existsSync(path)) created.push(path); // not what was there before
        createSlab(path, slabIdentity(schema, k));
      }
    }
    created.push(journalPath(data));
    SeriesLog.create(journalPath(data), schemasHash(schemas), 0);
    fsyncDir(data);
    if (data !== dir) fsyncDir(dir);
    if (commit) writeMetadata(dir, schemas, generation);
  } catch (cause) {
    for (const path of created.reverse()) rmSync(path, { recursive: true, force: true });
    throw ioError(dir, 'create the store', cause);
  }
}
