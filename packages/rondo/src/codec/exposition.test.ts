// The text exposition writer: exact output, escaping and special values (a real Prometheus
// scrapes it in src/server/prometheus.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeLabelValue, formatExposition, formatSampleValue } from './exposition.js';

test('a family is a counter or a gauge when all its samples agree, else untyped', () => {
  const text = formatExposition([
    { labels: [{ name: '__name__', value: 'c' }], value: 1, type: 'counter' },
    { labels: [{ name: '__name__', value: 'g' }], value: 2, type: 'gauge' },
    {
      labels: [
        { name: '__name__', value: 'm' },
        { name: 'a', value: '1' },
      ],
      value: 3,
      type: 'gauge',
    },
    {
      labels: [
        { name: '__name__', value: 'm' },
        { name: 'a', value: '2' },
      ],
      value: 4,
      type: 'counter',
    },
  ]);
  assert.equal(
    text,
    '# TYPE c counter\nc 1\n# TYPE g gauge\ng 2\n# TYPE m untyped\nm{a="1"} 3\nm{a="2"} 4\n',
  );
});

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
