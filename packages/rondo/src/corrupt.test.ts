// Damaged stores: every kind of damage is ERR_RONDO_CORRUPT naming the file, for writers and
// readers, never a crash or a hang, and a failed open leaves no lock behind.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  encodeHeader as encodeJournalHeader,
  encodeRegister,
  identityKey,
  JOURNAL_OFFSET,
} from './catalog/journal.js';
import type { RondoErrorCode } from './errors.js';
import { fnv1a64 } from './hash.js';
import { Store, writerActive } from './index.js';
import { CHECKSUM_COVERS, HEADER_BYTES, OFFSET } from './slab.js';
import { patchBytes, readBytes, u32, u64 } from './test-fixtures/bytes.js';
import { oneTier, scratchDirs, T0, throwsCode } from './test-fixtures/helpers.js';

const SLOTS = 10;
const MAX_SERIES = 3;
const scratch = scratchDirs('corrupt');

/** A closed store with two series and a few points; returns its directory. */
function makeStore(): string {
  const d = scratch();
  const store = Store.open(d, { schemas: [oneTier('s', 1000, SLOTS, MAX_SERIES)] });
  const a = store.register('a');
  const b = store.register('b', { k: 'v' });
  for (let i = 0; i < SLOTS; i++) store.recordBatch([a, b], [i, -i], T0 + i * 1000);
  store.close();
  return d;
}

const slabOf = (d: string): string => join(d, 's.0.slab');
const metaOf = (d: string): string => join(d, 'rondo.json');
const journalOf = (d: string): string => join(d, 'series.journal');

/** Appends a well-formed register record (valid CRC) that the catalogue must refuse. */
function appendRecord(
  d: string,
  r: { handle: number; column: number; name?: string; schema?: number },
): void {
  const rec = encodeRegister({
    handle: r.handle,
    schema: r.schema ?? 0,
    column: r.column,
    floor: 0,
    flags: 0,
    key: identityKey(r.name ?? `x${r.handle}`, {}),
  });
  writeFileSync(journalOf(d), Buffer.concat([readFileSync(journalOf(d)), rec]));
}

/** Turns the store back into format 1 (series in rondo.json), then lets `edit` damage that list. */
function writeV1(d: string, edit: (doc: Record<string, unknown>) => void): void {
  const doc = JSON.parse(readFileSync(metaOf(d), 'utf8')) as Record<string, unknown>;
  const v1: Record<string, unknown> = {
    format: 'rondo-store',
    version: 1,
    schemas: doc.schemas,
    series: [
      { name: 'a', labels: {}, schema: 's', column: 0 },
      { name: 'b', labels: { k: 'v' }, schema: 's', column: 1 },
    ],
  };
  edit(v1);
  writeFileSync(metaOf(d), JSON.stringify(v1));
  rmSync(journalOf(d));
}

/** Rewrites a header field and then a valid checksum. */
function patchWithChecksum(path: string, offset: number, bytes: Buffer): void {
  patchBytes(path, offset, bytes);
  patchBytes(path, OFFSET.checksum, u64(fnv1a64(readBytes(path, 0, CHECKSUM_COVERS))));
}
function editMeta(d: string, edit: (doc: Record<string, unknown>) => unknown): void {
  const doc = JSON.parse(readFileSync(metaOf(d), 'utf8')) as Record<string, unknown>;
  writeFileSync(metaOf(d), JSON.stringify(edit(doc) ?? doc));
}

/** What to do, which file the error must name, and (when not corrupt) what opening with schemas says. */
type Damage = [
  what: string,
  damage: (d: string) => void,
  file: (d: string) => string,
  withSchemas?: RondoErrorCode,
];
const slabSize = 4096 + SLOTS * (1 + MAX_SERIES) * 8;

/** Damage that overwrites the slab header at `offset` with `bytes`. */
const header = (what: string, offset: number, bytes: Buffer): Damage => [
  what,
  (d) => patchBytes(slabOf(d), offset, bytes),
  slabOf,
];
/** Damage that rewrites a header field and then a valid checksum, so only the identity check can catch it. */
const identity = (what: string, offset: number, bytes: Buffer): Damage => [
  what,
  (d) => patchWithChecksum(slabOf(d), offset, bytes),
  slabOf,
];
/** Damage to the series journal. */
const journal = (what: string, damage: (d: string) => void): Damage => [what, damage, journalOf];
/** Damage to the series list of a store turned back into format 1. */
const formatOne = (what: string, edit: (doc: Record<string, unknown>) => void): Damage => [
  what,
  (d) => writeV1(d, edit),
  metaOf,
];
/** Damage that edits the metadata document. */
const metadata = (what: string, edit: (doc: Record<string, unknown>) => void): Damage => [
  what,
  (d) => editMeta(d, edit),
  metaOf,
];

