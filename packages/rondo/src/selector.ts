/**
 * Prometheus-style series selectors: `cpu_usage`, `cpu_usage{host="web1"}`, `{host=~"web.*"}`,
 * `{__name__="cpu_usage", host!="db1"}`, and the quoted names of Prometheus 3
 * (`{"http.requests", "k8s.pod"="a"}`) for names that are not identifiers.
 *
 * As in Prometheus: a label a series lacks has the value "", regexes (RE2 syntax, translated by
 * re2.ts: inline flags such as `(?i)` work) are anchored at both ends and `.` matches a line
 * break, `{}` matches every series. Bare names may also contain `.` (rondo metric names often
 * do) and any Unicode letter or digit; names with other characters must be quoted, and the
 * error says so. Positions in messages count code points, and characters are shown whole.
 */
import { RondoError } from './errors.js';
import { compileRe2 } from './re2.js';

/** A matcher operator. */
export type MatchOp = '=' | '!=' | '=~' | '!~';

/** One label matcher; the metric name is label `__name__`. */
export interface Matcher {
  /** Label name, or `__name__`. */
  label: string;
  /** Operator. */
  op: MatchOp;
  /** Value or regex source as written. */
  value: string;
  /** Compiled, anchored regex for `=~` and `!~`; compiled from `value` on first use when absent. */
  regex?: RegExp;
}

/** A selector that cannot be parsed: ERR_RONDO_INVALID_SELECTOR, the message names the position. */
function selectorError(message: string): RondoError {
  return new RondoError('ERR_RONDO_INVALID_SELECTOR', message);
}

/**
 * Bare names: Prometheus identifiers widened to Unicode letters, digits and marks, and `.`
 * (rondo metric names often have one); anything else must be quoted (`{"cpu-usage"}`).
 */
const NAME_START = /[\p{L}_:]/u;
const NAME_CHAR = /[\p{L}\p{M}\p{N}_:.]/u;
/** Characters that end a bare name without being part of the selector's syntax error. */
const SYNTAX = /[\s{}=!~,"'`]/u;
const ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  '"': '"',
  "'": "'",
  '`': '`',
};

/** A character for a message: quoted, with its code point when it is not plain ASCII. */
function describeChar(c: string): string {
  const cp = c.codePointAt(0) ?? 0;
  const code = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return cp >= 0x21 && cp < 0x7f ? JSON.stringify(c) : `${JSON.stringify(c)} (${code})`;
}

/** The parser of one selector; {@link parseSelector} runs it. */
class SelectorParser {
  private i = 0;
  readonly matchers: Matcher[] = [];

  constructor(private readonly text: string) {}

  /** The code point at the cursor as a string ('' at the end). */
  private char(): string {
    const cp = this.text.codePointAt(this.i);
    return cp === undefined ? '' : String.fromCodePoint(cp);
  }

  fail(what: string, hint = ''): never {
    const position = [...this.text.slice(0, this.i)].length + 1;
    throw selectorError(`bad selector ${JSON.stringify(this.text)}: ${what} at position ${position}${hint}`);
  }

  private skipSpace(): void {
    while (this.i < this.text.length && /\s/.test(this.char())) this.i++;
  }

  private ident(): string | null {
    if (!NAME_START.test(this.char())) return null;
    const from = this.i;
    while (this.i < this.text.length && NAME_CHAR.test(this.char())) this.i += this.char().length;
    return this.text.slice(from, this.i);
  }

  /** The name-like text from `from` up to the selector's own syntax, for a "quote it" hint. */
  private nameRun(from: number): string {
    let end = from;
    while (end < this.text.length) {
      const c = String.fromCodePoint(this.text.codePointAt(end) ?? 0);
      if (SYNTAX.test(c)) break;
      end += c.length;
    }
    return this.text.slice(from, end);
  }

  /** `unexpected "-" (…)` plus, for a character a bare name cannot hold, how to quote the name. */
  private unexpected(nameFrom: number | null, asLabel: boolean): never {
    const c = this.char();
    const run = nameFrom === null ? '' : this.nameRun(nameFrom);
    if (run === '' || SYNTAX.test(c))
      this.fail(this.i >= this.text.length ? 'unexpected end' : `unexpected ${describeChar(c)}`);
    const quoted = JSON.stringify(run);
    // A name before braces goes inside them: cpu-usage{host="a"} is {"cpu-usage", host="a"}.
    const after = this.text
      .slice(nameFrom ?? 0)
      .slice(run.length)
      .trim();
    const inner = after.startsWith('{') && after.endsWith('}') ? after.slice(1, -1).trim() : '';
    const example = asLabel
      ? `{${quoted}="…"}`
      : inner === ''
        ? `{${quoted}} or {__name__=${quoted}}`
        : `{${quoted}, ${inner}}`;
    return this.fail(
      `unexpected ${describeChar(c)}`,
      ` (a ${asLabel ? 'label' : 'metric'} name with characters other than letters, digits, _, : and . must be quoted: ${example})`,
    );
  }

  private quoted(): string | null {
    const q = this.text[this.i];
    if (q !== '"' && q !== "'" && q !== '`') return null;
    this.i++;
    let out = '';
    while (this.i < this.text.length && this.text[this.i] !== q) {
      const c = this.text[this.i] ?? '';
      if (c === '\\' && q !== '`' && this.i + 1 < this.text.length) out += this.escape();
      else {
        out += c;
        this.i++;
      }
    }
    if (this.i >= this.text.length) this.fail(`unterminated string (missing ${q})`);
    this.i++;
    return out;
  }

