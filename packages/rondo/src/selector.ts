/**
 * Prometheus-style series selectors: `cpu_usage`, `cpu_usage{host="web1"}`, `{host=~"web.*"}`,
 * `{__name__="cpu_usage", host!="db1"}`, and the quoted names of Prometheus 3
 * (`{"http.requests", "k8s.pod"="a"}`) for names that are not identifiers.
 *
 * As in Prometheus: a label a series lacks has the value "", regexes are anchored at both ends
 * (and `.` matches a line break), `{}` matches every series. Bare names may also contain `.`
 * because rondo metric names often do.
 */
import { RondoError } from './errors.js';

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
  /** Compiled, anchored regex for `=~` and `!~`. */
  regex?: RegExp;
}

/** A selector that cannot be parsed: ERR_RONDO_INVALID_SELECTOR, the message names the position. */
function selectorError(message: string): RondoError {
  return new RondoError('ERR_RONDO_INVALID_SELECTOR', message);
}

const NAME_START = /[A-Za-z_:]/;
const NAME_CHAR = /[A-Za-z0-9_:.]/;
const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '\\': '\\',
  '"': '"',
  "'": "'",
  '`': '`',
};

/** Parses a selector into matchers (the metric name first, when given); ERR_RONDO_INVALID_SELECTOR when malformed. */
export function parseSelector(text: string): Matcher[] {
  let i = 0;
  const fail = (what: string): never => {
    throw selectorError(`bad selector ${JSON.stringify(text)}: ${what} at position ${i + 1}`);
  };
  const skipSpace = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const ident = (): string | null => {
    if (i >= text.length || !NAME_START.test(text[i]!)) return null;
    const from = i;
    while (i < text.length && NAME_CHAR.test(text[i]!)) i++;
    return text.slice(from, i);
  };
  const quoted = (): string | null => {
    const q = text[i];
    if (q !== '"' && q !== "'" && q !== '`') return null;
    i++;
    let out = '';
    while (i < text.length && text[i] !== q) {
      const c = text[i]!;
      if (c === '\\' && q !== '`' && i + 1 < text.length) {
        const next = text[i + 1]!;
        const u = /^u([0-9a-fA-F]{4})/.exec(text.slice(i + 1));
        if (u) {
          out += String.fromCharCode(Number.parseInt(u[1]!, 16));
          i += 6;
          continue;
        }
        // Unknown escapes keep their backslash, so regexes like "web\d+" work as typed.
        out += ESCAPES[next] ?? `\\${next}`;
        i += 2;
        continue;
      }
      out += c;
      i++;
    }
    if (i >= text.length) fail(`unterminated string (missing ${q})`);
    i++;
    return out;
  };

  const matchers: Matcher[] = [];
  skipSpace();
  const name = ident();
  if (name !== null) matchers.push({ label: '__name__', op: '=', value: name });
  skipSpace();
  if (text[i] === '{') {
    i++;
    for (;;) {
      skipSpace();
      if (text[i] === '}') break;
      const bare = ident();
      const label = bare ?? quoted();
      if (label === null) fail('expected a label name');
      skipSpace();
      const op = /^(=~|!~|!=|=)/.exec(text.slice(i))?.[1] as MatchOp | undefined;
      if (op === undefined) {
        // A lone quoted string is the metric name (Prometheus 3 syntax).
        if (bare === null && (text[i] === ',' || text[i] === '}')) {
          matchers.push({ label: '__name__', op: '=', value: label! });
        } else fail('expected =, !=, =~ or !~');
      } else {
        i += op.length;
        skipSpace();
        const value = quoted();
        if (value === null) fail('expected a quoted value');
        matchers.push(compileMatcher(label!, op, value!));
      }
      skipSpace();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] !== '}') fail('expected , or }');
    }
    i++;
  } else if (name === null) {
    fail(i >= text.length ? 'empty selector' : 'expected a metric name or {');
  }
  skipSpace();
  if (i < text.length) fail(`unexpected ${JSON.stringify(text[i])}`);
  return matchers;
}

/**
 * One matcher from its parts, as the parser builds it (regexes anchored, `.` matching a line
 * break): for matchers that arrive already split, e.g. in a Prometheus remote-read request.
 * ERR_RONDO_INVALID_SELECTOR for a regex that does not compile.
 */
export function compileMatcher(label: string, op: MatchOp, value: string): Matcher {
  if (op === '=' || op === '!=') return { label, op, value };
  try {
    return { label, op, value, regex: new RegExp(`^(?:${value})$`, 's') };
  } catch (err) {
    throw selectorError(`bad regex ${JSON.stringify(value)} for ${label}: ${(err as Error).message}`);
  }
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
        ok = m.regex!.test(v);
        break;
      case '!~':
        ok = !m.regex!.test(v);
        break;
    }
    if (!ok) return false;
  }
  return true;
}
