/**
 * Prometheus regexes (RE2 syntax) as JavaScript RegExps, anchored at both ends with `.` matching
 * a line break by default, as Prometheus compiles them (`^(?s:…)$`).
 *
 * What RE2 has and JavaScript spells differently is translated: inline flags `(?i)`, `(?s)`,
 * `(?m)`, `(?U)` and their negations, at the start, in the middle (to the end of the enclosing
 * group) or scoped (`(?i:…)`); `(?P<name>…)`; `\A`, `\z`, `\Q…\E`, `\x{…}`, octal `\123`, `\pL`;
 * `\s` and `\S` (RE2's are ASCII: `[\t\n\f\r ]`); POSIX classes `[[:alpha:]]`; a `{` that is not a repetition is a literal. The result uses the
 * `u` flag, so `.` and classes work on code points as in RE2. Case-insensitivity that covers
 * the whole pattern uses JavaScript's `i` flag; a scoped one spells both cases out.
 */

/** A pattern that cannot be translated; the message says what and where. */
class Re2Error extends Error {}

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
}

/** ASCII ranges of the POSIX classes RE2 accepts inside brackets. */
const POSIX: Record<string, [number, number][]> = {
  alnum: [
    [48, 57],
    [65, 90],
    [97, 122],
  ],
  alpha: [
    [65, 90],
    [97, 122],
  ],
  ascii: [[0, 127]],
  blank: [
    [9, 9],
    [32, 32],
  ],
  cntrl: [
    [0, 31],
    [127, 127],
  ],
  digit: [[48, 57]],
  graph: [[33, 126]],
  lower: [[97, 122]],
  print: [[32, 126]],
  punct: [
    [33, 47],
    [58, 64],
    [91, 96],
    [123, 126],
  ],
  space: [
    [9, 13],
    [32, 32],
  ],
  upper: [[65, 90]],
  word: [
    [48, 57],
    [65, 90],
    [95, 95],
    [97, 122],
  ],
  xdigit: [
    [48, 57],
    [65, 70],
    [97, 102],
  ],
};

/** Characters that must be escaped to stand for themselves in a u-mode pattern. */
const SYNTAX = new Set('^$\\.*+?()[]{}|/');
/** Characters that must be escaped inside a u-mode class. */
const CLASS_SYNTAX = new Set('\\]^-[');
/** Single-letter escapes that mean the same in RE2 and JavaScript. */
const SAME_ESCAPES = new Set('dDwWbBfnrtv');
/**
 * RE2's `\s` and `\S` as the inside of a class: RE2's is `[\t\n\f\r ]`, JavaScript's also
 * holds \v, U+00A0, U+2028 and the rest of Unicode's spaces.
 */
const SPACE_CLASSES: Record<string, string> = {
  s: '\\t\\n\\f\\r ',
  S: '\\u{0}-\\u{8}\\u{b}\\u{e}-\\u{1f}\\u{21}-\\u{10ffff}',
};

/** The code point as pattern text that stands for itself (escaped where it is syntax). */
function literal(cp: number, inClass: boolean): string {
  const c = String.fromCodePoint(cp);
  if ((inClass ? CLASS_SYNTAX : SYNTAX).has(c)) return `\\${c}`;
  if (cp < 32 || cp === 127) return `\\u{${cp.toString(16)}}`;
  return c;
}

/** The other case(s) of a code point, by simple case mapping. */
function otherCases(cp: number): number[] {
  const c = String.fromCodePoint(cp);
  const out = new Set<number>();
  for (const v of [c.toLowerCase(), c.toUpperCase()]) {
    const o = v.codePointAt(0);
    if (o !== undefined && o !== cp && [...v].length === 1) out.add(o);
  }
  return [...out];
}

/** The translation of one pattern; {@link translate} runs it. */
class Translator {
  private i = 0;
  private out = '';
  /** Case-sensitive characters emitted with `i` on and off (to tell whether `i` is global). */
  caseOn = 0;
  caseOff = 0;
  private readonly stack: Flags[] = [];
  private flags: Flags = { i: false, m: false, s: true };

