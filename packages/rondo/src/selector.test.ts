// Prometheus-style selector parsing, checked directly (the CLI's query tests run it end to end).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileMatcher, type Matcher, parseSelector, selectorMatches } from './selector.js';
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

const m = (sel: string, name: string, labels: Record<string, string> = {}): boolean =>
  selectorMatches(parseSelector(sel), name, labels);

test('Unicode names: letters and digits of any script are bare names, like the library accepts them', () => {
  assert.deepEqual(parseSelector('température{hôte="é"}'), [
    { label: '__name__', op: '=', value: 'température' },
    { label: 'hôte', op: '=', value: 'é' },
  ]);
  assert.equal(m('指标_1', '指标_1'), true);
  assert.equal(m('{"🔥.hot"}', '🔥.hot'), true);
  assert.equal(m('{__name__="🔥"}', '🔥'), true);
  // Escapes of Go strings: \u with a surrogate pair, \U and \x.
  assert.equal(m('{"\\ud83d\\udd25"}', '🔥'), true);
  assert.equal(m('{"\\U0001F525"}', '🔥'), true);
  assert.equal(m('{k="\\x41"}', 'x', { k: 'A' }), true);
});

test('names a bare selector cannot hold: the error shows the character whole and the quoted form', () => {
  const cases: [string, RegExp][] = [
    [
      '🔥',
      /^bad selector "🔥": unexpected "🔥" \(U\+1F525\) at position 1 \(a metric name with characters other than letters, digits, _, : and \. must be quoted: \{"🔥"\} or \{__name__="🔥"\}\)$/,
    ],
    ['cpu🔥', /unexpected "🔥" \(U\+1F525\) at position 4 \(.*must be quoted: \{"cpu🔥"\} or/],
    ['cpu-usage{host="a"}', /unexpected "-" at position 4 \(.*must be quoted: \{"cpu-usage", host="a"\}\)$/],
    ['{k8s-pod="a"}', /unexpected "-" at position 5 \(a label name .* must be quoted: \{"k8s-pod"="…"\}\)$/],
    // Positions count code points: the 🔥 before is one character.
    ['{"🔥" x}', /expected =, !=, =~ or !~ at position 6$/],
    ['{a="🔥"} \u00a0x', /unexpected "x" at position 10$/],
    ['\u200b', /unexpected "\u200b" \(U\+200B\) at position 1/],
  ];
  for (const [text, message] of cases) {
    const err = throwsCode(() => parseSelector(text), 'ERR_RONDO_INVALID_SELECTOR', message);
    assert.doesNotMatch(
      err.message,
      /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/,
      'no half surrogate pair',
    );
  }
});

test('RE2 inline flags: (?i), (?s), (?m), combined, negated, scoped and mid-pattern', () => {
  assert.equal(m('{h=~"(?i)WEB.*"}', 'x', { h: 'web1' }), true);
  assert.equal(m('{h=~"(?i)web"}', 'x', { h: 'WeB' }), true);
  assert.equal(m('{h!~"(?i)web.*"}', 'x', { h: 'Web1' }), false);
  assert.equal(m('{h=~"(?i:web)-DB"}', 'x', { h: 'WEB-DB' }), true);
  assert.equal(m('{h=~"(?i:web)-DB"}', 'x', { h: 'WEB-db' }), false, 'outside the group case matters');
  assert.equal(m('{h=~"a(?i)b"}', 'x', { h: 'aB' }), true, '(?i) in the middle: to the end');
  assert.equal(m('{h=~"a(?i)b"}', 'x', { h: 'AB' }), false);
  assert.equal(m('{h=~"(x(?i)b)c"}', 'x', { h: 'xBc' }), true, 'to the end of the enclosing group');
  assert.equal(m('{h=~"(x(?i)b)c"}', 'x', { h: 'xBC' }), false);
  assert.equal(m('{h=~"(?i)[a-c]+"}', 'x', { h: 'AbC' }), true);
  assert.equal(m('{h=~"(?i:[^a])"}', 'x', { h: 'A' }), false, 'a negated class folds case too');
  assert.equal(m('{h=~"x(?i:[a-c])"}', 'x', { h: 'xB' }), true);
  assert.equal(m('{h=~"(?i)é"}', 'x', { h: 'É' }), true);
  // . matches a line break by default (Prometheus compiles ^(?s:…)$); (?-s) turns that off.
  assert.equal(m('{h=~"a.b"}', 'x', { h: 'a\nb' }), true);
  assert.equal(m('{h=~"(?-s)a.b"}', 'x', { h: 'a\nb' }), false);
  assert.equal(m('{h=~"(?s)a.b"}', 'x', { h: 'a\nb' }), true);
  // (?m): ^ and $ at line breaks; without it only at the ends.
  assert.equal(m('{h=~"(?m)a$\\n^b"}', 'x', { h: 'a\nb' }), true);
  assert.equal(m('{h=~"a$\\n^b"}', 'x', { h: 'a\nb' }), false);
  assert.equal(m('{h=~"(?is)A.B"}', 'x', { h: 'a\nb' }), true);
  assert.equal(m('{h=~"(?im)^X$"}', 'x', { h: 'x' }), true);
  assert.equal(m('{h=~"(?U)a+"}', 'x', { h: 'aaa' }), true, 'ungreedy changes no full match');
  // . is a code point, as in RE2.
  assert.equal(m('{h=~"."}', 'x', { h: '🔥' }), true);
});

test('other RE2 spellings: (?P<n>), \\A, \\z, \\Q…\\E, \\x{…}, octal, \\pL, POSIX classes, a literal {', () => {
  assert.equal(m('{h=~"(?P<n>a)b"}', 'x', { h: 'ab' }), true);
  assert.equal(m('{h=~"\\Aab\\z"}', 'x', { h: 'ab' }), true);
  assert.equal(m('{h=~"\\Qa.b\\E"}', 'x', { h: 'a.b' }), true);
  assert.equal(m('{h=~"\\Qa.b\\E"}', 'x', { h: 'axb' }), false);
  assert.equal(m('{h=~"\\x{1F525}"}', 'x', { h: '🔥' }), true);
  assert.equal(m('{h=~"\\101"}', 'x', { h: 'A' }), true);
  assert.equal(m('{h=~"\\pL+"}', 'x', { h: 'héllo' }), true);
  assert.equal(m('{h=~"\\p{Greek}+"}', 'x', { h: 'αβγ' }), true);
  assert.equal(m('{h=~"[[:digit:]]+x"}', 'x', { h: '42x' }), true);
  assert.equal(m('{h=~"a{"}', 'x', { h: 'a{' }), true);
  assert.equal(m('{h=~"a{2}"}', 'x', { h: 'aa' }), true);
  assert.equal(m('{h=~"web\\d+"}', 'x', { h: 'web12' }), true);
  assert.equal(m('{h=~"a\\-b"}', 'x', { h: 'a-b' }), true);
});

test("\\s and \\S are RE2's ASCII spaces, not JavaScript's Unicode ones", () => {
  for (const space of ['\t', '\n', '\f', '\r', ' ']) {
    assert.equal(m('{h=~"a\\sb"}', 'x', { h: `a${space}b` }), true, JSON.stringify(space));
    assert.equal(m('{h=~"a[\\s]b"}', 'x', { h: `a${space}b` }), true, JSON.stringify(space));
    assert.equal(m('{h=~"a\\Sb"}', 'x', { h: `a${space}b` }), false, JSON.stringify(space));
  }
  for (const other of ['\v', '\u00a0', '\u2028', '\u3000']) {
    assert.equal(m('{h=~"a\\sb"}', 'x', { h: `a${other}b` }), false, JSON.stringify(other));
    assert.equal(m('{h=~"a[\\s]b"}', 'x', { h: `a${other}b` }), false, JSON.stringify(other));
    assert.equal(m('{h=~"a\\Sb"}', 'x', { h: `a${other}b` }), true, JSON.stringify(other));
    assert.equal(m('{h=~"a[\\S]b"}', 'x', { h: `a${other}b` }), true, JSON.stringify(other));
    assert.equal(m('{h=~"a[^\\s]b"}', 'x', { h: `a${other}b` }), true, JSON.stringify(other));
  }
  assert.equal(m('{h=~"a[\\S]b"}', 'x', { h: 'a🔥b' }), true);
  assert.equal(m('{h=~"a[^\\S]b"}', 'x', { h: 'a b' }), true);
  assert.equal(m('{h=~"a[^\\S]b"}', 'x', { h: 'axb' }), false);
});

test("bad regexes: ERR_RONDO_INVALID_SELECTOR saying what is wrong, without JavaScript's restatement", () => {
  const cases: [string, RegExp][] = [
    [
      '{h=~"(?x)a"}',
      /^bad regex "\(\?x\)a" for h: unknown flag x in \(\?x\) \(RE2 flags are i, m, s and U\) at position 1$/,
    ],
    ['{h=~"(?i"}', /^bad regex "\(\?i" for h: /],
    ['{h=~"(a"}', /^bad regex "\(a" for h: missing \) at position 3$/],
    ['{h=~"a)"}', /^bad regex "a\)" for h: unexpected \) at position 2$/],
    ['{h=~"[a"}', /missing \] of a character class/],
    ['{h=~"\\y"}', /unknown escape \\y/],
    ['{h=~"[z-a]"}', /its end is before its start/],
    ['{h=~"a{2000}"}', /at most 1000/],
    ['{h=~"*"}', /^bad regex "\*" for h: Nothing to repeat$/],
    ['{h=~"(?-)a"}', /missing flags after - in \(\?-\) at position 1$/],
    // RE2 has no lookarounds and no backreferences (a lone \1 … \7; \12 is octal).
    ['{h=~"a(?=b)b"}', /unknown group \(\?…/],
    ['{h=~"a(?!b).*"}', /unknown group \(\?…/],
    ['{h=~"(?<=a)b"}', /unknown group \(\?…/],
    ['{h=~"(?<!a)b"}', /unknown group \(\?…/],
    [
      '{h=~"(a)\\1"}',
      /^bad regex "\(a\)\\\\1" for h: backreference \\1 is not supported \(RE2\) at position 5$/,
    ],
    ['{h=~"[\\7]"}', /backreference \\7 is not supported/],
  ];
  for (const [text, message] of cases)
    throwsCode(() => parseSelector(text), 'ERR_RONDO_INVALID_SELECTOR', message);
});

test('compileMatcher builds what the parser builds, and refuses a bad regex', () => {
  const [parsed] = parseSelector('{host=~"web.*"}');
  const built = compileMatcher('host', '=~', 'web.*');
  assert.deepEqual(built, parsed);
  assert.ok(selectorMatches([built], 'x', { host: 'web\n1' }), '. matches a line break');
  assert.ok(!selectorMatches([built], 'x', { host: 'db-web1' }), 'anchored');
  assert.deepEqual(compileMatcher('a', '!=', 'b'), { label: 'a', op: '!=', value: 'b' });
  throwsCode(() => compileMatcher('a', '=~', '('), 'ERR_RONDO_INVALID_SELECTOR', 'bad regex');
});

test('a hand-built =~ or !~ matcher without its regex gets it compiled, not matching nothing/everything', () => {
  const eq: Matcher = { label: 'host', op: '=~', value: 'web.*' };
  assert.equal(selectorMatches([eq], 'x', { host: 'web1' }), true);
  assert.equal(selectorMatches([eq], 'x', { host: 'db1' }), false);
  const ne: Matcher = { label: 'host', op: '!~', value: 'web.*' };
  assert.equal(selectorMatches([ne], 'x', { host: 'web1' }), false);
  assert.equal(selectorMatches([ne], 'x', { host: 'db1' }), true);
  throwsCode(
    () => selectorMatches([{ label: 'h', op: '=~', value: '(' }], 'x', {}),
    'ERR_RONDO_INVALID_SELECTOR',
    /^bad regex "\(" for h: /,
  );
});
