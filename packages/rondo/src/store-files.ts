// The data files of one generation of a store: creating them and mapping them.
import { mkdirSync } from 'node:fs';
import { fsyncDir } from './atomic-file.js';
import { SeriesLog } from './catalog/series-log.js';
import { ioError } from './errors.js';
import { dataDir, journalPath, slabPath } from './layout.js';
import { writeMetadata } from './metadata.js';
import { legacySchemaHash, type Schema, schemaHash, schemasHash } from './schema.js';
import { createSlab, Slab, type SlabIdentity } from './slab.js';
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

/**
 * Creates the data files of generation `generation` of store `dir` (slabs, an empty journal).
 * With `commit`, then writes the metadata naming them: until `rondo.json` does, they are not
 * the store's (a crash leaves a directory that the next open creates again, or cleans up).
 */
export function createGeneration(
  dir: string,
  schemas: readonly Schema[],
  generation: number,
  commit: boolean,
): void {
  const data = dataDir(dir, generation);
  try {
    mkdirSync(data, { recursive: true });
    for (const schema of schemas) {
      for (let k = 0; k < schema.tiers.length; k++)
        createSlab(slabPath(data, schema.name, k), slabIdentity(schema, k));
    }
    SeriesLog.create(journalPath(data), schemasHash(schemas), 0);
    fsyncDir(data);
    if (data !== dir) fsyncDir(dir);
    if (commit) writeMetadata(dir, schemas, generation);
  } catch (cause) {
    throw ioError(dir, 'create the store', cause);
  }
}