  constructor(
    private readonly src: string,
    /** When true, `i` is left to the RegExp flag instead of spelling both cases out. */
    private readonly iByFlag: boolean,
  ) {}

  fail(what: string): never {
    throw new Re2Error(`${what} at position ${[...this.src.slice(0, this.i)].length + 1}`);
  }

  run(): string {
    while (this.i < this.src.length) this.step();
    if (this.stack.length > 0) this.fail('missing )');
    return this.out;
  }

  private peek(offset = 0): string {
    return this.src[this.i + offset] ?? '';
  }

  /** The code point at the cursor, and moves past it. */
  private take(): number {
    const cp = this.src.codePointAt(this.i) ?? 0;
    this.i += cp > 0xffff ? 2 : 1;
    return cp;
  }

  private step(): void {
    const c = this.peek();
    if (c === '\\') {
      this.escape();
      return;
    }
    if (c === '[') {
      this.charClass();
      return;
    }
    if (c === '(') {
      this.open();
      return;
    }
    if (c === ')') {
      this.close();
      return;
    }
    this.i++;
    if (c === '.') this.out += this.flags.s ? '[^]' : '[^\\n]';
    else if (c === '^') this.out += this.flags.m ? '(?<![^\\n])' : '^';
    else if (c === '$') this.out += this.flags.m ? '(?![^\\n])' : '$';
    else if (c === '|' || c === '*' || c === '+' || c === '?') this.out += c;
    else if (c === '{') this.brace();
    else {
      this.i--;
      this.char(this.take());
    }
  }

