import assert from 'node:assert/strict';
import { test } from 'node:test';
import { T0 } from 'rondo-testkit';
import {
  compareSchedule,
  formatTally,
  lifeSeconds,
  random,
  secondsHeld,
  tallyRows,
  type VmTally,
} from './tally.js';

test('the seconds of a life are the 1 s slots wholly inside it', () => {
  assert.deepEqual(lifeSeconds(T0 + 300, T0 + 5800), [T0 + 1000, T0 + 2000, T0 + 3000, T0 + 4000]);
  assert.deepEqual(lifeSeconds(T0, T0 + 3000), [T0, T0 + 1000, T0 + 2000]);
  assert.deepEqual(lifeSeconds(T0 + 100, T0 + 900), []);
});

test('a second is held by any sample stamped within it, once', () => {
  const secs = lifeSeconds(T0, T0 + 5000);
  assert.equal(secondsHeld(secs, [T0 + 200, T0 + 999, T0 + 2000, T0 + 4999, T0 + 5000, T0 - 1]), 3);
  assert.equal(secondsHeld(secs, []), 0);
});

const vms: VmTally[] = [
  { id: 'vm-1', lifetimeMs: 5000, seconds: 5, embedded: 5, scraped: [1, 0] },
  { id: 'vm-2', lifetimeMs: 5000, seconds: 6, embedded: 6, scraped: [0, 0] },
  { id: 'vm-3', lifetimeMs: 45_000, seconds: 45, embedded: 45, scraped: [3, 2] },
];

test('rows sum the VMs of each lifetime and count the VMs a scrape never saw', () => {
  assert.deepEqual(tallyRows([vms[2]!, vms[0]!, vms[1]!], 2), [
    { lifetimeMs: 5000, vms: 2, seconds: 11, embedded: 11, scraped: [1, 0], unseen: [1, 2] },
    { lifetimeMs: 45_000, vms: 1, seconds: 45, embedded: 45, scraped: [3, 2], unseen: [0, 0] },
  ]);
});

test('the markdown table shows points and percentages', () => {
  assert.equal(
    formatTally(tallyRows(vms, 2), [15_000, 30_000]),
    [
      '| VM lifetime | VMs | seconds alive | embedded 1 s | scrape 15 s | scrape 30 s |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      '| 5 s | 2 | 11 | 11 (100 %) | 1 (9 %), 1 of 2 VMs never seen | 0 (0 %), 2 of 2 VMs never seen |',
      '| 45 s | 1 | 45 | 45 (100 %) | 3 (7 %) | 2 (4 %) |',
      '',
    ].join('\n'),
  );
});

test('the schedule: each lifetime the asked number of times, random offsets in the window, reproducible', () => {
  const a = compareSchedule([5000, 45_000], 3, 60_000, 7);
  assert.equal(a.length, 6);
  assert.deepEqual(a.map((s) => s.lifetimeMs).sort(), [45_000, 45_000, 45_000, 5000, 5000, 5000].sort());
  for (const s of a) assert.ok(s.atMs >= 0 && s.atMs < 60_000);
  assert.ok(
    a.every((s, i) => i === 0 || s.atMs >= a[i - 1]!.atMs),
    'in start order',
  );
  assert.deepEqual(compareSchedule([5000, 45_000], 3, 60_000, 7), a);
  assert.notDeepEqual(compareSchedule([5000, 45_000], 3, 60_000, 8), a);
  const r = random(1);
  const xs = Array.from({ length: 1000 }, r);
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  assert.ok(Math.abs(xs.reduce((s, x) => s + x, 0) / xs.length - 0.5) < 0.05, 'roughly uniform');
});
