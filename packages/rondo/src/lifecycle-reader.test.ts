// Readers across the series lifecycle: a reader's catalogue follows the writer (new series,
// retirements, reused columns, compactions) by reading only what was appended; and a reader never
// returns a point of one series under another's name, in this process or beside a writer process
// that churns series on tiny rings and is SIGKILLed in the middle of it.
import assert from 'node:assert/strict';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setImmediate as yieldNow } from 'node:timers/promises';
import { JOURNAL_HEADER_BYTES, JOURNAL_OFFSET } from './catalog/journal.js';
import { SeriesLog } from './catalog/series-log.js';
import { type SeriesHandle, Store } from './index.js';
import { Ring } from './ring.js';
import { patchBytes, readBytes } from './test-fixtures/bytes.js';
import { scratchDirs, throwsCode } from './test-fixtures/helpers.js';
import {
  assertOwnPoints,
  at,
  code,
  flat,
  journalRecords,
  serialOf,
  tiny,
} from './test-fixtures/lifecycle-common.js';
import { ChildPool } from './test-fixtures/lifecycle-spawn.js';

const scratch = scratchDirs('lifecycle-reader');

/** Handle, name and retirement of every series `s` lists. */
function listing(s: Store): [SeriesHandle, string, number | undefined][] {
  return s.series().map((x) => [x.handle, x.name, x.retired]);
}

/** The schemas of the in-process tests: `g` (label g=1) for churn, `f` for the rest. */
const SCHEMAS = [flat('g', 64, 4, { g: '1' }), flat('f', 4, 4)];

/**
 * Churns `count` series through schema g, 63 at a time (one fsync per batch, for the retirements
 * before their columns are reused): each is registered, recorded, retired and aged out (series
 * `keepG` moves g's time on). Returns the slot reached; pushes the handles given to `given`.
 */
function churnThrough(store: Store, slot: number, count: number, given: number[] = []): number {
  const keep = store.register('keepG', { g: '1' });
  for (let done = 0; done < count; slot += 5) {
    const n = Math.min(63, count - done);
    const hs = store.registerMany(
      Array.from({ length: n }, (_, i) => ({ name: `gone${slot}_${i}`, labels: { g: '1' } })),
    );
    for (const h of hs) store.record(h, code(h, slot), at(slot));
    for (const h of hs) store.retire(h);
    // Four slots on, the ring (4 slots) no longer holds their points.
    for (let k = 1; k <= 4; k++) store.record(keep, code(keep, slot + k), at(slot + k));
    store.consolidate();
    given.push(...hs);
    done += n;
  }
  return slot;
}

/**
 * Holds the journal file at `path` open, so that its inode cannot be given to a file created
 * later (comparing inode numbers alone is flaky: a compaction's new file may get a freed one);
 * `replaced()` is true once the path names another file (a compaction renamed one over it).
 */
function holdJournal(path: string): { replaced(): boolean } {
  const fd = openSync(path, 'r');
  after(() => closeSync(fd));
  return { replaced: () => fstatSync(fd).nlink === 0 };
}

