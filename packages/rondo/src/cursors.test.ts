// Cursor files and locks when the file system says no: RondoErrors naming the path, no fd left
// open; and a drain that reads a writer's own rings without the reader's seqlock.
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CursorLocks, writeCursor } from './cursors.js';
import { isRondoError } from './errors.js';
import { native } from './native.js';
import { Ring } from './ring.js';
import { Store } from './store.js';
import { scratchDirs } from './test-fixtures/helpers.js';

const scratch = scratchDirs('cursors');
const T0 = 1_700_000_000_000;

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

describe('cursor files and locks', () => {
  test('cursors/ that cannot be made is ERR_RONDO_IO naming it, for a write and a lock', () => {
    const dir = scratch();
    // A file where the cursors directory belongs.
    writeFileSync(join(dir, 'cursors'), '');
    const named = (e: unknown) => isRondoError(e, 'ERR_RONDO_IO') && e.message.includes(join(dir, 'cursors'));
    assert.throws(
      () => writeCursor(dir, { format: 'rondo-cursor', version: 1, name: 'x', tiers: {} }),
      named,
    );
    assert.throws(() => new CursorLocks().acquire(dir, 'x'), named);
  });

  test('a lock that fails in the addon closes the file it opened', {
    skip: process.platform !== 'linux',
  }, () => {
    const dir = scratch();
    const addon = native();
    const lock = addon.lock;
    addon.lock = () => {
      throw new Error('flock failed');
    };
    try {
      const before = openFds();
      for (let i = 0; i < 20; i++) assert.throws(() => new CursorLocks().acquire(dir, 'x'), /flock failed/);
      assert.equal(openFds(), before);
    } finally {
      addon.lock = lock;
    }
  });
});

describe('drain reads', () => {
  test('a writer reads its own rings plainly; a reader uses the concurrent (seqlock) read', () => {
    const dir = scratch();
    const writer = Store.open(dir, {
      schemas: [{ name: 's', maxSeries: 4, tiers: [{ interval: 1000, retention: 60_000 }] }],
    });
    const read = Ring.prototype.read;
    const seen: (boolean | undefined)[] = [];
    Ring.prototype.read = function (this: Ring, ...args: Parameters<Ring['read']>) {
      seen.push(args[4]);
      return read.apply(this, args);
    };
    try {
      const h = writer.register('m');
      for (let i = 0; i < 3; i++) writer.record(h, i, T0 + i * 1000);
      writer.drain('w').commit();
      assert.deepEqual(seen, [false]);
      writer.record(h, 3, T0 + 3000);
      const reader = Store.open(dir, { readOnly: true });
      try {
        seen.length = 0;
        reader.drain('r');
        assert.deepEqual(seen, [true]);
      } finally {
        reader.close();
      }
    } finally {
      Ring.prototype.read = read;
      writer.close();
    }
  });
});
