// Prometheus-style selector parsing, checked directly (the CLI's query tests run it end to end).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSelector, selectorMatches } from './selector.js';
import { throwsCode } from './test-fixtures/helpers.js';

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
    selectorMatches(parseSelector(sel), name, labels);
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
    throwsCode(() => parseSelector(text), 'ERR_RONDO_INVALID_SELECTOR', message, text);
});
