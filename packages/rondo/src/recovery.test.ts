// Writer recovery of header fields a crash can leave half-written.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from './index.js';
import { OFFSET } from './slab.js';
import { patchBytes, readBytes, u64 } from './test-fixtures/bytes.js';
import { oneTier, scratchDirs, T0 } from './test-fixtures/helpers.js';

const scratch = scratchDirs('recovery');
const schemas = [oneTier('fast', 1, 1000, 2)];
/** The handle of the one series, x. */
const X = 0;

/** A closed store whose series x has `values[i]` at T0 + i ms; returns its directory. */
function storeWith(...values: number[]): string {
  const dir = scratch();
  const store = Store.open(dir, { schemas });
  assert.equal(store.register('x'), X);
  values.forEach((v, i) => {
    store.record(X, v, T0 + i);
  });
  store.close();
  return dir;
}

const slabOf = (dir: string): string => join(dir, 'fast.0.slab');

/** Rewrites the u64 at `offset` of `dir`'s slab header as `change` says. */
function patchU64(dir: string, offset: number, change: (v: bigint) => bigint): void {
  patchBytes(slabOf(dir), offset, u64(change(readBytes(slabOf(dir), offset, 8).readBigUInt64LE(0))));
}

test('a newest slot torn across a 2^32 boundary (low word written, high not) is raised to the stamped slot', () => {
  const dir = storeWith(1);
  // The new slot is stamped, but only the low word of the header went out: the value is low.
  patchU64(dir, OFFSET.newestSlot, (v) => v - 2n ** 32n);
  const store = Store.open(dir);
  store.record(X, 2, T0 + 5);
  assert.equal(store.stats().droppedLate, 0);
  assert.deepEqual([...store.query(X).timestamps], [T0, T0 + 5]);
  assert.deepEqual([...store.query(X).values], [1, 2]);
  assert.equal(store.info().schemas[0]!.tiers[0]!.newest, T0 + 5);
  store.close();
});

test('a writer killed after stamping a new slot but before publishing it: newest is the stamped slot', () => {
  const dir = storeWith(1, 2);
  patchU64(dir, OFFSET.newestSlot, (v) => v - 1n);
  const store = Store.open(dir);
  assert.equal(store.info().schemas[0]!.tiers[0]!.newest, T0 + 1);
  store.record(X, 3, T0);
  assert.deepEqual(
    [...store.query(X).values],
    [3, 2],
    'a point at the old newest slot is a late point, kept',
  );
  store.close();
});

test('an odd generation left by a killed writer is closed on reopen, and readers still answer', () => {
  const dir = storeWith(7);
  patchU64(dir, OFFSET.generation, (v) => v + 1n); // odd: mid-update
  const reader = Store.open(dir, { readOnly: true });
  assert.deepEqual([...reader.query(X).values], [7], 'a reader does not hang on an odd generation');
  const store = Store.open(dir);
  assert.equal(
    readBytes(slabOf(dir), OFFSET.generation, 4).readUInt32LE(0) % 2,
    0,
    'the writer made it even',
  );
  store.record(X, 8, T0 + 1);
  assert.deepEqual([...reader.query(X).values], [7, 8]);
  reader.close();
  store.close();
});

test('a damaged newest slot far ahead of the stamped slots is repaired by the writer, not obeyed', () => {
  const dir = storeWith(1);
  patchU64(dir, OFFSET.newestSlot, () => 2n ** 32n);
  const store = Store.open(dir);
  store.record(X, 2, T0 + 1);
  assert.equal(store.stats().droppedLate, 0);
  assert.deepEqual([...store.query(X).values], [1, 2]);
  store.close();
});
