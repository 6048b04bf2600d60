import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startRounds } from './rounds.js';

test('rounds come one per period, never two in one slot, never going back', async () => {
  const every = 100;
  const offset = 30;
  const times: number[] = [];
  const keepAlive = setInterval(() => {}, 1000); // the round timer is unreferenced
  await new Promise<void>((resolve) => {
    const stop = startRounds(every, offset, (n) => {
      assert.equal(n, times.length, 'rounds are numbered from 0');
      times.push(Date.now());
      if (times.length === 8) {
        stop();
        resolve();
      }
    });
  });
  clearInterval(keepAlive);
  const slots = times.map((t) => Math.floor((t - offset) / every));
  assert.equal(new Set(slots).size, slots.length, `distinct slots: ${slots}`);
  // On a loaded machine a round may be late and skip a slot, but never runs early: slots only grow.
  for (let i = 1; i < slots.length; i++) assert.ok(slots[i]! > slots[i - 1]!);
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
