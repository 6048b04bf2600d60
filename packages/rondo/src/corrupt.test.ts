// Damaged stores: every kind of damage is ERR_RONDO_CORRUPT naming the file, for writers and
// readers, never a crash or a hang, and a failed open leaves no lock behind.
import assert from 'node:assert/strict';
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { RondoErrorCode } from './errors.js';
import { fnv1a64 } from './hash.js';
import { Store, writerActive } from './index.js';
import { CHECKSUM_COVERS, HEADER_BYTES, OFFSET } from './slab.js';
import { oneTier, scratchDirs, throwsCode } from './test-fixtures/helpers.js';

const T0 = 1_700_000_000_000;
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

function patch(path: string, offset: number, bytes: Buffer): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}
function u64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
}
/** Rewrites a header field and then a valid checksum, so only the identity check can catch it. */
function patchWithChecksum(path: string, offset: number, bytes: Buffer): void {
  patch(path, offset, bytes);
  const head = Buffer.alloc(HEADER_BYTES);
  const fd = openSync(path, 'r');
  readSync(fd, head, 0, HEADER_BYTES, 0);
  closeSync(fd);
  patch(path, OFFSET.checksum, u64(fnv1a64(head.subarray(0, CHECKSUM_COVERS))));
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

const DAMAGE: Damage[] = [
  ['slab truncated by 8 bytes', (d) => truncateSync(slabOf(d), slabSize - 8), slabOf],
  ['slab shorter than its header', (d) => truncateSync(slabOf(d), 100), slabOf],
  ['slab empty', (d) => truncateSync(slabOf(d), 0), slabOf],
  ['slab extended', (d) => truncateSync(slabOf(d), slabSize + 4096), slabOf],
  ['slab extended by one byte', (d) => truncateSync(slabOf(d), slabSize + 1), slabOf],
  ['magic overwritten', (d) => patch(slabOf(d), 0, Buffer.from('X')), slabOf],
  ['version overwritten', (d) => patch(slabOf(d), OFFSET.version, u32(2)), slabOf],
  ['header size overwritten', (d) => patch(slabOf(d), OFFSET.headerBytes, u32(8192)), slabOf],
  ['slot count overwritten', (d) => patch(slabOf(d), OFFSET.slotCount, u32(SLOTS + 1)), slabOf],
  ['capacity overwritten', (d) => patch(slabOf(d), OFFSET.seriesCapacity, u32(1)), slabOf],
  ['checksum overwritten', (d) => patch(slabOf(d), OFFSET.checksum, u64(12345n)), slabOf],
  ['zeroed header', (d) => patch(slabOf(d), 0, Buffer.alloc(HEADER_BYTES)), slabOf],
  [
    'slot count changed, checksum recomputed',
    (d) => patchWithChecksum(slabOf(d), OFFSET.slotCount, u32(SLOTS + 1)),
    slabOf,
  ],
  [
    'schema hash changed, checksum recomputed',
    (d) => patchWithChecksum(slabOf(d), OFFSET.schemaHash, u64(1n)),
    slabOf,
  ],
  [
    'interval changed, checksum recomputed',
    (d) => patchWithChecksum(slabOf(d), OFFSET.intervalNs, u64(2_000_000_000n)),
    slabOf,
  ],
  [
    'tier index changed, checksum recomputed',
    (d) => patchWithChecksum(slabOf(d), OFFSET.tierIndex, u32(1)),
    slabOf,
  ],
  ['newest slot above 2^53', (d) => patch(slabOf(d), OFFSET.newestSlot, u64(2n ** 60n)), slabOf],
  ['newest slot all ones', (d) => patch(slabOf(d), OFFSET.newestSlot, u64(2n ** 64n - 1n)), slabOf],
  ['newest slot above 2^53 / interval', (d) => patch(slabOf(d), OFFSET.newestSlot, u64(10n ** 13n)), slabOf],
  ['dirty-from out of range', (d) => patch(slabOf(d), OFFSET.dirtyFrom, u64(2n ** 63n)), slabOf],
  ['consolidation mark out of range', (d) => patch(slabOf(d), OFFSET.consolidatedTo, u64(2n ** 62n)), slabOf],
  ['series count above capacity', (d) => patch(slabOf(d), OFFSET.seriesCount, u32(MAX_SERIES + 1)), slabOf],
  ['series count all ones', (d) => patch(slabOf(d), OFFSET.seriesCount, u32(0xffff_ffff)), slabOf],
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
  [
    'metadata format field wrong',
    (d) =>
      editMeta(d, (doc) => {
        doc.format = 'other';
      }),
    metaOf,
  ],
  [
    'metadata version 2',
    (d) =>
      editMeta(d, (doc) => {
        doc.version = 2;
      }),
    metaOf,
  ],
  [
    'metadata series not an array',
    (d) =>
      editMeta(d, (doc) => {
        doc.series = {};
      }),
    metaOf,
  ],
  [
    'metadata schemas missing',
    (d) =>
      editMeta(d, (doc) => {
        delete doc.schemas;
      }),
    metaOf,
  ],
  [
    'metadata schema entry null',
    (d) =>
      editMeta(d, (doc) => {
        (doc.schemas as unknown[])[0] = null;
      }),
    metaOf,
  ],
  [
    'metadata schema invalid (maxSeries 0)',
    (d) =>
      editMeta(d, (doc) => {
        (doc.schemas as { maxSeries: number }[])[0]!.maxSeries = 0;
      }),
    metaOf,
  ],
  [
    'metadata series entry null',
    (d) =>
      editMeta(d, (doc) => {
        (doc.series as unknown[])[1] = null;
      }),
    metaOf,
  ],
  [
    'metadata series columns out of order',
    (d) =>
      editMeta(d, (doc) => {
        (doc.series as { column: number }[])[1]!.column = 2;
      }),
    metaOf,
  ],
  [
    'metadata series in an unknown schema',
    (d) =>
      editMeta(d, (doc) => {
        (doc.series as { schema: string }[])[0]!.schema = 'nope';
      }),
    metaOf,
  ],
  [
    'metadata series label not a string',
    (d) =>
      editMeta(d, (doc) => {
        (doc.series as { labels: Record<string, unknown> }[])[1]!.labels.k = 5;
      }),
    metaOf,
  ],
  [
    'metadata with more series than the capacity',
    (d) =>
      editMeta(d, (doc) => {
        const series = doc.series as unknown[];
        for (let c = 2; c <= MAX_SERIES; c++)
          series.push({ name: `x${c}`, labels: {}, schema: 's', column: c });
      }),
    metaOf,
  ],
];

describe('damaged stores are ERR_RONDO_CORRUPT, naming the file', { timeout: 30_000 }, () => {
  for (const [what, damage, file, withSchemas] of DAMAGE) {
    test(what, () => {
      const d = makeStore();
      damage(d);
      for (const options of [{}, { readOnly: true }]) {
        const err = throwsCode(() => Store.open(d, options), 'ERR_RONDO_CORRUPT');
        assert.ok(err.message.includes(file(d)), `"${err.message}" names ${file(d)}`);
      }
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
  for (const options of [{}, { readOnly: true }]) {
    let thrown: unknown;
    try {
      Store.open(d, options).close();
    } catch (err) {
      thrown = err;
    }
    assert.ok(
      thrown instanceof Error && 'code' in thrown && String(thrown.code).startsWith('ERR_RONDO_'),
      String(thrown),
    );
    assert.ok((thrown as Error).message.includes(slabOf(d)));
  }
  assert.equal(writerActive(d), false);
});

test('garbage in the timestamp column is never returned; the writer repairs it and goes on', () => {
  const d = makeStore();
  const tsAt = (pos: number): number => HEADER_BYTES + pos * 8;
  const posOf = (i: number): number => (T0 / 1000 + i) % SLOTS;
  patch(slabOf(d), tsAt(posOf(2)), Buffer.alloc(8, 0xab)); // not a whole ms
  patch(slabOf(d), tsAt(posOf(4)), u64(BigInt(T0 + 5000) * 1_000_000n)); // another slot's time
  patch(slabOf(d), tsAt(posOf(6)), u64(1n)); // 1 ns
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
