// Writer recovery of header fields a crash can leave half-written.
import assert from 'node:assert/strict';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from './index.js';
import { OFFSET } from './slab.js';
import { scratchDirs, T0 } from './test-fixtures/helpers.js';

const scratch = scratchDirs('recovery');
const schemas = [{ name: 'fast', maxSeries: 2, tiers: [{ interval: 1, retention: 1000 }] }];

function patchU64(path: string, offset: number, change: (v: bigint) => bigint): void {
  const fd = openSync(path, 'r+');
  try {
    const b = Buffer.alloc(8);
    readSync(fd, b, 0, 8, offset);
    b.writeBigUInt64LE(change(b.readBigUInt64LE(0)));
    writeSync(fd, b, 0, 8, offset);
  } finally {
    closeSync(fd);
  }
}

test('a newest slot torn across a 2^32 boundary (low word written, high not) is raised to the stamped slot', () => {
  const dir = scratch();
  let store = Store.open(dir, { schemas });
  const h = store.register('x');
  store.record(h, 1, T0);
  store.close();
  // The new slot is stamped, but only the low word of the header went out: the value is low.
  patchU64(join(dir, 'fast.0.slab'), OFFSET.newestSlot, (v) => v - 2n ** 32n);
  store = Store.open(dir);
  store.record(h, 2, T0 + 5);
  assert.equal(store.stats().droppedLate, 0);
  assert.deepEqual([...store.query(h).timestamps], [T0, T0 + 5]);
  assert.deepEqual([...store.query(h).values], [1, 2]);
  assert.equal(store.info().schemas[0]!.tiers[0]!.newest, T0 + 5);
  store.close();
});

test('a writer killed after stamping a new slot but before publishing it: newest is the stamped slot', () => {
  const dir = scratch();
  let store = Store.open(dir, { schemas });
  const h = store.register('x');
  store.record(h, 1, T0);
  store.record(h, 2, T0 + 1);
  store.close();
  patchU64(join(dir, 'fast.0.slab'), OFFSET.newestSlot, (v) => v - 1n);
  store = Store.open(dir);
  assert.equal(store.info().schemas[0]!.tiers[0]!.newest, T0 + 1);
  store.record(h, 3, T0);
  assert.deepEqual(
    [...store.query(h).values],
    [3, 2],
    'a point at the old newest slot is a late point, kept',
  );
  store.close();
});

test('an odd generation left by a killed writer is closed on reopen, and readers still answer', () => {
  const dir = scratch();
  let store = Store.open(dir, { schemas });
  const h = store.register('x');
  store.record(h, 7, T0);
  store.close();
  patchU64(join(dir, 'fast.0.slab'), OFFSET.generation, (v) => v + 1n); // odd: mid-update
  const reader = Store.open(dir, { readOnly: true });
  assert.deepEqual([...reader.query(h).values], [7], 'a reader does not hang on an odd generation');
  store = Store.open(dir);
  const buf = Buffer.alloc(4);
  const fd = openSync(join(dir, 'fast.0.slab'), 'r');
  readSync(fd, buf, 0, 4, OFFSET.generation);
  closeSync(fd);
  assert.equal(buf.readUInt32LE(0) % 2, 0, 'the writer made it even');
  store.record(h, 8, T0 + 1);
  assert.deepEqual([...reader.query(h).values], [7, 8]);
  reader.close();
  store.close();
});

test('a damaged newest slot far ahead of the stamped slots is repaired by the writer, not obeyed', () => {
  const dir = scratch();
  let store = Store.open(dir, { schemas });
  const h = store.register('x');
  store.record(h, 1, T0);
  store.close();
  patchU64(join(dir, 'fast.0.slab'), OFFSET.newestSlot, () => 2n ** 32n);
  store = Store.open(dir);
  store.record(h, 2, T0 + 1);
  assert.equal(store.stats().droppedLate, 0);
  assert.deepEqual([...store.query(h).values], [1, 2]);
  store.close();
});
