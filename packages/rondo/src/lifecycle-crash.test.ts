// Crash safety of the series journal: a writer SIGKILLed at any moment of registering, retiring,
// reusing columns and compacting; power loss simulated by a torn journal tail; and the rule
// that a freed column is reused only once its last owner's retirement is on disk.
import assert from 'node:assert/strict';
import fs, { appendFileSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { after, describe, test } from 'node:test';
import { JOURNAL_OFFSET } from './catalog/journal.js';
import { type SeriesHandle, Store } from './index.js';
import { OFFSET } from './slab.js';
import { patchBytes, readBytes, u32 } from './test-fixtures/bytes.js';
import { scratchDirs, sleep, throwsCode } from './test-fixtures/helpers.js';
import { assertOwnPoints, at, code, flat, journalRecords, tiny } from './test-fixtures/lifecycle-common.js';
import { ChildPool } from './test-fixtures/lifecycle-spawn.js';

const scratch = scratchDirs('lifecycle-crash');

/** What a churn child reported before it was killed. */
interface Report {
  /** Every handle reported by a returned register()/registerMany(), with its name. */
  registered: [SeriesHandle, string][];
  /** Handles whose retire() returned. */
  retired: SeriesHandle[];
  /** Names of a registration that had not returned (all or none of them may exist). */
  regInFlight: string[] | null;
  /** A handle whose retire() had not returned. */
  retInFlight: SeriesHandle | null;
}

function parse(lines: readonly string[]): Report {
  const rep: Report = { registered: [], retired: [], regInFlight: null, retInFlight: null };
  for (const line of lines) {
    const [word, rest] = [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)];
    if (word === 'try-reg') rep.regInFlight = JSON.parse(rest) as string[];
    else if (word === 'reg') {
      for (const [name, h] of JSON.parse(rest) as [string, number][]) rep.registered.push([h, name]);
      rep.regInFlight = null;
    } else if (word === 'full') rep.regInFlight = null;
    else if (word === 'try-ret') rep.retInFlight = Number(rest);
    else if (word === 'ret') {
      rep.retired.push(Number(rest));
      rep.retInFlight = null;
    }
  }
  return rep;
}

describe('SIGKILL', () => {
  test('at any moment: every returned register() is there, registerMany is all or none, a retirement is done or not, no series shows another one’s points', async () => {
    const d = scratch();
    Store.open(d, { schemas: [tiny('c', 8)] }).close();
    const names = new Map<SeriesHandle, string>(); // every handle ever given, with its name
    const live = new Set<SeriesHandle>(); // registered and not retired, as far as we know
    let checked = 0;
    let regs = 0;
    let rets = 0;
    // Kill points by progress, not time (a loaded machine may give the child little CPU): after
    // the n-th line of a kind, then a short delay, so that the kill lands anywhere after it.
    const kills: [string, number, number][] = [
      ['ready ', 0, 0],
      ['ret ', 3, 0],
      ['try-reg ', 20, 1],
      ['try-reg ', 45, 0],
      ['reg ', 90, 2],
      ['try-ret ', 150, 0],
      ['ret ', 200, 1],
      ['reg ', 300, 0],
    ];
    const pool = new ChildPool(['churn', d]);
    after(() => pool.close());
    for (const [round, [prefix, n, delay]] of kills.entries()) {
      const child = await pool.start(String(round + 1));
      await child.waitFor(prefix, 20_000, n);
      await sleep(delay);
      await child.kill();
      await finished(child.proc.stdout).catch(() => undefined);
      const rep = parse(child.lines);
      regs += rep.registered.length;
      rets += rep.retired.length;
      for (const [h, name] of rep.registered) {
        assert.equal(
          names.has(h),
          false,
          `round ${round}: handle ${h} (${name}) was given before to ${names.get(h)}`,
        );
        names.set(h, name);
        live.add(h);
      }
      for (const h of rep.retired) live.delete(h);
      const what = `round ${round} (killed ${delay} ms after "${prefix}" #${n})`;
      const check = (s: Store, role: string): void => {
        const list = new Map(s.series().map((x) => [x.handle, x]));
        for (const h of live) {
          const x = list.get(h);
          if (h === rep.retInFlight) {
            assert.ok(x !== undefined, `${what}, ${role}: series ${h} being retired is still there`);
            continue;
          }
          assert.ok(x !== undefined && x.retired === undefined, `${what}, ${role}: series ${h} is live`);
          assert.equal(s.lookup(x.name), h, `${what}, ${role}: ${x.name} is series ${h}`);
        }
        for (const [h, x] of list) {
          if (names.has(h)) assert.equal(x.name, names.get(h), `${what}, ${role}: handle ${h} re-pointed`);
          else
            assert.ok(rep.regInFlight?.includes(x.name), `${what}, ${role}: unknown series ${h} ${x.name}`);
          checked += assertOwnPoints(s, h, `${what}, ${role}:`);
        }
        if (rep.regInFlight !== null) {
          const found = rep.regInFlight.filter((n) => {
            const h = s.lookup(n);
            return h !== undefined && !names.has(h);
          });
          assert.ok(
            found.length === 0 || found.length === rep.regInFlight.length,
            `${what}, ${role}: registerMany of ${rep.regInFlight} left only ${found}`,
          );
        }
      };
      const reader = Store.open(d, { readOnly: true });
      check(reader, 'reader');
      const store = Store.open(d);
      check(store, 'writer');
      // What the kill left undecided is decided now: learn it for the next rounds.
      for (const x of store.series()) {
        if (!names.has(x.handle)) names.set(x.handle, x.name);
        if (x.retired === undefined) live.add(x.handle);
        else live.delete(x.handle);
      }
      if (rep.retInFlight !== null && live.has(rep.retInFlight)) {
        store.record(rep.retInFlight, code(rep.retInFlight, 0), at(0)); // live: may be recorded
      }
      store.close();
      reader.close();
    }
    assert.ok(regs > 500 && rets > 500, `only ${regs} registrations and ${rets} retirements`);
    assert.ok(checked > 100, `only ${checked} points checked`);
    // The journal was compacted along the way (the floor is only ever set by a compaction).
    const floor = readFileSync(join(d, 'series.journal')).readDoubleLE(JOURNAL_OFFSET.handleFloor);
    assert.ok(floor > 0, 'the churn compacted the journal');
  });
});