describe('a reader in this process', () => {
  test('a series registered while a reader opens is found by that reader', () => {
    const d = scratch();
    const w = Store.open(d, { schemas: SCHEMAS });
    w.register('before');
    // The registration lands while the opening reader reads the journal (after the file was
    // read, before the open finished): the reader's first look must pick it up.
    const real = SeriesLog.open;
    let late: SeriesHandle | undefined;
    SeriesLog.open = (...args: Parameters<typeof SeriesLog.open>) => {
      const opened = real.apply(SeriesLog, args);
      if (late === undefined) late = w.register('late');
      return opened;
    };
    let r: Store;
    try {
      r = Store.open(d, { readOnly: true });
    } finally {
      SeriesLog.open = real;
    }
    assert.ok(late !== undefined);
    assert.equal(r.lookup('late'), late);
    assert.deepEqual(listing(r), listing(w));
    r.close();
    w.close();
  });

  test('follows new series, retirements and reuse by reading only what was appended', () => {
    const d = scratch();
    const journal = join(d, 'series.journal');
    const w = Store.open(d, { schemas: [tiny('c', 3)] });
    const a = w.register('a');
    const k = w.register('k');
    const r = Store.open(d, { readOnly: true });
    assert.deepEqual(listing(r), listing(w));
    // Damage a's record: a reader that read the journal again from the start would stop there.
    const crcAt = JOURNAL_HEADER_BYTES + 4;
    const crc = readBytes(journal, crcAt, 4);
    patchBytes(journal, crcAt, Buffer.from([crc[0]! ^ 0xff, crc[1]!, crc[2]!, crc[3]!]));
    const b = w.register('b', {}, { type: 'counter' });
    for (let n = 0; n <= 3; n++) w.recordBatch([a, k, b], [code(a, n), code(k, n), code(b, n)], at(n));
    assert.equal(r.lookup('b'), b);
    w.retire(a);
    assert.deepEqual(listing(r), listing(w));
    assert.deepEqual(
      r.series().map((x) => x.type),
      ['gauge', 'gauge', 'counter'],
    );
    assert.deepEqual([r.info().seriesCount, r.info().retiredCount], [2, 1]);
    throwsCode(() => w.register('c'), 'ERR_RONDO_MAX_SERIES');
    for (let n = 4; n <= 10; n++) {
      w.recordBatch([k, b], [code(k, n), code(b, n)], at(n));
      w.consolidate();
    }
    const c = w.register('c');
    w.record(c, code(c, 10), at(10));
    w.consolidate();
    assert.deepEqual(listing(r), listing(w));
    assert.deepEqual(listing(r), [
      [k, 'k', undefined],
      [b, 'b', undefined],
      [c, 'c', undefined],
    ]);
    throwsCode(() => r.query(a), 'ERR_RONDO_INVALID_HANDLE', /retired/);
    assert.equal(assertOwnPoints(r, c), 2);
    for (const h of [k, b]) assertOwnPoints(r, h);
    patchBytes(journal, crcAt, crc);
    r.close();
    w.close();
  });

  test('a reader opened before a compaction keeps working after it, and then reads only what is appended', () => {
    const d = scratch();
    const journal = join(d, 'series.journal');
    const w = Store.open(d, { schemas: SCHEMAS });
    const keep = w.register('keep');
    w.record(keep, code(keep, 0), at(0));
    const r = Store.open(d, { readOnly: true });
    const first = holdJournal(journal);
    // The writer compacts once dead records exceed max(1024, 2 × current): 513 forgotten series.
    let slot = churnThrough(w, 0, 520);
    assert.ok(first.replaced(), 'the journal was replaced');
    const floor = readFileSync(journal).readDoubleLE(JOURNAL_OFFSET.handleFloor);
    assert.ok(floor > 500, `handle floor ${floor}`);
    const { records } = journalRecords(journal);
    assert.ok(records.length < 30, `${records.length} records after compaction`);
    assert.deepEqual(listing(r), listing(w));
    assert.equal(assertOwnPoints(r, keep), 1);
    throwsCode(() => r.query(keep + 2), 'ERR_RONDO_INVALID_HANDLE', /retired/);
    // After the compaction: new series get handles above every handle ever given, and the reader
    // follows appends to the new file without reading it again (its first record is damaged now).
    const x = w.register('x');
    assert.ok(x >= floor);
    assert.equal(r.lookup('x'), x);
    const crcAt = JOURNAL_HEADER_BYTES + 4;
    const crc = readBytes(journal, crcAt, 4);
    patchBytes(journal, crcAt, Buffer.from([crc[0]! ^ 0xff, crc[1]!, crc[2]!, crc[3]!]));
    w.retire(x);
    const y = w.register('y');
    assert.deepEqual(listing(r), listing(w));
    assert.equal(r.lookup('y'), y);
    patchBytes(journal, crcAt, crc);
    // A second compaction with this reader still open.
    const given: number[] = [];
    const second = holdJournal(journal);
    slot = churnThrough(w, slot, 520, given);
    assert.ok(second.replaced(), 'compacted again');
    assert.deepEqual(listing(r), listing(w));
    const late = Store.open(d, { readOnly: true });
    assert.deepEqual(listing(late), listing(w));
    late.close();
    const before = listing(w);
    const counts = [w.info().seriesCount, w.info().retiredCount];
    w.close();
    // A writer opening the compacted journal lists the same, and gives handles above the floor too.
    const again = Store.open(d);
    assert.deepEqual(listing(again), before);
    assert.deepEqual([again.info().seriesCount, again.info().retiredCount], counts);
    assert.ok(again.register('z') > Math.max(...given));
    again.close();
    r.close();
    assert.ok(slot > 0);
  });

  // White-box: the writer's actions are run inside the reader's query, right after the reader
  // checked its catalogue and before it reads the ring (the moment a reader in another process
  // can be descheduled), by hooking the ring's read of the newest slot once.
  function duringNextRead(action: () => void): void {
    const real = Ring.prototype.currentNewest;
    Ring.prototype.currentNewest = function (this: Ring) {
      if (this.concurrent) {
        Ring.prototype.currentNewest = real;
        action();
      }
      return real.call(this);
    };
    after(() => {
      Ring.prototype.currentNewest = real;
    });
  }

  /** The writer retires `old`, churns until a compaction forgot it, then gives its column to a new series with points. */
  function reuseWithCompaction(w: Store, keep: SeriesHandle, old: SeriesHandle, slot: number): SeriesHandle {
    const journal = holdJournal(join(w.dir, 'series.journal'));
    w.retire(old);
    for (let k = 0; k < 4; k++) w.record(keep, code(keep, slot + k), at(slot + k));
    slot = churnThrough(w, slot + 4, 515);
    assert.ok(journal.replaced(), 'compacted');
    const n = w.register('new');
    for (let i = 0; i < 3; i++, slot++) w.recordBatch([keep, n], [code(keep, slot), code(n, slot)], at(slot));
    return n;
  }

  for (const via of ['query', 'drain'] as const) {
    test(`${via}: a series retired, compacted away and its column reused while the reader reads it shows none of the new series' points`, () => {
      const d = scratch();
      const w = Store.open(d, { schemas: [flat('g', 64, 4, { g: '1' }), flat('f', 2, 4)] });
      const keep = w.register('keep');
      const old = w.register('old');
      for (let n = 0; n < 3; n++) w.recordBatch([keep, old], [code(keep, n), code(old, n)], at(n));
      const r = Store.open(d, { readOnly: true });
      assert.equal(assertOwnPoints(r, old), 3);
      let fresh: SeriesHandle | undefined;
      duringNextRead(() => {
        fresh = reuseWithCompaction(w, keep, old, 3);
      });
      if (via === 'query') {
        const got = r.query(old);
        assert.deepEqual(
          Array.from(got.values).map(serialOf),
          [],
          'no point of the new series under the old handle',
        );
      } else {
        const batch = r.drain('rd', { includeOpen: true });
        for (const s of batch.series) {
          for (const v of s.values)
            assert.equal(serialOf(v), s.handle, `${s.name} (${s.handle}) shipped ${v}`);
        }
        batch.commit();
      }
      assert.ok(fresh !== undefined);
      assert.equal(assertOwnPoints(r, fresh), 3);
      r.close();
      w.close();
    });
  }
});

