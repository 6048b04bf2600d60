// Selector and time-argument parsing, checked directly (the query tests run them end to end).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matches, parseSelector, SelectorError } from './selector.js';
import { parseRange, parseTime } from './time.js';

test('selectors parse to matchers; the name is __name__', () => {
  assert.deepEqual(parseSelector(' cpu { host = "web1" , dc!="eu", } '), [
    { label: '__name__', op: '=', value: 'cpu' },
    { label: 'host', op: '=', value: 'web1' },
    { label: 'dc', op: '!=', value: 'eu' },
  ]);
  assert.deepEqual(parseSelector('{}'), []);
  assert.deepEqual(parseSelector(`{"a.b", 'k.8'="x\\"y", r=\`\\d\`}`), [
    { label: '__name__', op: '=', value: 'a.b' },
    { label: 'k.8', op: '=', value: 'x"y' },
    { label: 'r', op: '=', value: '\\d' },
  ]);
});

test('matching: missing labels are "", regexes are anchored', () => {
  const m = (sel: string, name: string, labels: Record<string, string>): boolean =>
    matches(parseSelector(sel), name, labels);
  assert.equal(m('{dc!="eu"}', 'x', {}), true);
  assert.equal(m('{dc=""}', 'x', { dc: 'eu' }), false);
  assert.equal(m('{host=~"web"}', 'x', { host: 'web1' }), false);
  assert.equal(m('{host=~"web\\d"}', 'x', { host: 'web1' }), true);
  assert.equal(m('{host!~"web.*|db1"}', 'x', { host: 'db1' }), false);
  assert.equal(m('{__name__=~"cpu_.*"}', 'cpu_usage', {}), true);
});

test('bad selectors say what and where', () => {
  const cases: [string, RegExp][] = [
    ['', /empty selector/],
    ['cpu{', /expected a label name at position 5/],
    ['cpu{host}', /expected =, !=, =~ or !~ at position 9/],
    ['cpu{host="a}', /unterminated string \(missing "\)/],
    ['cpu{host=a}', /expected a quoted value/],
    ['cpu x', /unexpected "x" at position 5/],
    ['{h=~"["}', /bad regex "\[" for h/],
  ];
  for (const [text, message] of cases)
    assert.throws(
      () => parseSelector(text),
      (e) => e instanceof SelectorError && message.test(e.message),
      text,
    );
});

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
