// The series lifecycle through the public API of one writer: retire(), retireAfter, column reuse
// once a retired series has aged out of every tier, handles that are never re-pointed,
// registerMany's all-or-none, drain cursors across a reused column, and counters.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type SchemaConfig, type SeriesHandle, Store } from './index.js';
import { scratchDirs, throwsCode } from './test-fixtures/helpers.js';
import { at, code, flat, journalRecords, SEC, tiny } from './test-fixtures/lifecycle-common.js';

const scratch = scratchDirs('lifecycle');

/** The points of `h` in `tier` as [slot after SLOT0, value]. */
function pts(store: Store, h: SeriesHandle, tier = 0): [number, number][] {
  const r = store.query(h, { tier });
  return Array.from(r.timestamps, (t, i) => [(t - at(0)) / SEC, r.values[i]!]);
}

/** The slots (after SLOT0) at which `h` has a point in `tier`. */
function slots(store: Store, h: SeriesHandle, tier = 0): number[] {
  return pts(store, h, tier).map(([n]) => n);
}

/** Records `h` = code(serial, n) at slots `from`..`to` and consolidates after each. */
function fill(store: Store, h: SeriesHandle, serial: number, from: number, to: number): void {
  for (let n = from; n <= to; n++) {
    store.record(h, code(serial, n), at(n));
    store.consolidate();
  }
}

function retiredOf(store: Store, h: SeriesHandle): number | undefined {
  const s = store.series().find((x) => x.handle === h);
  assert.ok(s !== undefined, `series ${h} is listed`);
  return s.retired;
}

