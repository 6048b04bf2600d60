// Argument rules shared by the store, drain and push: each rule written once.
import { RondoError } from './errors.js';

/**
 * Throws ERR_RONDO_INVALID_ARGUMENT unless `options` is undefined or an object whose keys are
 * all in `allowed` (a misspelt option would otherwise be ignored silently).
 */
export function checkOptions(what: string, options: unknown, allowed: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new RondoError(
      'ERR_RONDO_INVALID_ARGUMENT',
      `${what}: options must be an object like { ${allowed.join(', ')} }`,
    );
  }
  checkKeys('ERR_RONDO_INVALID_ARGUMENT', what, options, allowed);
}

/**
 * A tier index: a whole number ≥ 0 that `exists` accepts; ERR_RONDO_INVALID_TIER otherwise,
 * with `have` saying which tiers there are (e.g. "schema vm has tiers 0..2").
 */
export function checkTier(what: string, tier: unknown, exists: (t: number) => boolean, have: string): number {
  if (typeof tier !== 'number' || !Number.isInteger(tier) || tier < 0 || !exists(tier)) {
    throw new RondoError(
      'ERR_RONDO_INVALID_TIER',
      `${what}: tier ${JSON.stringify(tier)} does not exist (${have})`,
    );
  }
  return tier;
}

/** Default of {@link checkMaxSamples}. */
export const DEFAULT_MAX_SAMPLES = 10_000;

/** A batch bound: a whole number ≥ 1 (default 10 000); ERR_RONDO_INVALID_ARGUMENT otherwise. */
export function checkMaxSamples(what: string, value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_SAMPLES;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new RondoError(
      'ERR_RONDO_INVALID_ARGUMENT',
      `${what}: maxSamples must be a whole number ≥ 1, got ${String(value)}`,
    );
  }
  return value;
}

/** A query bound in ms (finite number, or undefined for "open"); ERR_RONDO_INVALID_RANGE otherwise. */
export function checkTime(what: string, name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RondoError(
      'ERR_RONDO_INVALID_RANGE',
      `${what}: ${name} must be a finite number of ms, got ${String(value)}`,
    );
  }
  return value;
}

/** Edit distance between two short words (for "did you mean"). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The candidate closest to `word` (by edit distance, or one containing the other), if any is close. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const lw = word.toLowerCase();
    const lc = c.toLowerCase();
    const score = lc.startsWith(lw) || lw.startsWith(lc) ? 0.5 : distance(word, c);
    if (score < bestScore) [best, bestScore] = [c, score];
  }
  return bestScore <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/**
 * Throws `code` when `obj` has a key that is not in `allowed` (a typo would otherwise be
 * ignored silently), naming the key, the closest valid one and `hints[key]` when given.
 */
export function checkKeys(
  code: 'ERR_RONDO_CONFIG' | 'ERR_RONDO_INVALID_ARGUMENT',
  what: string,
  obj: object,
  allowed: readonly string[],
  hints: Readonly<Record<string, string>> = {},
): void {
  for (const key of Object.keys(obj)) {
    if (allowed.includes(key)) continue;
    const near = closest(key, allowed);
    const hint = Object.hasOwn(hints, key)
      ? ` (${hints[key]})`
      : near !== undefined
        ? ` (did you mean ${near}?)`
        : '';
    throw new RondoError(
      code,
      `${what}: unknown option ${JSON.stringify(key)}${hint}; valid: ${allowed.join(', ')}`,
    );
  }
}