  /** A `{`: a repetition `{n}`, `{n,}`, `{n,m}` when it is one, else a literal (as in RE2). */
  private brace(): void {
    const m = /^(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i));
    if (m === null) {
      this.out += '\\{';
      return;
    }
    const lo = Number(m[1]);
    const hi = m[3] ? Number(m[3]) : lo;
    if (lo > 1000 || hi > 1000) this.fail('bad repetition: at most 1000 (RE2)');
    if (hi < lo) this.fail(`bad repetition {${m[1]}${m[2] ?? ''}}: the maximum is below the minimum`);
    this.out += `{${m[0]}`;
    this.i += m[0].length;
  }

  /** A literal code point, with both cases under a scoped `i`. */
  private char(cp: number): void {
    const others = otherCases(cp);
    if (others.length > 0) {
      if (this.flags.i) this.caseOn++;
      else this.caseOff++;
    }
    if (this.flags.i && !this.iByFlag && others.length > 0)
      this.out += `[${[cp, ...others].map((o) => literal(o, true)).join('')}]`;
    else this.out += literal(cp, false);
  }

  /** An escape outside a class. */
  private escape(): void {
    this.i++;
    if (this.i >= this.src.length) this.fail('trailing \\');
    const c = this.peek();
    if (c === 'A') {
      this.i++;
      this.out += '^';
    } else if (c === 'z') {
      this.i++;
      this.out += '$';
    } else if (c === 'Q') {
      this.i++;
      const end = this.src.indexOf('\\E', this.i);
      const text = this.src.slice(this.i, end < 0 ? undefined : end);
      for (const ch of text) this.char(ch.codePointAt(0) ?? 0);
      this.i = end < 0 ? this.src.length : end + 2;
    } else if (c === 'b' || c === 'B') {
      this.i++;
      this.out += `\\${c}`;
    } else {
      const item = this.escapeItem(false);
      if (typeof item === 'number') this.char(item);
      else this.out += item;
    }
  }

  /**
   * An escape that stands for a character (its code point) or a set (pattern text such as
   * `\d` or `\p{L}`); the cursor is just after the backslash.
   */
  private escapeItem(inClass: boolean): number | string {
    const c = this.peek();
    const rest = this.src.slice(this.i);
    let m: RegExpExecArray | null;
    if ((m = /^x\{([0-9A-Fa-f]{1,6})\}/.exec(rest)) || (m = /^x([0-9A-Fa-f]{2})/.exec(rest))) {
      this.i += m[0].length;
      const cp = Number.parseInt(m[1] ?? '', 16);
      if (cp > 0x10ffff) this.fail('bad escape: beyond U+10FFFF');
      return cp;
    }
    if (/^[1-7](?![0-7])/.test(rest)) this.fail(`backreference \\${c} is not supported (RE2)`);
    if ((m = /^[0-7]{1,3}/.exec(rest))) {
      this.i += m[0].length;
      return Number.parseInt(m[0], 8);
    }
    if ((m = /^([pP])(\{\^?[A-Za-z_]+\}|[A-Za-z])/.exec(rest))) {
      this.i += m[0].length;
      return unicodeClass(m[1] ?? 'p', m[2] ?? '', (w) => this.fail(w));
    }
    this.i++;
    if (c === 'a') return 7;
    const space = SPACE_CLASSES[c];
    if (space !== undefined) return inClass ? space : `[${space}]`;
    if (SAME_ESCAPES.has(c)) return `\\${c}`;
    if (/[A-Za-z0-9]/.test(c)) {
      this.i--;
      return this.fail(`unknown escape \\${c}`);
    }
    this.i--;
    return this.take();
  }

  /** A bracket expression `[…]`, re-spelt for JavaScript; both cases under a scoped `i`. */
  private charClass(): void {
    this.i++;
    let negated = false;
    if (this.peek() === '^') {
      negated = true;
      this.i++;
    }
    const ranges: [number, number][] = [];
    const sets: string[] = [];
    for (let first = true; ; first = false) {
      if (this.i >= this.src.length) this.fail('missing ] of a character class');
      if (this.peek() === ']' && !first) break;
      this.classItem(ranges, sets);
    }
    this.i++;
    if (this.flags.i) {
      if (ranges.length > 0) this.caseOn++;
      if (!this.iByFlag) ranges.push(...caseVariants(ranges));
    } else if (ranges.length > 0) this.caseOff++;
    const body = ranges.map(([lo, hi]) =>
      lo === hi ? literal(lo, true) : `${literal(lo, true)}-${literal(hi, true)}`,
    );
    this.out += `[${negated ? '^' : ''}${body.join('')}${sets.join('')}]`;
  }

  /** One member of a class: a POSIX class, a set escape, a character or a range. */
  private classItem(ranges: [number, number][], sets: string[]): void {
    const posix = /^\[:(\^?)([a-z]+):\]/.exec(this.src.slice(this.i));
    if (posix) {
      const table = POSIX[posix[2] ?? ''];
      if (table === undefined) this.fail(`unknown POSIX class [:${posix[2]}:]`);
      if (posix[1] === '^') this.fail(`negated POSIX class [:^${posix[2]}:] is not supported here`);
      ranges.push(...table);
      this.i += posix[0].length;
      return;
    }
    const lo = this.classAtom();
    if (typeof lo === 'string') {
      sets.push(lo);
      return;
    }
    if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== '') {
      this.i++;
      const hi = this.classAtom();
      if (typeof hi === 'string') this.fail('bad character class range');
      if (hi < lo) this.fail('bad character class range: its end is before its start');
      ranges.push([lo, hi]);
    } else ranges.push([lo, lo]);
  }

  /** A character (code point) or a set escape (pattern text) inside a class. */
  private classAtom(): number | string {
    if (this.peek() !== '\\') return this.take();
    this.i++;
    if (this.i >= this.src.length) this.fail('trailing \\');
    return this.escapeItem(true);
  }

  /** `(`: a group, a flag group `(?i)` or `(?i:…)`, or a named group `(?P<n>…)`; RE2 has no lookarounds. */
  private open(): void {
    this.i++;
    const rest = this.src.slice(this.i);
    const flagged = /^\?([A-Za-z]*)(?:-([A-Za-z]*))?([:)])/.exec(rest);
    if (flagged && (flagged[1] !== '' || flagged[2] !== undefined || flagged[3] === ':')) {
      const changed = this.withFlags(flagged[1] ?? '', flagged[2] ?? '', flagged[0]);
      this.i += flagged[0].length;
      if (flagged[3] === ')') {
        this.flags = changed; // to the end of the enclosing group
        return;
      }
      this.stack.push(this.flags);
      this.flags = changed;
      this.out += '(?:';
      return;
    }
    const named = /^\?P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
    this.stack.push(this.flags);
    this.flags = { ...this.flags };
    if (named) {
      this.i += named[0].length;
      this.out += `(?<${named[1]}>`;
    } else if (rest.startsWith('?'))
      this.fail('unknown group (?…: use (?:…), (?P<name>…) or flags like (?i)');
    else this.out += '(';
  }

  private close(): void {
    const outer = this.stack.pop();
    if (outer === undefined) this.fail('unexpected )');
    this.i++;
    this.flags = outer;
    this.out += ')';
  }

  /** The flags after `(?on-off…`: i, m, s and U (ungreedy, which changes no full match). */
  private withFlags(on: string, off: string, written: string): Flags {
    const next = { ...this.flags };
    for (const [letters, value] of [
      [on, true],
      [off, false],
    ] as const) {
      for (const f of letters) {
        if (f === 'i' || f === 'm' || f === 's') next[f] = value;
        else if (f !== 'U') {
          this.i--; // at the group's (
          this.fail(`unknown flag ${f} in (${written.slice(0, -1)}) (RE2 flags are i, m, s and U)`);
        }
      }
    }
    if (written.includes('-') && off === '') {
      this.i--;
      this.fail(`missing flags after - in (${written.slice(0, -1)})`);
    }
    return next;
  }
}

