// The text exposition writer: exact output, escaping and special values (a real Prometheus
// scrapes it in src/server/prometheus.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeLabelValue, formatExposition, formatSampleValue } from './exposition.js';

test('samples are grouped by name under one TYPE line, names sorted', () => {
  const text = formatExposition([
    { labels: [{ name: '__name__', value: 'b' }], value: 1 },
    {
      labels: [
        { name: '__name__', value: 'a' },
        { name: 'host', value: 'web1' },
      ],
      value: 2.5,
    },
    {
      labels: [
        { name: '__name__', value: 'b' },
        { name: 'x', value: 'y' },
      ],
      value: -3,
      timestampMs: 1_700_000_000_000,
    },
  ]);
  assert.equal(
    text,
    [
      '# TYPE a untyped',
      'a{host="web1"} 2.5',
      '# TYPE b untyped',
      'b 1',
      'b{x="y"} -3 1700000000000',
      '',
    ].join('\n'),
  );
  assert.equal(formatExposition([]), '');
});

test('label values escape backslash, quote and line feed; values spell NaN and infinities', () => {
  assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  assert.equal(formatSampleValue(Number.NaN), 'NaN');
  assert.equal(formatSampleValue(Number.POSITIVE_INFINITY), '+Inf');
  assert.equal(formatSampleValue(Number.NEGATIVE_INFINITY), '-Inf');
  assert.equal(formatSampleValue(1e21), '1e+21');
  assert.equal(formatSampleValue(0.1), '0.1');
});