describe('power loss: a torn journal tail', () => {
  /** A store with series a and b, each with points in both tiers; b's record is the journal's last. */
  function twoSeries(): { d: string; journal: string; aEnd: number } {
    const d = scratch();
    const store = Store.open(d, { schemas: [tiny('c', 2)] });
    const a = store.register('a');
    const journal = join(d, 'series.journal');
    const aEnd = statSync(journal).size;
    const b = store.register('b');
    for (let n = 0; n <= 3; n++) store.recordBatch([a, b], [code(a, n), code(b, n)], at(n));
    store.consolidate();
    store.close();
    return { d, journal, aEnd };
  }

  const damages: [string, (journal: string, aEnd: number) => void][] = [
    ['the last record cut short', (journal, aEnd) => truncateSync(journal, aEnd + 13)],
    ['only its length written', (journal, aEnd) => truncateSync(journal, aEnd + 4)],
    [
      'garbage after it',
      (journal, aEnd) => {
        truncateSync(journal, aEnd);
        appendFileSync(journal, Buffer.alloc(37, 0xa5));
      },
    ],
    [
      'a length and CRC that do not match',
      (journal, aEnd) => {
        const rec = readFileSync(journal).subarray(aEnd);
        rec[rec.length - 1]! ^= 1;
        truncateSync(journal, aEnd);
        appendFileSync(journal, rec);
      },
    ],
    [
      'zeros (pages never written)',
      (journal, aEnd) => {
        truncateSync(journal, aEnd);
        appendFileSync(journal, Buffer.alloc(4096));
      },
    ],
  ];

  for (const [what, damage] of damages) {
    test(`${what}: readers and the writer open; the writer cuts it and appends after it; no point of the lost series shows up`, () => {
      const { d, journal, aEnd } = twoSeries();
      damage(journal, aEnd);
      // A reader opened on the damaged journal sees the whole records only.
      const early = Store.open(d, { readOnly: true });
      assert.deepEqual(
        early.series().map((x) => x.name),
        ['a'],
      );
      const store = Store.open(d);
      assert.equal(statSync(journal).size, aEnd, 'the tail is cut');
      assert.deepEqual(
        store.series().map((x) => x.name),
        ['a'],
      );
      assert.equal(store.lookup('b'), undefined);
      assert.equal(store.query(0).values.length, 4);
      // The lost series' column is free again; its next owner shows none of its points.
      const c = store.register('c');
      const { records, end, size } = journalRecords(journal);
      assert.deepEqual([records.length, end], [2, size], 'appended right after the last whole record');
      assert.notEqual(c, 0);
      throwsCode(() => store.register('x'), 'ERR_RONDO_MAX_SERIES');
      for (const s of [store, early]) {
        assert.deepEqual([s.query(c).values.length, s.query(c, { tier: 1 }).values.length], [0, 0]);
      }
      store.record(c, code(c, 4), at(4));
      store.consolidate();
      for (const s of [store, early]) {
        assert.equal(assertOwnPoints(s, c), 2);
        assert.equal(assertOwnPoints(s, 0), 3 + 2);
      }
      store.close();
      const again = Store.open(d, { readOnly: true });
      assert.deepEqual(
        again.series().map((x) => [x.handle, x.name]),
        [
          [0, 'a'],
          [c, 'c'],
        ],
      );
      again.close();
      early.close();
    });
  }
});