const DAMAGE: Damage[] = [
  ['slab truncated by 8 bytes', (d) => truncateSync(slabOf(d), slabSize - 8), slabOf],
  ['slab shorter than its header', (d) => truncateSync(slabOf(d), 100), slabOf],
  ['slab empty', (d) => truncateSync(slabOf(d), 0), slabOf],
  ['slab extended', (d) => truncateSync(slabOf(d), slabSize + 4096), slabOf],
  ['slab extended by one byte', (d) => truncateSync(slabOf(d), slabSize + 1), slabOf],
  header('magic overwritten', 0, Buffer.from('X')),
  header('version overwritten', OFFSET.version, u32(2)),
  header('header size overwritten', OFFSET.headerBytes, u32(8192)),
  header('slot count overwritten', OFFSET.slotCount, u32(SLOTS + 1)),
  header('capacity overwritten', OFFSET.seriesCapacity, u32(1)),
  header('checksum overwritten', OFFSET.checksum, u64(12345n)),
  header('zeroed header', 0, Buffer.alloc(HEADER_BYTES)),
  identity('slot count changed, checksum recomputed', OFFSET.slotCount, u32(SLOTS + 1)),
  identity('schema hash changed, checksum recomputed', OFFSET.schemaHash, u64(1n)),
  identity('interval changed, checksum recomputed', OFFSET.intervalNs, u64(2_000_000_000n)),
  identity('tier index changed, checksum recomputed', OFFSET.tierIndex, u32(1)),
  header('newest slot above 2^53', OFFSET.newestSlot, u64(2n ** 60n)),
  header('newest slot all ones', OFFSET.newestSlot, u64(2n ** 64n - 1n)),
  header('newest slot above 2^53 / interval', OFFSET.newestSlot, u64(10n ** 13n)),
  header('dirty-from out of range', OFFSET.dirtyFrom, u64(2n ** 63n)),
  header('consolidation mark out of range', OFFSET.consolidatedTo, u64(2n ** 62n)),
  header('series count above capacity', OFFSET.seriesCount, u32(MAX_SERIES + 1)),
  header('series count all ones', OFFSET.seriesCount, u32(0xffff_ffff)),
  ['slab missing', (d) => rmSync(slabOf(d)), slabOf],
  [
    'metadata schema edited (slab no longer matches)',
    (d) =>
      editMeta(d, (doc) => {
        (doc.schemas as { tiers: { retention: number }[] }[])[0]!.tiers[0]!.retention = 20_000;
      }),
    slabOf,
    'ERR_RONDO_SCHEMA_MISMATCH', // the options disagree with the edited metadata first
  ],
  ['metadata not JSON', (d) => writeFileSync(metaOf(d), '{"format": "rondo-store", "vers'), metaOf],
  ['metadata empty', (d) => writeFileSync(metaOf(d), ''), metaOf],
  ['metadata is null', (d) => writeFileSync(metaOf(d), 'null'), metaOf],
  ['metadata is an array', (d) => writeFileSync(metaOf(d), '[]'), metaOf],
  metadata('metadata format field wrong', (doc) => {
    doc.format = 'other';
  }),
  metadata('metadata version 3', (doc) => {
    doc.version = 3;
  }),
  metadata('metadata generation not a number', (doc) => {
    doc.generation = 'x';
  }),
  metadata('metadata schemas missing', (doc) => {
    delete doc.schemas;
  }),
  metadata('metadata schema entry null', (doc) => {
    (doc.schemas as unknown[])[0] = null;
  }),
  metadata('metadata schema invalid (maxSeries 0)', (doc) => {
    (doc.schemas as { maxSeries: number }[])[0]!.maxSeries = 0;
  }),
  journal('journal missing', (d) => rmSync(journalOf(d))),
  journal('journal empty', (d) => truncateSync(journalOf(d), 0)),
  journal('journal magic overwritten', (d) => patchBytes(journalOf(d), 0, Buffer.from('X'))),
  journal('journal version overwritten', (d) => patchBytes(journalOf(d), JOURNAL_OFFSET.version, u32(9))),
  journal('journal header checksum overwritten', (d) =>
    patchBytes(journalOf(d), JOURNAL_OFFSET.checksum, u64(1n)),
  ),
  journal('journal of other schemas', (d) => writeFileSync(journalOf(d), encodeJournalHeader(0, 12345n))),
  journal('journal: a column beyond the capacity', (d) => appendRecord(d, { handle: 7, column: MAX_SERIES })),
  journal('journal: two live series in one column', (d) => appendRecord(d, { handle: 7, column: 0 })),
  journal('journal: a handle registered twice', (d) => appendRecord(d, { handle: 1, column: 2 })),
  journal('journal: a live series registered twice', (d) =>
    appendRecord(d, { handle: 7, column: 2, name: 'a' }),
  ),
  journal('journal: an unknown schema', (d) => appendRecord(d, { handle: 7, column: 2, schema: 3 })),
  formatOne('format 1 metadata: series not an array', (doc) => {
    doc.series = {};
  }),
  formatOne('format 1 metadata: series entry null', (doc) => {
    (doc.series as unknown[])[1] = null;
  }),
  formatOne('format 1 metadata: series in an unknown schema', (doc) => {
    (doc.series as { schema: string }[])[0]!.schema = 'nope';
  }),
  formatOne('format 1 metadata: series label not a string', (doc) => {
    (doc.series as { labels: Record<string, unknown> }[])[1]!.labels.k = 5;
  }),
  formatOne('format 1 metadata: the same series twice, labels in another order', (doc) => {
    (doc.series as unknown[])[1] = { name: 'b', labels: { k: 'v' }, schema: 's', column: 1 };
    (doc.series as unknown[])[0] = { name: 'b', labels: { k: 'v' }, schema: 's', column: 0 };
  }),
  formatOne('format 1 metadata: a column beyond the capacity', (doc) => {
    (doc.series as { column: number }[])[1]!.column = MAX_SERIES;
  }),
];