describe('retire()', () => {
  test('a retired series keeps its points in every tier until they have aged out; then its column goes to a new series', () => {
    const store = Store.open(scratch(), { schemas: [tiny('c', 2)] });
    const a = store.register('a');
    const k = store.register('k');
    for (let n = 0; n <= 3; n++) store.recordBatch([a, k], [code(1, n), code(2, n)], at(n));
    store.consolidate();
    store.retire(a);
    // retiredAt: the end of the schema's newest tier-0 slot.
    assert.equal(retiredOf(store, a), at(4));
    assert.equal(retiredOf(store, k), undefined);
    const info = store.info();
    assert.deepEqual([info.schemas[0]!.series, info.schemas[0]!.retired], [1, 1]);
    assert.deepEqual([info.seriesCount, info.retiredCount], [1, 1]);
    assert.equal(store.stats().retired, 1);

    throwsCode(() => store.record(a, 1, at(4)), 'ERR_RONDO_INVALID_HANDLE', /retired/);
    throwsCode(() => store.recordBatch([k, a], [1, 1], at(4)), 'ERR_RONDO_INVALID_HANDLE', /retired/);
    assert.deepEqual(slots(store, k), [0, 1, 2, 3], 'a refused batch writes nothing');

    // Full: a's column is still taken while any of its data is in some tier.
    const full = throwsCode(() => store.register('b'), 'ERR_RONDO_MAX_SERIES');
    assert.match(full.message, /1 retired series still hold/);
    assert.match(full.message, /retireAfter/);
    assert.match(full.message, /retire\(/);
    assert.match(full.message, /rondo migrate/);

    // Tier 0 forgets a's points at newest slot 7, tier 1 (4 windows of 2 s) at slot 10.
    fill(store, k, 2, 4, 9);
    assert.deepEqual(slots(store, a, 0), []);
    assert.deepEqual(pts(store, a, 1), [[2, code(1, 2.5)]], 'the window 2..3 is still in tier 1');
    throwsCode(() => store.register('b'), 'ERR_RONDO_MAX_SERIES', undefined, 'one window left');
    assert.equal(store.info().retiredCount, 1);

    fill(store, k, 2, 10, 10);
    // consolidate() forgot a: its column is free, its handle unknown.
    assert.deepEqual(
      store.series().map((s) => s.name),
      ['k'],
    );
    assert.equal(store.info().retiredCount, 0);
    const b = store.register('b');
    assert.ok(b > k, `new handle ${b} above every earlier one`);
    throwsCode(() => store.record(a, 1, at(10)), 'ERR_RONDO_INVALID_HANDLE', /retired/);
    throwsCode(() => store.query(a), 'ERR_RONDO_INVALID_HANDLE', /retired/);
    // The new series starts empty in every tier and owns only its own points.
    assert.deepEqual([slots(store, b, 0), slots(store, b, 1)], [[], []]);
    store.record(b, code(3, 10), at(10));
    store.record(b, code(3, 11), at(11));
    store.consolidate();
    assert.deepEqual(pts(store, b, 0), [
      [10, code(3, 10)],
      [11, code(3, 11)],
    ]);
    assert.deepEqual(pts(store, b, 1), [[10, code(3, 10.5)]]);
    store.close();
  });

  test('is idempotent, and survives reopen with its time', () => {
    const d = scratch();
    let store = Store.open(d, { schemas: [tiny('c', 2)] });
    const a = store.register('a');
    store.record(a, 1, at(0));
    store.retire(a);
    const journal = readFileSync(join(d, 'series.journal'));
    store.retire(a);
    store.retire(a);
    assert.deepEqual(readFileSync(join(d, 'series.journal')), journal, 'nothing appended');
    assert.equal(store.stats().retired, 1);
    store.close();
    store = Store.open(d);
    assert.equal(retiredOf(store, a), at(1));
    store.retire(a);
    assert.deepEqual(readFileSync(join(d, 'series.journal')), journal);
    assert.deepEqual(pts(store, a), [[0, 1]]);
    throwsCode(() => store.record(a, 2, at(1)), 'ERR_RONDO_INVALID_HANDLE', /retired/);
    store.close();
  });

  test('errors: a reader, a closed store, a handle that is not one', () => {
    const d = scratch();
    const store = Store.open(d, { schemas: [tiny('c', 2)] });
    const a = store.register('a');
    const reader = Store.open(d, { readOnly: true });
    throwsCode(() => reader.retire(a), 'ERR_RONDO_READ_ONLY', /retire/);
    reader.close();
    throwsCode(() => reader.retire(a), 'ERR_RONDO_CLOSED');
    for (const h of [a + 1, -1, 1.5, 2 ** 40, Number.NaN, '0', null]) {
      throwsCode(() => store.retire(h as SeriesHandle), 'ERR_RONDO_INVALID_HANDLE', undefined, String(h));
    }
    assert.equal(retiredOf(store, a), undefined, 'nothing retired by the failed calls');
    store.close();
    throwsCode(() => store.retire(a), 'ERR_RONDO_CLOSED');
  });

  test('a series retired before its schema has any point is free at once', () => {
    const store = Store.open(scratch(), { schemas: [tiny('c', 1)] });
    const a = store.register('a');
    store.retire(a);
    // It has no data to keep: it is forgotten at once (its retirement time would be 0).
    assert.deepEqual(store.series(), []);
    assert.equal(store.info().retiredCount, 0);
    throwsCode(() => store.record(a, 1, at(0)), 'ERR_RONDO_INVALID_HANDLE', /retired/);
    const b = store.register('b');
    assert.notEqual(b, a);
    store.record(b, 5, at(0));
    assert.deepEqual(pts(store, b), [[0, 5]]);
    throwsCode(() => store.query(a), 'ERR_RONDO_INVALID_HANDLE');
    store.close();
  });

  test('re-registering a retired name and labels gives a new series; the old data stays with the retired one', () => {
    const d = scratch();
    let store = Store.open(d, { schemas: [tiny('c', 3)] });
    const old = store.register('cpu', { host: 'a' }, { type: 'counter' });
    store.record(old, 1, at(0));
    store.record(old, 2, at(1));
    store.retire(old);
    assert.equal(store.lookup('cpu', { host: 'a' }), undefined, 'a retired series is not looked up');
    const now = store.register('cpu', { host: 'a' });
    assert.ok(now > old);
    assert.equal(store.lookup('cpu', { host: 'a' }), now);
    assert.equal(store.register('cpu', { host: 'a' }), now, 'then the live one is returned');
    store.record(now, 3, at(2));
    const check = (s: Store): void => {
      assert.deepEqual(pts(s, old), [
        [0, 1],
        [1, 2],
      ]);
      assert.deepEqual(pts(s, now), [[2, 3]]);
      assert.deepEqual(
        s.series().map((x) => [x.handle, x.name, x.labels, x.type, x.retired]),
        [
          [old, 'cpu', { host: 'a' }, 'counter', at(2)],
          [now, 'cpu', { host: 'a' }, 'gauge', undefined],
        ],
      );
    };
    check(store);
    store.close();
    store = Store.open(d);
    check(store);
    const reader = Store.open(d, { readOnly: true });
    check(reader);
    reader.close();
    store.close();
  });
});

describe('a full schema', () => {
  test('register() takes the column of a retired series once it has aged out, not before', () => {
    const store = Store.open(scratch(), { schemas: [flat('f', 3, 4)] });
    const [k, a, b] = store.registerMany([{ name: 'k' }, { name: 'a' }, { name: 'b' }]);
    store.record(k!, 0, at(0));
    store.retire(b!);
    store.record(k!, 1, at(1));
    store.retire(a!);
    throwsCode(() => store.register('x'), 'ERR_RONDO_MAX_SERIES', /2 retired series still hold/);
    for (let n = 2; n <= 4; n++) store.record(k!, n, at(n));
    // The ring holds slots 1..4: b (retired at the start of slot 1) has aged out, a (slot 2) not yet.
    const x = store.register('x');
    store.record(x, 9, at(4));
    throwsCode(() => store.register('y'), 'ERR_RONDO_MAX_SERIES', /1 retired series still hold/);
    assert.deepEqual(
      store.series().map((s) => [s.name, s.retired]),
      [
        ['k', undefined],
        ['a', at(2)],
        ['x', undefined],
      ],
    );
    store.record(k!, 5, at(5));
    const y = store.register('y');
    assert.deepEqual(new Set([k, a, b, x, y]).size, 5, 'five distinct handles');
    assert.deepEqual(pts(store, x), [[4, 9]]);
    assert.deepEqual(pts(store, y), []);
    assert.equal(store.info().schemas[0]!.series, 3);
    store.close();
  });

  test('only the schema the series routes to is looked at', () => {
    const store = Store.open(scratch(), { schemas: [flat('web', 1, 4, { job: 'web' }), flat('rest', 2, 4)] });
    const w = store.register('cpu', { job: 'web' });
    store.register('other');
    store.retire(store.register('other2'));
    throwsCode(
      () => store.register('cpu', { job: 'web', host: 'b' }),
      'ERR_RONDO_MAX_SERIES',
      /schema web is full/,
    );
    store.retire(w);
    assert.ok(store.register('cpu', { job: 'web', host: 'b' }) > w);
    store.close();
  });
});

describe('retireAfter', () => {
  const idle = (retireAfter: SchemaConfig['retireAfter']): SchemaConfig => ({
    name: 'i',
    maxSeries: 4,
    retireAfter,
    tiers: [{ interval: SEC, retention: 60 * SEC }],
  });

  test('retires a series with no point for that long of its schema time, in consolidate() only', () => {
    const store = Store.open(scratch(), { schemas: [idle('5s')] });
    const busy = store.register('busy');
    const quiet = store.register('quiet');
    for (let n = 0; n <= 9; n++) store.recordBatch([busy, quiet], [n, n], at(n));
    // record() never retires, however long a series has been idle.
    for (let n = 10; n <= 30; n++) store.record(busy, n, at(n));
    assert.deepEqual(
      store.series().map((s) => s.retired),
      [undefined, undefined],
    );
    store.record(quiet, 31, at(31));
    // quiet's last point is at slot 31: at newest slot 35 it has been idle 4 s, at 36 5 s.
    for (let n = 32; n <= 35; n++) store.record(busy, n, at(n));
    assert.equal(store.consolidate(), 0);
    assert.equal(store.info().retiredCount, 0);
    store.record(busy, 36, at(36));
    store.consolidate();
    assert.deepEqual(
      store.series().map((s) => [s.name, s.retired]),
      [
        ['busy', undefined],
        ['quiet', at(37)],
      ],
    );
    assert.equal(store.stats().retired, 1);
    throwsCode(() => store.record(quiet, 1, at(36)), 'ERR_RONDO_INVALID_HANDLE', /retired/);
    assert.equal(pts(store, quiet).length, 11, 'its points stay');
    store.close();
  });

  test('a series registered and never recorded is retired retireAfter after its registration', () => {
    const store = Store.open(scratch(), { schemas: [idle(5 * SEC)] });
    const busy = store.register('busy');
    store.record(busy, 0, at(0));
    const never = store.register('never');
    for (let n = 1; n <= 4; n++) store.record(busy, n, at(n));
    store.consolidate();
    assert.equal(retiredOf(store, never), undefined);
    store.record(busy, 5, at(5));
    store.consolidate();
    assert.equal(retiredOf(store, never), at(6));
    store.close();
  });

  test('idle time counts across reopen, from the points still in the ring', () => {
    const d = scratch();
    let store = Store.open(d, { schemas: [idle('5s')] });
    const busy = store.register('busy');
    const quiet = store.register('quiet');
    store.record(quiet, 0, at(3));
    for (let n = 0; n <= 7; n++) store.record(busy, n, at(n));
    store.close();
    store = Store.open(d);
    store.consolidate();
    assert.equal(retiredOf(store, quiet), undefined);
    store.record(busy, 8, at(8));
    store.consolidate();
    assert.equal(retiredOf(store, quiet), at(9));
    store.close();
  });

  test('a series registered before its schema had any slot is idle from the first slot, not from a ring before it', () => {
    const store = Store.open(scratch(), { schemas: [idle('5s')] });
    const [a, b] = store.registerMany([{ name: 'a' }, { name: 'b' }]);
    for (let n = 0; n <= 4; n++) {
      store.record(a!, n, at(n));
      store.consolidate();
    }
    assert.equal(retiredOf(store, b!), undefined);
    store.record(a!, 5, at(5));
    store.consolidate();
    assert.equal(retiredOf(store, b!), at(6));
    store.close();
  });

  test('a series recorded once per slot, after maintenance already ran in that slot, is not idle', () => {
    const store = Store.open(scratch(), {
      schemas: [
        {
          name: 'i',
          maxSeries: 4,
          retireAfter: '30s',
          tiers: [{ interval: 10 * SEC, retention: 600 * SEC }],
        },
      ],
    });
    const [a, b] = store.registerMany([{ name: 'a' }, { name: 'b' }]);
    for (let n = 0; n < 12; n++) {
      store.record(a!, n, at(10 * n)); // the slot begins
      store.consolidate(); // maintenance runs early in the slot
      store.record(b!, n, at(10 * n + 5)); // b reports mid-slot, every slot
    }
    store.consolidate();
    assert.equal(retiredOf(store, b!), undefined, 'b recorded in every slot');
    store.close();
  });

  test('a series whose points always arrive late (in slots maintenance has looked at) is not idle', () => {
    const store = Store.open(scratch(), { schemas: [idle('5s')] });
    const [a, b] = store.registerMany([{ name: 'a' }, { name: 'b' }]);
    for (let n = 3; n < 20; n++) {
      store.record(a!, n, at(n));
      store.record(b!, n, at(n - 3)); // three seconds behind
      store.consolidate();
    }
    assert.equal(retiredOf(store, b!), undefined, 'b recorded a point every second');
    for (let n = 20; n < 25; n++) store.record(a!, n, at(n));
    store.consolidate();
    assert.equal(retiredOf(store, b!), at(25), 'idle once its last point (slot 16) is 5 s old');
    store.close();
  });

  test('may change on reopen (not a schema mismatch); readers may pass another value', () => {
    const d = scratch();
    Store.open(d, { schemas: [idle('5s')] }).close();
    const stored = (): unknown =>
      (JSON.parse(readFileSync(join(d, 'rondo.json'), 'utf8')) as { schemas: { retireAfter?: number }[] })
        .schemas[0]!.retireAfter;
    assert.equal(stored(), 5000);
    const reader = Store.open(d, { readOnly: true, schemas: [idle('1h')] });
    assert.equal(reader.info().schemas[0]!.retireAfter, 5000, 'a reader changes nothing');
    reader.close();
    let store = Store.open(d, { schemas: [idle('1h')] });
    assert.equal(store.info().schemas[0]!.retireAfter, 3_600_000);
    store.close();
    assert.equal(stored(), 3_600_000);
    store = Store.open(d);
    assert.equal(store.info().schemas[0]!.retireAfter, 3_600_000, 'kept when opened without schemas');
    store.close();
    store = Store.open(d, { schemas: [idle(undefined)] });
    assert.equal(store.info().schemas[0]!.retireAfter, null);
    // With retireAfter gone, nothing is retired however idle.
    const a = store.register('a');
    const b = store.register('b');
    store.record(a, 0, at(0));
    store.record(b, 0, at(59));
    store.consolidate();
    assert.equal(store.info().retiredCount, 0);
    store.close();
    assert.equal(stored(), undefined);
  });
});

describe('registerMany()', () => {
  test('registers new series with one journal append, returns existing ones, and dedups', () => {
    const d = scratch();
    const store = Store.open(d, { schemas: [flat('f', 4, 4)] });
    const a = store.register('a');
    const before = journalRecords(join(d, 'series.journal')).records.length;
    const hs = store.registerMany([
      { name: 'b', labels: { x: '1' } },
      { name: 'a' },
      { name: 'c', type: 'counter' },
      { name: 'b', labels: { x: '1' } },
    ]);
    assert.equal(hs[1], a);
    assert.equal(hs[0], hs[3]);
    assert.equal(new Set(hs).size, 3);
    assert.equal(journalRecords(join(d, 'series.journal')).records.length, before + 2);
    assert.deepEqual(
      store.series().map((s) => [s.name, s.labels, s.type]),
      [
        ['a', {}, 'gauge'],
        ['b', { x: '1' }, 'gauge'],
        ['c', {}, 'counter'],
      ],
    );
    assert.deepEqual(store.registerMany([]), []);
    assert.equal(store.stats().registered, 3);
    store.close();
  });

  test('is all or none: a bad entry or a full schema registers nothing', () => {
    const d = scratch();
    const store = Store.open(d, { schemas: [flat('web', 2, 4, { job: 'web' }), flat('rest', 2, 4)] });
    store.register('x', { job: 'web' });
    const journal = readFileSync(join(d, 'series.journal'));
    const cases: [string, unknown, string][] = [
      ['bad label', [{ name: 'a' }, { name: 'b', labels: { __name: 'v' } }], 'ERR_RONDO_INVALID_LABEL'],
      ['bad name', [{ name: 'a' }, { name: '' }], 'ERR_RONDO_INVALID_LABEL'],
      ['bad type', [{ name: 'a' }, { name: 'b', type: 'histogram' }], 'ERR_RONDO_INVALID_ARGUMENT'],
      ['not an object', [{ name: 'a' }, 7], 'ERR_RONDO_INVALID_ARGUMENT'],
      ['not an array', { name: 'a' }, 'ERR_RONDO_INVALID_ARGUMENT'],
      [
        'web full',
        [{ name: 'a' }, { name: 'y', labels: { job: 'web' } }, { name: 'z', labels: { job: 'web' } }],
        'ERR_RONDO_MAX_SERIES',
      ],
      ['rest full', [{ name: 'a' }, { name: 'b' }, { name: 'c' }], 'ERR_RONDO_MAX_SERIES'],
    ];
    for (const [what, specs, code] of cases) {
      throwsCode(() => store.registerMany(specs as never), code, undefined, what);
      assert.deepEqual(readFileSync(join(d, 'series.journal')), journal, `${what}: nothing appended`);
      assert.equal(store.series().length, 1, `${what}: nothing registered`);
      assert.equal(store.lookup('a'), undefined, what);
    }
    const full = throwsCode(
      () => store.registerMany([{ name: 'a' }, { name: 'b' }, { name: 'c' }]),
      'ERR_RONDO_MAX_SERIES',
    );
    assert.match(full.message, /no room for 3 new series/);
    assert.match(full.message, /2 of its 2 columns are free/);
    // After the failures, the same store takes a batch that fits.
    const ok = store.registerMany([{ name: 'a' }, { name: 'b' }, { name: 'y', labels: { job: 'web' } }]);
    assert.equal(new Set(ok).size, 3);
    store.close();
  });

  test('fills the columns of aged-out retired series', () => {
    const store = Store.open(scratch(), { schemas: [flat('f', 4, 4)] });
    const first = store.registerMany(['a', 'b', 'c', 'k'].map((name) => ({ name })));
    for (const h of first.slice(0, 3)) store.record(h, 1, at(0));
    for (const h of first.slice(0, 3)) store.retire(h);
    throwsCode(() => store.registerMany([{ name: 'd' }]), 'ERR_RONDO_MAX_SERIES');
    for (let n = 1; n <= 4; n++) store.record(first[3]!, n, at(n));
    throwsCode(
      () => store.registerMany(['d', 'e', 'f', 'g'].map((name) => ({ name }))),
      'ERR_RONDO_MAX_SERIES',
    );
    const again = store.registerMany(['a', 'b', 'c'].map((name) => ({ name })));
    assert.ok(Math.min(...again) > Math.max(...first), 'new handles');
    for (const h of again) assert.deepEqual(pts(store, h), []);
    store.close();
  });
});

describe('drain cursors across a reused column', () => {
  /** Drains cursor `name` of `s` and commits; returns [name, labels.v, slot, value] per point. */
  function ship(s: Store, name: string, includeOpen = false): [string, string, number, number][] {
    const batch = s.drain(name, { includeOpen });
    batch.commit();
    return batch.series.flatMap((x) =>
      Array.from(x.timestamps, (t, i): [string, string, number, number] => [
        x.name,
        x.labels['v'] ?? '',
        (t - at(0)) / SEC,
        x.values[i]!,
      ]),
    );
  }

  test('the new series drains from its own first point; nothing of the old one is shipped under its labels', () => {
    const d = scratch();
    const store = Store.open(d, { schemas: [tiny('c', 2)] });
    const reader = Store.open(d, { readOnly: true });
    const serial: Record<string, number> = { old: 1, k: 2, new: 3 };
    const shipped: Record<string, [string, string, number, number][]> = { w: [], rd: [] };
    const drainBoth = (includeOpen = false): void => {
      shipped['w']!.push(...ship(store, 'w', includeOpen));
      shipped['rd']!.push(...ship(reader, 'rd', includeOpen));
    };
    const r = store.register('r', { v: 'old' });
    const k = store.register('k', { v: 'k' });
    for (let n = 0; n <= 4; n++) {
      store.recordBatch([r, k], [code(1, n), code(2, n)], at(n));
      if (n === 3) drainBoth();
    }
    store.retire(r); // at slot 5
    fill(store, k, 2, 5, 6);
    shipped['w']!.push(...ship(store, 'w'));
    fill(store, k, 2, 7, 9);
    shipped['w']!.push(...ship(store, 'w'));
    fill(store, k, 2, 10, 12);
    // r has aged out of both tiers: its column goes to a series with the same name.
    const n = store.register('r', { v: 'new' });
    assert.ok(n > k);
    const cursorFile = (): Record<string, number> =>
      (
        JSON.parse(readFileSync(join(d, 'cursors', 'w.json'), 'utf8')) as {
          tiers: Record<string, { schemas: Record<string, { next: Record<string, number> }> }>;
        }
      ).tiers['0']!.schemas['c']!.next;
    assert.ok(String(r) in cursorFile(), 'the old series still has its position');
    store.record(n, code(3, 10), at(10)); // late, but still in the rings
    store.record(n, code(3, 12), at(12));
    drainBoth();
    assert.equal(String(r) in cursorFile(), false, "a forgotten series' position is dropped");
    store.record(n, code(3, 13), at(13));
    fill(store, k, 2, 13, 14);
    drainBoth();
    drainBoth(true);
    for (const [cursor, points] of Object.entries(shipped)) {
      for (const [name, v, slot, value] of points) {
        assert.equal(value, code(serial[v]!, slot), `${cursor}: ${name}{v=${v}} at ${slot} = ${value}`);
      }
      const of = (v: string): number[] => points.filter((p) => p[1] === v).map((p) => p[2]);
      assert.deepEqual(of('new'), [10, 12, 13], `${cursor}: every point of the new series, once`);
    }
    const of = (v: string): number[] => shipped['w']!.filter((p) => p[1] === v).map((p) => p[2]);
    assert.deepEqual(of('old'), [0, 1, 2, 3, 4], 'the writer drained the old series to its retirement');
    assert.deepEqual(of('k'), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    reader.close();
    store.close();
  });
});

describe('counters', () => {
  for (const fn of ['avg', 'min', 'max', 'sum', 'count'] as const) {
    test(`a counter's coarse tier keeps each window's last value where the schema says ${fn}`, () => {
      const store = Store.open(scratch(), { schemas: [tiny('c', 2, { consolidation: fn })] });
      const c = store.register('c', {}, { type: 'counter' });
      const g = store.register('g');
      const values = [5, 3, 7, 9];
      values.forEach((v, n) => {
        store.recordBatch([c, g], [v, v], at(n));
      });
      store.consolidate();
      const want = { avg: [4, 8], min: [3, 7], max: [5, 9], sum: [8, 16], count: [2, 2] }[fn];
      assert.deepEqual(pts(store, c, 1), [
        [0, 3],
        [2, 9],
      ]);
      assert.deepEqual(pts(store, g, 1), [
        [0, want[0]!],
        [2, want[1]!],
      ]);
      store.close();
    });
  }

  test('the type is listed, kept across reopen (writer and reader), and follows a reused column', () => {
    const d = scratch();
    let store = Store.open(d, { schemas: [tiny('c', 2)] });
    const k = store.register('k');
    const c = store.register('c', {}, { type: 'counter' });
    assert.throws(() => store.register('x', {}, { type: 'histogram' as 'counter' }), /type must be/);
    throwsCode(() => store.register('x', {}, null as never), 'ERR_RONDO_INVALID_ARGUMENT');
    const types = (s: Store): [string, string][] => s.series().map((x) => [x.name, x.type]);
    assert.deepEqual(types(store), [
      ['k', 'gauge'],
      ['c', 'counter'],
    ]);
    store.recordBatch([k, c], [5, 5], at(0));
    store.close();
    store = Store.open(d);
    const reader = Store.open(d, { readOnly: true });
    assert.deepEqual(types(reader), types(store));
    store.recordBatch([k, c], [3, 3], at(1));
    store.consolidate();
    assert.deepEqual(pts(store, c, 1), [[0, 3]], 'still a counter after reopen');
    assert.deepEqual(pts(reader, c, 1), [[0, 3]]);
    // The counter's column goes to a gauge, then to a counter again.
    store.retire(c);
    fill(store, k, 0, 2, 8);
    const g = store.register('g');
    store.recordBatch([k, g], [5, 5], at(8));
    store.recordBatch([k, g], [3, 3], at(9));
    store.consolidate();
    assert.deepEqual(pts(store, g, 1), [[8, 4]], 'a gauge in the column averages');
    store.retire(g);
    fill(store, k, 0, 10, 16);
    const c2 = store.register('c2', {}, { type: 'counter' });
    store.recordBatch([k, c2], [5, 5], at(16));
    store.recordBatch([k, c2], [3, 3], at(17));
    store.consolidate();
    assert.deepEqual(pts(store, c2, 1), [[16, 3]], 'a counter in the column keeps the last value');
    assert.deepEqual(types(reader), [
      ['k', 'gauge'],
      ['c2', 'counter'],
    ]);
    reader.close();
    store.close();
  });
});