describe('a freed column is reused only once the retirement is on disk', () => {
  /** Journal writes and fsyncs, in order, seen through node:fs while `fn` runs. */
  function journalCalls(fn: () => void): string[] {
    const real = { openSync: fs.openSync, writeSync: fs.writeSync, fsyncSync: fs.fsyncSync };
    const journalFds = new Set<number>();
    const calls: string[] = [];
    const spy = fs as unknown as Record<string, (...args: unknown[]) => unknown>;
    spy['openSync'] = (...args) => {
      const fd = (real.openSync as (...a: unknown[]) => number)(...args);
      if (String(args[0]).endsWith('series.journal')) journalFds.add(fd);
      return fd;
    };
    spy['writeSync'] = (...args) => {
      if (journalFds.has(args[0] as number)) calls.push('write');
      return (real.writeSync as (...a: unknown[]) => unknown)(...args);
    };
    spy['fsyncSync'] = (...args) => {
      if (journalFds.has(args[0] as number)) calls.push('fsync');
      return (real.fsyncSync as (...a: unknown[]) => unknown)(...args);
    };
    syncBuiltinESMExports();
    try {
      fn();
    } finally {
      Object.assign(fs, real);
      syncBuiltinESMExports();
    }
    return calls;
  }

  for (const reopen of [false, true]) {
    test(reopen ? 'retired by an earlier writer (killed before any fsync)' : 'retired by this writer', () => {
      const d = scratch();
      const calls = journalCalls(() => {
        let store = Store.open(d, { schemas: [tiny('c', 2)] });
        const keep = store.register('keep');
        const old = store.register('old');
        store.record(old, 1, at(0));
        store.retire(old);
        if (reopen) {
          // close() does not fsync the journal: like a SIGKILL, it leaves the record in the page cache.
          store.close();
          store = Store.open(d);
        }
        for (let n = 1; n <= 10; n++) store.record(keep, n, at(n));
        store.consolidate();
        store.register('new');
        store.close();
      });
      // The last write is the new series' record; the retire record was written before it.
      const registerAt = calls.lastIndexOf('write');
      const retireAt = calls.lastIndexOf('write', registerAt - 1);
      assert.ok(
        calls.slice(retireAt + 1, registerAt).includes('fsync'),
        `an fsync of the journal between the retirement and the reuse: ${calls.join(' ')}`,
      );
    });
  }
});

test('power loss: a slab header that lost the series count of a registered column shows no points for it until a writer repairs it', () => {
  const d = scratch();
  let store = Store.open(d, { schemas: [flat('f', 3, 4)] });
  const a = store.register('a');
  const b = store.register('b');
  for (let n = 0; n <= 3; n++) store.recordBatch([a, b], [code(a, n), code(b, n)], at(n));
  store.close();
  // As if b's registration reached the journal but neither its column nor the header count the disk.
  const slab = join(d, 'f.0.slab');
  patchBytes(slab, 4096 + 4 * 8 * 2, Buffer.alloc(4 * 8));
  patchBytes(slab, OFFSET.seriesCount, u32(1));
  const reader = Store.open(d, { readOnly: true });
  assert.deepEqual(Array.from(reader.query(b).values), [], 'query');
  const batch = reader.drain('x', { includeOpen: true });
  assert.deepEqual(
    batch.series.map((x) => [x.handle, x.values.length]),
    [[a, 4]],
    'drain',
  );
  batch.commit();
  store = Store.open(d);
  assert.equal(readBytes(slab, OFFSET.seriesCount, 4).readUInt32LE(), 2, 'the count is raised again');
  assert.deepEqual(Array.from(store.query(b).values), [], 'the column was cleared');
  store.record(b, code(b, 4), at(4));
  assert.equal(assertOwnPoints(reader, b), 1, 'a reader open since before the repair sees it');
  assert.deepEqual(
    reader.drain('x', { includeOpen: true }).series.map((x) => [x.handle, Array.from(x.values)]),
    [[b, [code(b, 4)]]],
    'a reader open since before the repair drains the new point',
  );
  reader.close();
  store.close();
});
