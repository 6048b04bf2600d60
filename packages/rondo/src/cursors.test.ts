// Cursor files and locks when the file system says no: RondoErrors naming the path, no fd left
// open; and cursor files that are damaged or edited by hand.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CursorLocks, writeCursor } from './cursors.js';
import { Store } from './index.js';
import { native } from './native.js';
import { oneTier, scratchDirs, T0, throwsCode } from './test-fixtures/helpers.js';

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

describe('cursor files are checked, never trusted', () => {
  const schemas = [oneTier('s', 1000, 60)];
  /** A store with one series, 5 points, and a cursor `c` committed once. */
  function withCursor(): string {
    const d = scratch();
    const store = Store.open(d, { schemas });
    const h = store.register('m');
    for (let i = 0; i < 5; i++) store.record(h, i, T0 + i * 1000);
    store.drain('c', { includeOpen: true }).commit();
    store.close();
    return d;
  }
  const cursorFile = (d: string): string => join(d, 'cursors', 'c.json');
  const edit = (d: string, f: (doc: Record<string, unknown>) => void): void => {
    const doc = JSON.parse(readFileSync(cursorFile(d), 'utf8')) as Record<string, unknown>;
    f(doc);
    writeFileSync(cursorFile(d), JSON.stringify(doc));
  };

  test("a cursor's name field never picks the file a commit writes", () => {
    for (const name of ['../rondo', 'other', '', null]) {
      const d = withCursor();
      const meta = readFileSync(join(d, 'rondo.json'), 'utf8');
      edit(d, (doc) => {
        doc.name = name;
      });
      const store = Store.open(d);
      store.record(0, 9, T0 + 10_000);
      const batch = store.drain('c', { includeOpen: true });
      assert.equal(batch.samples, 1, `name ${JSON.stringify(name)}: only the new point`);
      batch.commit();
      assert.equal(store.drain('c', { includeOpen: true }).samples, 0, 'committed: not delivered again');
      store.close();
      assert.equal(readFileSync(join(d, 'rondo.json'), 'utf8'), meta, 'rondo.json untouched');
      assert.deepEqual(readdirSync(join(d, 'cursors')).sort(), ['c.json', 'c.lock']);
      assert.equal(JSON.parse(readFileSync(cursorFile(d), 'utf8')).name, 'c');
    }
  });

  test('every malformed field is ERR_RONDO_CORRUPT naming the file, never a TypeError or lost positions', () => {
    const damage: [string, (doc: Record<string, unknown>) => void][] = [
      ['tiers null', (doc) => (doc.tiers = null)],
      ['tiers an array', (doc) => (doc.tiers = [])],
      ['a tier null', (doc) => ((doc.tiers as Record<string, unknown>)['0'] = null)],
      [
        'a tier keyed by a word',
        (doc) => ((doc.tiers as Record<string, unknown>).x = (doc.tiers as Record<string, unknown>)['0']),
      ],
      [
        'schemas an array',
        (doc) => ((doc.tiers as Record<string, Record<string, unknown>>)['0']!.schemas = []),
      ],
      [
        'schemas null',
        (doc) => ((doc.tiers as Record<string, Record<string, unknown>>)['0']!.schemas = null),
      ],
      [
        'generation null',
        (doc) => ((doc.tiers as Record<string, Record<string, unknown>>)['0']!.generation = null),
      ],
      [
        'generation negative',
        (doc) => ((doc.tiers as Record<string, Record<string, unknown>>)['0']!.generation = -1),
      ],
      [
        'pending without ends',
        (doc) => ((doc.tiers as Record<string, Record<string, unknown>>)['0']!.pending = { base: 1 }),
      ],
      [
        'next null',
        (doc) =>
          ((doc.tiers as Record<string, Record<string, Record<string, Record<string, unknown>>>>)['0']!
            .schemas!.s!.next = null),
      ],
      [
        'a position a string',
        (doc) =>
          ((doc.tiers as Record<string, Record<string, Record<string, Record<string, unknown>>>>)['0']!
            .schemas!.s!.next = { 0: '5' }),
      ],
      [
        'a position keyed by a word',
        (doc) =>
          ((doc.tiers as Record<string, Record<string, Record<string, Record<string, unknown>>>>)['0']!
            .schemas!.s!.next = { x: 5 }),
      ],
      [
        'interval 0',
        (doc) =>
          ((doc.tiers as Record<string, Record<string, Record<string, Record<string, unknown>>>>)['0']!
            .schemas!.s!.interval = 0),
      ],
      ['format missing', (doc) => delete doc.format],
      ['format a number', (doc) => Object.assign(doc, { format: 5 })],
    ];
    for (const [what, f] of damage) {
      const d = withCursor();
      edit(d, f);
      const store = Store.open(d, { readOnly: true });
      try {
        throwsCode(() => store.drain('c'), 'ERR_RONDO_CORRUPT', cursorFile(d), what);
      } finally {
        store.close();
      }
    }
    // Documents that are JSON but not an object at all.
    for (const text of ['5', '[]', 'null', '"c"', 'true']) {
      const d = withCursor();
      writeFileSync(cursorFile(d), text);
      const store = Store.open(d, { readOnly: true });
      try {
        throwsCode(
          () => store.drain('c'),
          'ERR_RONDO_CORRUPT',
          cursorFile(d),
          `a cursor file holding ${text}`,
        );
      } finally {
        store.close();
      }
    }
  });

  test('schemas named constructor, toString or __proto__ drain and commit like any other', () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const d = scratch();
      const store = Store.open(d, { schemas: [oneTier(name, 1000, 60)] });
      const h = store.register('m');
      for (let i = 0; i < 3; i++) store.record(h, i, T0 + i * 1000);
      const first = store.drain('x', { includeOpen: true });
      assert.equal(first.samples, 3, name);
      first.commit();
      store.record(h, 3, T0 + 3000);
      const second = store.drain('x', { includeOpen: true });
      assert.deepEqual([...second.series[0]!.values], [3], `${name}: only the new point`);
      second.commit();
      store.close();
      const again = Store.open(d);
      assert.equal(again.drain('x', { includeOpen: true }).samples, 0, `${name}: positions survive reopen`);
      again.close();
    }
  });
});
