// Drain cursors: closed slots only, commit semantics, replay of uncommitted batches, maxSamples,
// gaps, readers draining, the per-name lock, and a model check of exactly-once over commits.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { DrainBatch } from './drain.js';
import { Store } from './store.js';
import { oneTier, scratchDirs, T0, throwsCode, twoTiers } from './test-fixtures/helpers.js';

const SEC = 1000;

const scratch = scratchDirs('drain');

/** Runs `fn` on a fresh store of `slots` 1 s slots (and, with two tiers, as many 2 s sums). */
function withStore(fn: (store: Store, dir: string) => void, slots = 10, tiers = 1): void {
  const dir = scratch();
  const schema =
    tiers > 1 ? twoTiers('s', [SEC, slots], [2 * SEC, slots, 'sum'], 8) : oneTier('s', SEC, slots, 8);
  const store = Store.open(dir, { schemas: [schema] });
  try {
    fn(store, dir);
  } finally {
    store.close();
  }
}

function pts(batch: DrainBatch): Record<number, [number, number][]> {
  const out: Record<number, [number, number][]> = {};
  for (const s of batch.series) out[s.handle] = Array.from(s.timestamps, (t, i) => [t, s.values[i]!]);
  return out;
}

describe('drain', () => {
  test('drains closed slots only; commit advances; the next drain returns only new points', () => {
    withStore((store) => {
      const a = store.register('a');
      const b = store.register('b', { host: 'x' });
      for (let i = 0; i < 5; i++) {
        store.record(a, i, T0 + i * SEC);
        store.record(b, 10 + i, T0 + i * SEC + 500);
      }
      const first = store.drain('p');
      assert.equal(first.samples, 8); // slot T0+4s is still open
      assert.equal(first.gap, 0);
      assert.equal(first.more, false);
      assert.deepEqual(
        pts(first)[a],
        [0, 1, 2, 3].map((i) => [T0 + i * SEC, i]),
      );
      assert.deepEqual(first.series[1]!.labels, { host: 'x' });
      assert.equal(first.series[1]!.name, 'b');
      first.commit();
      assert.equal(first.committed, true);
      const empty = store.drain('p');
      assert.equal(empty.samples, 0);
      empty.commit();
      store.record(a, 5, T0 + 5 * SEC);
      store.record(a, 6, T0 + 6 * SEC);
      const second = store.drain('p');
      assert.deepEqual(pts(second)[a], [
        [T0 + 4 * SEC, 4],
        [T0 + 5 * SEC, 5],
      ]);
      assert.deepEqual(pts(second)[b], [[T0 + 4 * SEC, 14]]);
    });
  });

  test('an uncommitted batch is drained again (and only it), then draining moves on', () => {
    withStore((store) => {
      const a = store.register('a');
      for (let i = 0; i < 4; i++) store.record(a, i, T0 + i * SEC);
      const b1 = store.drain('p');
      assert.equal(b1.samples, 3);
      assert.equal(b1.replay, false);
      for (let i = 4; i < 8; i++) store.record(a, i, T0 + i * SEC);
      // Not committed (a failed push): the same range again, without the newer points.
      const b2 = store.drain('p');
      assert.equal(b2.replay, true);
      assert.deepEqual(pts(b2), pts(b1));
      b2.commit();
      const b3 = store.drain('p');
      assert.deepEqual(
        pts(b3)[a],
        [3, 4, 5, 6].map((i) => [T0 + i * SEC, i]),
      );
    });
  });

  test('committing twice, or a stale batch, is ERR_RONDO_CURSOR', () => {
    withStore((store) => {
      const a = store.register('a');
      for (let i = 0; i < 4; i++) store.record(a, i, T0 + i * SEC);
      const older = store.drain('p');
      const newer = store.drain('p');
      newer.commit();
      throwsCode(() => newer.commit(), 'ERR_RONDO_CURSOR');
      throwsCode(() => older.commit(), 'ERR_RONDO_CURSOR');
      // The stale commit changed nothing: the cursor is where `newer` left it.
      store.record(a, 9, T0 + 9 * SEC);
      assert.deepEqual(pts(store.drain('p'))[a], [[T0 + 3 * SEC, 3]]);
    });
  });

  test('committing an older empty batch neither clears a newer batch nor makes it stale', () => {
    withStore((store) => {
      const a = store.register('a');
      const e = store.drain('p');
      assert.equal(e.samples, 0);
      for (let i = 0; i < 4; i++) store.record(a, i, T0 + i * SEC);
      const b = store.drain('p');
      assert.equal(b.samples, 3);
      e.commit(); // a no-op: b is pending
      assert.equal(e.committed, true);
      // b's range is still replayed alone, and b commits.
      const replay = store.drain('p');
      assert.equal(replay.replay, true);
      assert.deepEqual(pts(replay)[a], pts(b)[a]);
      b.commit();
      // An empty batch drained before a newer batch was committed: its commit does nothing either.
      const e3 = store.drain('p');
      assert.equal(e3.samples, 0);
      store.record(a, 9, T0 + 9 * SEC);
      const n = store.drain('p');
      assert.deepEqual(pts(n)[a], [[T0 + 3 * SEC, 3]]);
      n.commit();
      e3.commit();
      throwsCode(() => e3.commit(), 'ERR_RONDO_CURSOR');
      store.record(a, 10, T0 + 10 * SEC);
      assert.deepEqual(pts(store.drain('p'))[a], [[T0 + 9 * SEC, 9]]);
    });
  });

  test('maxSamples bounds a batch and draining resumes where it stopped', () => {
    withStore((store) => {
      const hs = [store.register('a'), store.register('b'), store.register('c')];
      for (let i = 0; i < 8; i++) for (const h of hs) store.record(h, h * 100 + i, T0 + i * SEC);
      const seen: string[] = [];
      let batches = 0;
      for (;;) {
        const batch = store.drain('p', { maxSamples: 5 });
        if (batch.samples === 0) break;
        assert.ok(batch.samples <= 5);
        batches++;
        for (const s of batch.series)
          for (let i = 0; i < s.timestamps.length; i++)
            seen.push(`${s.handle}@${s.timestamps[i]}=${s.values[i]}`);
        batch.commit();
      }
      const want = hs.flatMap((h) => [...Array(7).keys()].map((i) => `${h}@${T0 + i * SEC}=${h * 100 + i}`));
      assert.deepEqual(seen.sort(), want.sort());
      assert.equal(batches, Math.ceil(21 / 5));
    });
  });

  test('includeOpen drains the newest slot; the cursor moves past it (a later change is not drained)', () => {
    withStore((store) => {
      const a = store.register('a');
      store.record(a, 1, T0);
      store.record(a, 2, T0 + SEC);
      const closedOnly = store.drain('p');
      assert.equal(closedOnly.samples, 1);
      // Uncommitted: the next drain replays that range first, includeOpen or not.
      const replay = store.drain('p', { includeOpen: true });
      assert.equal(replay.replay, true);
      assert.deepEqual(pts(replay), pts(closedOnly));
      replay.commit();
      const all = store.drain('p', { includeOpen: true });
      assert.deepEqual(pts(all)[a], [[T0 + SEC, 2]]);
      all.commit();
      store.record(a, 3, T0 + SEC); // the open slot changes after the final drain
      store.record(a, 4, T0 + 2 * SEC);
      store.record(a, 5, T0 + 3 * SEC);
      assert.deepEqual(pts(store.drain('p'))[a], [[T0 + 2 * SEC, 4]]);
    });
  });

  test('late points into drained slots are not drained again', () => {
    withStore((store) => {
      const a = store.register('a');
      for (let i = 0; i < 4; i++) store.record(a, i, T0 + i * SEC);
      store.drain('p').commit();
      store.record(a, 99, T0 + SEC); // late, into a drained slot
      store.record(a, 4, T0 + 4 * SEC);
      assert.deepEqual(pts(store.drain('p'))[a], [[T0 + 3 * SEC, 3]]);
    });
  });

  test('gap counts the slots between the cursor and the ring oldest slot, per series', () => {
    withStore((store) => {
      const a = store.register('a');
      const b = store.register('b');
      store.record(a, 0, T0);
      store.record(b, 0, T0);
      store.record(a, 1, T0 + SEC);
      store.drain('p').commit(); // next = slot of T0 + 1s for both
      for (let i = 2; i <= 25; i++) store.record(a, i, T0 + i * SEC);
      // Ring of 10 slots, newest T0+25s: oldest is T0+16s; slots 1..15 (15 of them) were lost.
      const batch = store.drain('p');
      assert.equal(batch.gap, 30);
      assert.deepEqual(
        batch.gaps.map((g) => [g.handle, g.from, g.to, g.slots]),
        [
          [a, T0 + SEC, T0 + 16 * SEC, 15],
          [b, T0 + SEC, T0 + 16 * SEC, 15],
        ],
      );
      assert.deepEqual(
        pts(batch)[a],
        [16, 17, 18, 19, 20, 21, 22, 23, 24].map((i) => [T0 + i * SEC, i]),
      );
      batch.commit();
      assert.equal(store.drain('p').gap, 0);
    });
  });

  test('readers drain and commit durably; one drainer per name (flock); cursors are per name', () => {
    withStore((store, dir) => {
      const a = store.register('a');
      for (let i = 0; i < 4; i++) store.record(a, i, T0 + i * SEC);
      const r1 = Store.open(dir, { readOnly: true });
      const r2 = Store.open(dir, { readOnly: true });
      try {
        const batch = r1.drain('prom');
        assert.equal(batch.samples, 3);
        batch.commit();
        assert.ok(existsSync(join(dir, 'cursors', 'prom.json')));
        throwsCode(() => r2.drain('prom'), 'ERR_RONDO_LOCKED');
        assert.equal(r2.drain('other').samples, 3); // another name, its own cursor
        r1.close();
        throwsCode(() => batch.commit(), 'ERR_RONDO_CURSOR');
        store.record(a, 4, T0 + 4 * SEC);
        // r2 saw a series registered before it opened, and continues r1's cursor.
        assert.deepEqual(pts(r2.drain('prom'))[a], [[T0 + 3 * SEC, 3]]);
        const doc = JSON.parse(readFileSync(join(dir, 'cursors', 'prom.json'), 'utf8'));
        assert.equal(doc.tiers['0'].schemas.s.next[String(a)], Math.floor((T0 + 3 * SEC) / SEC));
      } finally {
        r1.close();
        r2.close();
      }
    });
  });

  test('a commit after close is refused; the cursor survives reopen', () => {
    withStore((store, dir) => {
      const a = store.register('a');
      for (let i = 0; i < 4; i++) store.record(a, i, T0 + i * SEC);
      const r = Store.open(dir, { readOnly: true });
      const batch = r.drain('p');
      r.close();
      throwsCode(() => batch.commit(), 'ERR_RONDO_CLOSED');
      const r2 = Store.open(dir, { readOnly: true });
      try {
        r2.drain('p').commit();
      } finally {
        r2.close();
      }
      const r3 = Store.open(dir, { readOnly: true });
      try {
        assert.equal(r3.drain('p').samples, 0);
      } finally {
        r3.close();
      }
    });
  });

  test('names, tiers and maxSamples are checked', () => {
    withStore((store) => {
      for (const bad of ['', '../x', 'a/b', '.hidden', 'x'.repeat(65)])
        throwsCode(() => store.drain(bad), 'ERR_RONDO_INVALID_ARGUMENT');
      throwsCode(() => store.drain('p', { tier: 1 }), 'ERR_RONDO_INVALID_TIER');
      throwsCode(() => store.drain('p', { maxSamples: 0 }), 'ERR_RONDO_INVALID_ARGUMENT');
      throwsCode(() => store.drain('p', { maxSamples: 1.5 }), 'ERR_RONDO_INVALID_ARGUMENT');
    });
  });

  test('a coarse tier drains its closed windows with its own cursor', () => {
    withStore(
      (store) => {
        const a = store.register('a');
        for (let i = 0; i < 8; i++) store.record(a, 1, T0 + i * SEC);
        store.consolidate();
        const batch = store.drain('p', { tier: 1 });
        // 2 s windows of sum: T0..T0+4s closed (the window at T0+6s is the newest).
        assert.deepEqual(
          pts(batch)[a],
          [0, 2, 4].map((i) => [T0 + i * SEC, 2]),
        );
        batch.commit();
        assert.equal(store.drain('p', { tier: 0 }).samples, 7); // tier 0 has its own position
      },
      10,
      2,
    );
  });

  test('model: committed batches deliver every closed point exactly once, whatever the schedule', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('rec' as const), h: fc.nat(2), step: fc.nat(3), v: fc.integer() }),
            fc.record({
              op: fc.constant('drain' as const),
              max: fc.integer({ min: 1, max: 6 }),
              commit: fc.boolean(),
            }),
          ),
          { maxLength: 60 },
        ),
        (ops) => {
          withStore((store) => {
            const hs = [store.register('a'), store.register('b'), store.register('c')];
            const truth = new Map<string, number>();
            const delivered = new Map<string, number>();
            let t = T0;
            const take = (b: DrainBatch) => {
              for (const s of b.series)
                for (let i = 0; i < s.timestamps.length; i++) {
                  const k = `${s.handle}@${s.timestamps[i]}`;
                  assert.ok(!delivered.has(k), `delivered twice: ${k}`);
                  delivered.set(k, s.values[i]!);
                }
            };
            for (const o of ops) {
              if (o.op === 'rec') {
                t += o.step * SEC;
                store.record(hs[o.h]!, o.v, t);
                truth.set(`${hs[o.h]}@${Math.floor(t / SEC) * SEC}`, o.v);
              } else {
                const b = store.drain('p', { maxSamples: o.max });
                if (o.commit) {
                  take(b);
                  b.commit();
                }
              }
            }
            for (;;) {
              const b = store.drain('p', { includeOpen: true, maxSamples: 4 });
              if (b.samples === 0) break;
              take(b);
              b.commit();
            }
            assert.deepEqual(new Map([...delivered].sort()), new Map([...truth].sort()));
          }, 1000);
        },
      ),
      { numRuns: 60 },
    );
  });
});
