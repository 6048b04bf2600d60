// Cursor files and locks when the file system says no: RondoErrors naming the path, no fd left
// open.
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CursorLocks, writeCursor } from './cursors.js';
import { native } from './native.js';
import { scratchDirs, throwsCode } from './test-fixtures/helpers.js';

const scratch = scratchDirs('cursors');

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

describe('cursor files and locks', () => {
  test('cursors/ that cannot be made is ERR_RONDO_IO naming it, for a write and a lock', () => {
    const dir = scratch();
    // A file where the cursors directory belongs.
    writeFileSync(join(dir, 'cursors'), '');
    const cursors = join(dir, 'cursors');
    throwsCode(
      () => writeCursor(dir, { format: 'rondo-cursor', version: 1, name: 'x', tiers: {} }),
      'ERR_RONDO_IO',
      cursors,
    );
    throwsCode(() => new CursorLocks().acquire(dir, 'x'), 'ERR_RONDO_IO', cursors);
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
      for (let i = 0; i < 20; i++)
        throwsCode(() => new CursorLocks().acquire(dir, 'x'), 'ERR_RONDO_IO', /flock failed/);
      assert.equal(openFds(), before);
    } finally {
      addon.lock = lock;
    }
  });
});
