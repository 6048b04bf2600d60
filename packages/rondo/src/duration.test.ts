import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { formatDuration, parseDuration } from './duration.js';
import { throwsCode } from './test-fixtures/helpers.js';

test('parseDuration: numbers are whole ms', () => {
  assert.equal(parseDuration(1, 'x'), 1);
  assert.equal(parseDuration(600_000, 'x'), 600_000);
  assert.equal(parseDuration(Number.MAX_SAFE_INTEGER, 'x'), Number.MAX_SAFE_INTEGER);
});

test('parseDuration: every unit, compounds, decimals and surrounding spaces', () => {
  const cases: [string, number][] = [
    ['500ms', 500],
    ['1s', 1000],
    ['10m', 600_000],
    ['6h', 21_600_000],
    ['7d', 604_800_000],
    ['1w', 604_800_000],
    ['2w', 1_209_600_000],
    ['1h30m', 5_400_000],
    ['1d2h3m4s5ms', 93_784_005],
    ['1m1m', 120_000],
    ['1.5s', 1500],
    ['0.5s', 500],
    ['0.001s', 1],
    ['1.005s', 1005],
    ['2.3h', 8_280_000],
    ['0.1d', 8_640_000],
    ['1.25m', 75_000],
    ['  10s ', 10_000],
    ['007s', 7000],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text, 'x'), ms, text);
});

test('parseDuration: a decimal number of seconds with up to 3 places is always exact', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 10_000_000_000 }), (ms) => {
      assert.equal(parseDuration(`${(ms / 1000).toFixed(3)}s`, 'x'), ms);
    }),
    { seed: 7, numRuns: 2000 },
  );
});

test('parseDuration: anything that is not a positive whole number of ms is ERR_RONDO_CONFIG', () => {
  const bad: unknown[] = [
    0,
    -1,
    1.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    2 ** 53,
    '',
    '   ',
    '10',
    's',
    '1x',
    '1S',
    '1 s',
    '1s 2m',
    '-1s',
    '+1s',
    '0s',
    '0ms',
    '0.5ms',
    '1.0001s',
    '1e3ms',
    '.5s',
    '1.s',
    'ms',
    '10s!',
    `${2 ** 53}ms`,
    null,
    undefined,
    {},
    [1000],
    1000n,
  ];
  for (const value of bad) {
    // The message names what was parsed.
    throwsCode(
      () => parseDuration(value as never, 'tier 0 interval'),
      'ERR_RONDO_CONFIG',
      /^tier 0 interval: /,
      `${typeof value} ${String(value)}`,
    );
  }
});

test('formatDuration: the largest unit that divides exactly', () => {
  const cases: [number, string][] = [
    [1, '1ms'],
    [999, '999ms'],
    [1000, '1s'],
    [1500, '1500ms'],
    [59_000, '59s'],
    [60_000, '1m'],
    [90_000, '90s'],
    [600_000, '10m'],
    [3_600_000, '1h'],
    [5_400_000, '90m'],
    [86_400_000, '1d'],
    [90_000_000, '25h'],
    [604_800_000, '1w'],
    [691_200_000, '8d'],
    [1_209_600_000, '2w'],
  ];
  for (const [ms, text] of cases) assert.equal(formatDuration(ms), text, String(ms));
});

test('formatDuration then parseDuration is the identity on positive whole ms', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 1000 }).map((k) => k * 60_000),
        fc.integer({ min: 1, max: 1000 }).map((k) => k * 86_400_000),
        fc.maxSafeNat().filter((n) => n > 0),
      ),
      (ms) => {
        const text = formatDuration(ms);
        assert.match(text, /^\d+(ms|s|m|h|d|w)$/);
        assert.equal(parseDuration(text, 'x'), ms);
      },
    ),
    { seed: 11, numRuns: 1000 },
  );
});
