// Time and duration arguments, checked directly (the query and push tests run them end to end).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CliError } from './cli.js';
import { durationOption, MAX_TIME_MS, parseTime, rangeOption, timeOption } from './time.js';

/** Asserts that `fn` throws a usage error (exit 2) whose message matches `message`. */
function usage(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CliError, String(e));
    assert.equal(e.code, 'ERR_RONDO_USAGE');
    assert.equal(e.exitCode, 2);
    assert.match(e.message, message);
    return true;
  });
}

test('times: RFC 3339 with offsets and fractions, dates, epoch ms, epoch s with a unit; nonsense is null', () => {
  const t = Date.UTC(2024, 4, 1, 12, 0, 0);
  assert.equal(parseTime('2024-05-01T12:00:00Z'), t);
  assert.equal(parseTime('2024-05-01t13:30:00.250+01:30'), t + 250);
  assert.equal(parseTime('2024-05-01 12:00:00z'), t);
  assert.equal(parseTime('2024-05-01'), Date.UTC(2024, 4, 1));
  assert.equal(parseTime(String(t)), t);
  assert.equal(parseTime(`${t}ms`), t);
  assert.equal(parseTime(`${t / 1000}s`), t);
  assert.equal(parseTime(`${t / 1000}.25s`), t + 250);
  assert.equal(parseTime('0'), 0);
  assert.equal(parseTime(String(MAX_TIME_MS)), MAX_TIME_MS);
  for (const bad of [
    '2024-02-30T00:00:00Z',
    '2024-05-01T24:00:00Z',
    '2024-05-01T12:00:00',
    'now',
    '-5',
    '1.5',
    '',
    String(MAX_TIME_MS + 1),
    '99999999999999999999',
    '1.5ms',
  ])
    assert.equal(parseTime(bad), null, bad);
});

test('time options: epoch values that look like seconds are refused with the fix; every bad form says why', () => {
  assert.equal(timeOption('query', 'start', undefined), undefined);
  assert.equal(timeOption('query', 'start', '1736938799000'), 1736938799000);
  assert.equal(timeOption('query', 'start', '1736938799s'), 1736938799000);
  // Small values are plain ms (the first day of 1970): no one types them as seconds.
  assert.equal(timeOption('query', 'start', '0'), 0);
  assert.equal(timeOption('query', 'start', '99999999'), 99999999);
  // An explicit unit says ms was meant.
  assert.equal(timeOption('query', 'start', '1736938799ms'), 1736938799);
  usage(
    () => timeOption('query', 'start', '1736938799'),
    /^--start 1736938799 looks like epoch seconds \(as milliseconds it is 1970-01-21T02:28:58\.799Z\): write 1736938799s for seconds, 1736938799ms if you mean milliseconds, or RFC 3339 like 2025-01-15T10:59:59Z$/,
  );
  usage(() => timeOption('query', 'end', '99999999999'), /looks like epoch seconds/);
  usage(
    () => timeOption('query', 'start', '-5'),
    /^--start -5 is not a valid time: epoch times cannot be negative/,
  );
  usage(
    () => timeOption('query', 'end', '9000000000000000'),
    /^--end 9000000000000000 is out of range: times go from 1970 to \+275760-09-13T00:00:00Z$/,
  );
  usage(() => timeOption('query', 'end', 'yesterday'), /^cannot parse --end "yesterday" \(use RFC 3339/);
});

test('durations: a unit is required; zero, negative, fractional ms and too long say so', () => {
  const d = (text: string | undefined): number => durationOption('push', '--every', text, 10_000);
  assert.equal(d(undefined), 10_000);
  assert.equal(d('1h30m'), 5_400_000);
  assert.equal(d('1.5s'), 1500);
  assert.equal(d(' 250ms '), 250);
  assert.equal(d('2147483647ms'), 2_147_483_647);
  usage(() => d('0'), /^--every must be longer than 0, got "0"/);
  usage(() => d('0s'), /^--every must be longer than 0, got "0s"/);
  usage(() => d('0m0s'), /must be longer than 0/);
  usage(() => d('10'), /^--every 10 needs a unit: 10ms, 10s, 10m, 10h or 10d$/);
  usage(() => d('-1s'), /^--every -1s: a negative duration is not allowed$/);
  usage(() => d('0.5ms'), /^--every 0\.5ms is shorter than 1 ms$/);
  usage(() => d('1.5ms'), /^--every 1\.5ms is not a whole number of milliseconds$/);
  usage(
    () => d('30d'),
    /^--every 30d is longer than a timer can wait \(at most 2147483647 ms, about 24\.8 days\)$/,
  );
  usage(() => d('soon'), /^cannot parse --every "soon"/);
  usage(() => d('1 hour'), /^cannot parse --every "1 hour"/);
});

test('--range: all, durations up to all of time, and a hint for a negative one', () => {
  assert.equal(rangeOption('query', undefined, '1h'), 3_600_000);
  assert.equal(rangeOption('query', 'all', '1h'), null);
  assert.equal(rangeOption('query', '1000w', '1h'), 1000 * 604_800_000);
  usage(() => rangeOption('query', '0s', '1h'), /^--range must be longer than 0, got "0s"/);
  usage(
    () => rangeOption('query', '-1h', '1h'),
    /^--range -1h: a negative duration is not allowed \(--range counts back from the newest point: use e\.g\. --range 1h\)$/,
  );
  usage(
    () => rangeOption('query', '100000000000w', '1h'),
    /^--range 100000000000w is longer than all of time/,
  );
});
