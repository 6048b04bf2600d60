// Time-argument parsing, checked directly (the query tests run it end to end).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRange, parseTime } from './time.js';

test('times: RFC 3339 with offsets and fractions, dates, epoch ms; nonsense is null', () => {
  const t = Date.UTC(2024, 4, 1, 12, 0, 0);
  assert.equal(parseTime('2024-05-01T12:00:00Z'), t);
  assert.equal(parseTime('2024-05-01t13:30:00.250+01:30'), t + 250);
  assert.equal(parseTime('2024-05-01 12:00:00z'), t);
  assert.equal(parseTime('2024-05-01'), Date.UTC(2024, 4, 1));
  assert.equal(parseTime(String(t)), t);
  for (const bad of [
    '2024-02-30T00:00:00Z',
    '2024-05-01T24:00:00Z',
    '2024-05-01T12:00:00',
    'now',
    '-5',
    '1.5',
    '',
  ])
    assert.equal(parseTime(bad), null, bad);
  assert.equal(parseRange('1h30m'), 5_400_000);
  assert.equal(parseRange('all'), null);
  assert.throws(() => parseRange('1 hour'));
});
