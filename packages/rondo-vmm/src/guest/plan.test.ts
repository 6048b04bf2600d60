import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodePlan, MAX_LIFETIME_MS, MIN_LIFETIME_MS, PHASES, planWorkload } from './plan.js';

test('four phases in order, summing exactly to the lifetime', () => {
  for (const ms of [2000, 2010, 4999, 5000, 7777, 30_000, 45_000, 3_600_000]) {
    const plan = planWorkload(ms);
    assert.deepEqual(
      plan.map((p) => p.name),
      [...PHASES],
    );
    assert.equal(
      plan.reduce((s, p) => s + p.centis, 0),
      Math.round(ms / 10),
      `lifetime ${ms}`,
    );
    for (const p of plan) assert.ok(p.centis > 0, `${ms}: ${p.name} is empty`);
  }
});

test('phases are proportional to the lifetime: CPU 30 %, idle 20 %, I/O 30 %, mixed 20 %', () => {
  assert.deepEqual(planWorkload(10_000), [
    { name: 'cpu', centis: 300 },
    { name: 'idle', centis: 200 },
    { name: 'io', centis: 300 },
    { name: 'mixed', centis: 200 },
  ]);
  const long = planWorkload(45_000);
  assert.equal(long[0]!.centis, 1350);
  assert.equal(long[1]!.centis, 900);
});

test('the plan is encoded for the kernel command line in centiseconds', () => {
  assert.equal(encodePlan(planWorkload(5000)), 'cpu:150,idle:100,io:150,mixed:100');
});

test('lifetimes outside 2 s … 7 d are usage errors', () => {
  for (const ms of [MIN_LIFETIME_MS - 1, 0, -5, Number.NaN, MAX_LIFETIME_MS + 1, Number.POSITIVE_INFINITY])
    assert.throws(() => planWorkload(ms), {
      name: 'VmmError',
      code: 'ERR_VMM_USAGE',
      message: /between 2 s and 7 days/,
    });
});