describe('a reader beside a writer process', () => {
  test('never returns a point of one series under another’s name while the writer churns, reuses columns, compacts and is SIGKILLed', async () => {
    const d = scratch();
    const journal = join(d, 'series.journal');
    Store.open(d, { schemas: [tiny('c', 8)] }).close();
    const original = holdJournal(journal);
    const r = Store.open(d, { readOnly: true });
    const names = new Map<SeriesHandle, string>();
    let checked = 0;
    let passes = 0;
    const sameName = (h: SeriesHandle, name: string, where: string): void => {
      const known = names.get(h);
      assert.ok(known === undefined || known === name, `${where}: handle ${h} was ${known}, now ${name}`);
      names.set(h, name);
    };
    // One look at everything: every listed series, handles seen before (retired and forgotten
    // since, or not), and a drain; each value must be its own series' (code(handle, slot)).
    const look = (where: string): void => {
      for (const x of r.series()) {
        sameName(x.handle, x.name, where);
        checked += assertOwnPoints(r, x.handle, where);
      }
      const known = [...names.keys()];
      for (let i = passes % 7; i < known.length; i += 7) checked += assertOwnPoints(r, known[i]!, where);
      const batch = r.drain('rd', { maxSamples: 400 });
      for (const x of batch.series) {
        sameName(x.handle, x.name, `${where}, drain`);
        for (const v of x.values)
          assert.equal(serialOf(v), x.handle, `${where}: drained ${v} as ${x.handle}`);
        checked += x.values.length;
      }
      batch.commit();
      passes++;
    };
    const pool = new ChildPool(['churn', d]);
    after(() => pool.close());
    // Each writer runs until it has printed the n-th line of a kind, then is killed (the reader
    // looking all along), so kills land in registrations, retirements, reuse and compactions.
    const kills: [string, number][] = [
      ['ret ', 20],
      ['try-reg ', 80],
      ['reg ', 150],
      ['try-ret ', 450],
    ];
    for (const [round, [prefix, n]] of kills.entries()) {
      const child = await pool.start(String(100 + round));
      await child.waitFor('ready ');
      let seen = 0;
      let from = 0;
      while (seen <= n && child.proc.exitCode === null) {
        look(`round ${round}`);
        for (; from < child.lines.length; from++) if (child.lines[from]!.startsWith(prefix)) seen++;
        await yieldNow();
      }
      await child.kill();
      look(`round ${round}, after the kill`);
    }
    // Whether those rounds reached a compaction (more than 1,024 dead records) depends on how far
    // each writer got before its kill: churn on, looking all along, until one did.
    for (let extra = 0; !original.replaced() && extra < 4; extra++) {
      const child = await pool.start(String(200 + extra));
      await child.waitFor('ready ');
      while (!original.replaced() && child.proc.exitCode === null) {
        look(`extra round ${extra}`);
        await yieldNow();
      }
      await child.kill();
      look(`extra round ${extra}, after the kill`);
    }
    r.close();
    assert.ok(passes > 20, `only ${passes} looks`);
    assert.ok(checked > 1500, `only ${checked} points checked`);
    assert.ok(names.size > 200, `only ${names.size} series seen`);
    assert.ok(original.replaced(), 'the writers compacted the journal');
  });
});