describe('damaged stores are ERR_RONDO_CORRUPT, naming the file', { timeout: 30_000 }, () => {
  for (const [what, damage, file, withSchemas] of DAMAGE) {
    test(what, () => {
      const d = makeStore();
      damage(d);
      for (const options of [{}, { readOnly: true }])
        throwsCode(() => Store.open(d, options), 'ERR_RONDO_CORRUPT', file(d));
      const schemas = [oneTier('s', 1000, SLOTS, MAX_SERIES)];
      throwsCode(() => Store.open(d, { schemas }), withSchemas ?? 'ERR_RONDO_CORRUPT');
      // The failed writer opens released the lock.
      assert.equal(writerActive(d), false);
    });
  }
});

test('a slab path that is a directory is an error, not a crash', () => {
  const d = makeStore();
  rmSync(slabOf(d));
  mkdirSync(slabOf(d));
  // The same for a writer and a reader: a store file must be a regular file.
  throwsCode(() => Store.open(d).close(), 'ERR_RONDO_CORRUPT', slabOf(d), 'writer');
  throwsCode(() => Store.open(d, { readOnly: true }).close(), 'ERR_RONDO_CORRUPT', slabOf(d), 'reader');
  assert.equal(writerActive(d), false);
});

test('garbage in the timestamp column is never returned; the writer repairs it and goes on', () => {
  const d = makeStore();
  const tsAt = (pos: number): number => HEADER_BYTES + pos * 8;
  const posOf = (i: number): number => (T0 / 1000 + i) % SLOTS;
  patchBytes(slabOf(d), tsAt(posOf(2)), Buffer.alloc(8, 0xab)); // not a whole ms
  patchBytes(slabOf(d), tsAt(posOf(4)), u64(BigInt(T0 + 5000) * 1_000_000n)); // another slot's time
  patchBytes(slabOf(d), tsAt(posOf(6)), u64(1n)); // 1 ns
  const expected = [0, 1, 3, 5, 7, 8, 9];
  const reader = Store.open(d, { readOnly: true });
  assert.deepEqual(Array.from(reader.query(0).values), expected);
  assert.deepEqual(
    Array.from(reader.query(1).values),
    expected.map((v) => -v),
  );
  const writer = Store.open(d);
  assert.deepEqual(Array.from(writer.query(0).values), expected);
  assert.equal(writer.info().schemas[0]!.tiers[0]!.slotsUsed, expected.length);
  writer.record(0, 10, T0 + 10_000);
  writer.record(0, 2, T0 + 2000); // a late point into a repaired position
  assert.deepEqual(Array.from(reader.query(0).values), [1, 2, 3, 5, 7, 8, 9, 10]);
  assert.deepEqual(Array.from(reader.query(1).values), [-1, -3, -5, -7, -8, -9]);
  writer.close();
  reader.close();
  // The repair was written: the damaged positions read as empty after a reopen too.
  const again = Store.open(d, { readOnly: true });
  assert.deepEqual(Array.from(again.query(1).values), [-1, -3, -5, -7, -8, -9]);
  again.close();
  assert.equal(statSync(slabOf(d)).size, slabSize);
});