  /** An escape in a string (the cursor on the backslash): Go's escapes, \uXXXX and \UXXXXXXXX. */
  private escape(): string {
    const rest = this.text.slice(this.i + 1);
    const u = /^(?:u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|x([0-9a-fA-F]{2}))/.exec(rest);
    if (u) {
      const cp = Number.parseInt(u[1] ?? u[2] ?? u[3] ?? '', 16);
      if (cp > 0x10ffff) this.fail(`bad escape \\${u[0]}: beyond U+10FFFF`);
      this.i += 1 + u[0].length;
      return String.fromCodePoint(cp);
    }
    const next = String.fromCodePoint(rest.codePointAt(0) ?? 0);
    this.i += 1 + next.length;
    // Unknown escapes keep their backslash, so regexes like "web\d+" work as typed.
    return ESCAPES[next] ?? `\\${next}`;
  }

  /** One `label op "value"` (or a lone quoted metric name) inside braces. */
  private matcher(): void {
    const from = this.i;
    const bare = this.ident();
    const label = bare ?? this.quoted();
    if (label === null) {
      if (this.i >= this.text.length || SYNTAX.test(this.char())) this.fail('expected a label name');
      this.unexpected(from, true);
    }
    this.skipSpace();
    const op = /^(=~|!~|!=|=)/.exec(this.text.slice(this.i))?.[1] as MatchOp | undefined;
    if (op === undefined) {
      // A lone quoted string is the metric name (Prometheus 3 syntax).
      if (bare === null && (this.text[this.i] === ',' || this.text[this.i] === '}'))
        this.matchers.push({ label: '__name__', op: '=', value: label });
      else if (bare !== null && !SYNTAX.test(this.char()) && this.i < this.text.length)
        this.unexpected(from, true);
      else this.fail('expected =, !=, =~ or !~');
      return;
    }
    this.i += op.length;
    this.skipSpace();
    const value = this.quoted();
    if (value === null) this.fail('expected a quoted value');
    this.matchers.push(compileMatcher(label, op, value));
  }

  private braces(): void {
    this.i++;
    for (;;) {
      this.skipSpace();
      if (this.text[this.i] === '}') break;
      this.matcher();
      this.skipSpace();
      if (this.text[this.i] === ',') {
        this.i++;
        continue;
      }
      if (this.text[this.i] !== '}') this.fail('expected , or }');
    }
    this.i++;
  }

  run(): Matcher[] {
    this.skipSpace();
    const from = this.i;
    const name = this.ident();
    if (name !== null) this.matchers.push({ label: '__name__', op: '=', value: name });
    const afterName = this.i;
    this.skipSpace();
    if (this.text[this.i] === '{') this.braces();
    else if (name === null) {
      if (this.i >= this.text.length) this.fail('empty selector');
      if (SYNTAX.test(this.char())) this.fail('expected a metric name or {');
      this.unexpected(from, false);
    }
    this.skipSpace();
    if (this.i < this.text.length) {
      if (afterName === this.i && name !== null) this.unexpected(from, false);
      this.fail(`unexpected ${describeChar(this.char())}`);
    }
    return this.matchers;
  }
}

/** Parses a selector into matchers (the metric name first, when given); ERR_RONDO_INVALID_SELECTOR when malformed. */
export function parseSelector(text: string): Matcher[] {
  if (typeof text !== 'string') throw selectorError(`a selector must be a string, got ${typeof text}`);
  return new SelectorParser(text).run();
}

/** JavaScript's complaint about a pattern without its restatement of the (translated) pattern. */
function regexReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
}

/**
 * One matcher from its parts, with the parser's rules (RE2 regexes anchored at both ends, `.`
 * matching a line break); ERR_RONDO_INVALID_SELECTOR for a bad regex. Remote read builds its
 * matchers with it.
 */
export function compileMatcher(label: string, op: MatchOp, value: string): Matcher {
  if (op === '=' || op === '!=') return { label, op, value };
  return { label, op, value, regex: compileRegex(label, value) };
}

/** A matcher's RE2 regex as an anchored RegExp; ERR_RONDO_INVALID_SELECTOR when it is bad. */
function compileRegex(label: string, value: string): RegExp {
  try {
    return compileRe2(value);
  } catch (err) {
    throw selectorError(`bad regex ${JSON.stringify(value)} for ${label}: ${regexReason(err)}`);
  }
}

/** The regex of a `=~` or `!~` matcher; a hand-built one without it gets it compiled (and kept). */
function regexOf(m: Matcher): RegExp {
  m.regex ??= compileRegex(m.label, m.value);
  return m.regex;
}

/** True when a series with this name and labels satisfies every matcher. */
export function selectorMatches(
  matchers: readonly Matcher[],
  name: string,
  labels: Record<string, string>,
): boolean {
  for (const m of matchers) {
    const v = m.label === '__name__' ? name : (labels[m.label] ?? '');
    let ok: boolean;
    switch (m.op) {
      case '=':
        ok = v === m.value;
        break;
      case '!=':
        ok = v !== m.value;
        break;
      case '=~':
        ok = regexOf(m).test(v);
        break;
      case '!~':
        ok = !regexOf(m).test(v);
        break;
    }
    if (!ok) return false;
  }
  return true;
}