/** `\pL`, `\p{Greek}`, `\P{^Lu}` as JavaScript (u mode) text; scripts get `Script=`. */
function unicodeClass(p: string, spec: string, fail: (what: string) => never): string {
  let name = spec.startsWith('{') ? spec.slice(1, -1) : spec;
  let negate = p === 'P';
  if (name.startsWith('^')) {
    negate = !negate;
    name = name.slice(1);
  }
  const letter = negate ? 'P' : 'p';
  if (name === 'Any') return negate ? '[^\\s\\S]' : '[\\s\\S]';
  for (const text of [`\\${letter}{${name}}`, `\\${letter}{Script=${name}}`]) {
    try {
      new RegExp(text, 'u');
      return text;
    } catch {
      // not this spelling
    }
  }
  return fail(`unknown Unicode class \\${p}${spec}`);
}

/** Extra ranges holding the other case of every letter in `ranges` (simple case mapping). */
function caseVariants(ranges: readonly [number, number][]): [number, number][] {
  const extra: [number, number][] = [];
  for (const [lo, hi] of ranges) {
    // A huge range (e.g. everything) holds both cases of what matters already.
    if (hi - lo > 0x3000) continue;
    for (let cp = lo; cp <= hi; cp++)
      for (const o of otherCases(cp)) if (o < lo || o > hi) extra.push([o, o]);
  }
  return extra;
}

/**
 * Compiles a Prometheus (RE2) regex into an anchored JavaScript RegExp; throws {@link Re2Error}
 * (for syntax JavaScript would read differently) or the RegExp's SyntaxError.
 */
export function compileRe2(source: string): RegExp {
  const spelt = new Translator(source, false);
  const text = spelt.run();
  // Case-insensitive everywhere it matters: JavaScript's own `i` folds case fully.
  if (spelt.caseOn > 0 && spelt.caseOff === 0)
    return new RegExp(`^(?:${new Translator(source, true).run()})$`, 'ui');
  return new RegExp(`^(?:${text})$`, 'u');
}
