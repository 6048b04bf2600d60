import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Round, startRounds } from './rounds.js';

/** Collects `count` rounds of a clock of `every` ms at `offset`, running `work` in each. */
async function collect(every: number, offset: number, count: number, work: (r: Round) => void = () => {}) {
  const got: { r: Round; at: number }[] = [];
  const keepAlive = setInterval(() => {}, 1000); // the round timer is unreferenced
  await new Promise<void>((resolve) => {
    const stop = startRounds(every, offset, (r) => {
      got.push({ r, at: Date.now() });
      work(r);
      if (got.length === count) {
        stop();
        resolve();
      }
    });
  });
  clearInterval(keepAlive);
  return got;
}

test('one round per slot, at or after its offset, numbered, never two in one slot', async () => {
  const got = await collect(100, 30, 8);
  got.forEach(({ r, at }, i) => {
    assert.equal(r.n, i);
    assert.equal(r.slot, Math.floor(at / 100), 'the round samples the slot it runs in');
    assert.ok(at - r.slot * 100 >= 30, 'never before the offset');
    assert.ok(r.lateMs >= 0);
  });
  const slots = got.map(({ r }) => r.slot);
  for (let i = 1; i < slots.length; i++) assert.equal(slots[i]! - slots[i - 1]! - 1, got[i]!.r.skipped);
});

test('a round held up past its slot reports the slots it skipped, and the next aims at the next slot', async () => {
  const got = await collect(100, 20, 4, (r) => {
    if (r.n === 1) {
      const until = Date.now() + 250; // the event loop is blocked for two and a half slots
      while (Date.now() < until);
    }
  });
  const [, second, third, fourth] = got.map(({ r }) => r);
  assert.ok(third!.skipped >= 1, `skipped ${third!.skipped}`);
  assert.equal(third!.slot - second!.slot - 1, third!.skipped);
  assert.equal(fourth!.slot, third!.slot + 1 + fourth!.skipped);
  assert.notEqual(third!.slot, fourth!.slot);
});

test('stop() ends the rounds', async () => {
  let count = 0;
  const stop = startRounds(20, 0, () => {
    count++;
  });
  await new Promise((r) => setTimeout(r, 200));
  stop();
  const seen = count;
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(count, seen);
  assert.ok(seen >= 1);
});
