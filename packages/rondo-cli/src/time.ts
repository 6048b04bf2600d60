/**
 * Time and duration arguments, one rule for every command: instants are RFC 3339 or epoch
 * milliseconds (`…ms`/`…s` suffixes say the unit outright); durations are `90s`, `10m`, `1h30m`,
 * `7d`, always with a unit. Each `…Option` function turns a bad value into a usage error that
 * says what is wrong (negative, zero, no unit, too long, seconds where ms are expected).
 */
import { DURATION_UNITS, MAX_TIMER_MS, parseDuration } from 'rondo';
import { usageError } from './cli.js';
import { formatTime } from './text.js';

/** The last instant a JavaScript Date can show (year 275760), ms. */
export const MAX_TIME_MS = 8.64e15;

/**
 * Epoch values in [1e8, 1e11) are ambiguous: as seconds they are 1973–5138, as milliseconds
 * the first three years of 1970. Nobody means the latter, so a bare number there is refused.
 */
const SECONDS_FROM = 1e8;
const SECONDS_TO = 1e11;

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2}))?$/;

/** An RFC 3339 instant (or a date, midnight UTC) in ms; null when it is not one or names no real date. */
function parseRfc3339(t: string): number | null {
  const m = RFC3339.exec(t);
  if (!m) return null;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m;
  // Date.parse rolls 2024-02-30 over to March; check the fields survive a round trip instead.
  const probe = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
  if (
    probe.getUTCFullYear() !== Number(y) ||
    probe.getUTCMonth() !== Number(mo) - 1 ||
    probe.getUTCDate() !== Number(d) ||
    probe.getUTCHours() !== Number(h) ||
    probe.getUTCMinutes() !== Number(mi) ||
    probe.getUTCSeconds() !== Number(s)
  )
    return null;
  let ms = probe.getTime() + (frac ? Math.floor(Number(`0${frac}`) * 1000) : 0);
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const offH = Number(zone.slice(1, 3));
    const offM = Number(zone.slice(4, 6));
    if (offH > 23 || offM > 59) return null;
    ms -= sign * (offH * 60 + offM) * 60_000;
  }
  return ms;
}

/**
 * Parses `2024-05-01T12:00:00Z` (any offset, optional fraction), `2024-05-01` (midnight UTC),
 * epoch milliseconds (`1714564800000`, or `1714564800000ms`) or epoch seconds with their unit
 * (`1714564800s`, up to 3 decimals); null when the text is none of these, names no real date or
 * lies outside 1970 … {@link MAX_TIME_MS}. A bare number is taken as ms as written (see
 * {@link timeOption} for the seconds check).
 */
export function parseTime(text: string): number | null {
  const t = text.trim();
  const epoch = /^(\d+)(ms)?$/.exec(t);
  const secs = /^(\d+(?:\.\d{1,3})?)s$/.exec(t);
  let ms: number | null;
  if (epoch) ms = Number(epoch[1]);
  else if (secs) ms = Math.round(Number(secs[1]) * 1000);
  else ms = parseRfc3339(t);
  return ms !== null && Number.isSafeInteger(ms) && ms >= 0 && ms <= MAX_TIME_MS ? ms : null;
}

/** The value of time option `--name` of command `cmd`, undefined when absent; else a usage error. */
export function timeOption(cmd: string, name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  const forms = 'use RFC 3339 like 2024-05-01T12:00:00Z, epoch milliseconds, or epoch seconds as 1714564800s';
  if (/^-\d/.test(t))
    throw usageError(cmd, `--${name} ${t} is not a valid time: epoch times cannot be negative (${forms})`);
  const ms = parseTime(t);
  if (ms === null) {
    if (/^\d+(?:ms|(?:\.\d+)?s)?$/.test(t))
      throw usageError(
        cmd,
        `--${name} ${t} is out of range: times go from 1970 to ${formatTime(MAX_TIME_MS)}`,
      );
    throw usageError(cmd, `cannot parse --${name} ${JSON.stringify(text)} (${forms})`);
  }
  if (/^\d+$/.test(t) && ms >= SECONDS_FROM && ms < SECONDS_TO)
    throw usageError(
      cmd,
      `--${name} ${t} looks like epoch seconds (as milliseconds it is ${formatTime(ms)}): write ${t}s for seconds, ${t}ms if you mean milliseconds, or RFC 3339 like ${formatTime(ms * 1000)}`,
    );
  return ms;
}

/** Limits of {@link durationOption}. */
export interface DurationLimits {
  /** Longest allowed, ms; default MAX_TIMER_MS (what a timer can wait). */
  max?: number;
  /** Words for the limit in the message; default "a timer can wait (about 24.8 days)". */
  maxWhat?: string;
  /** Extra words after "a negative duration is not allowed", e.g. how to say what was meant. */
  negativeHint?: string;
}

const DURATION_FORM = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/;
const DURATION_EXAMPLES = 'e.g. 500ms, 30s, 10m, 1h30m, 7d';

/** The approximate value (double arithmetic) of a text that matches DURATION_FORM. */
function roughDuration(text: string): number {
  let ms = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g))
    ms += Number(m[1]) * (DURATION_UNITS[m[2] ?? ''] ?? 0);
  return ms;
}

/**
 * The value (ms) of duration option `name` (e.g. `--every`) of command `cmd`; `fallback` when
 * absent. A usage error that says why for a negative, zero, unit-less, fractional-ms,
 * unparseable or too long value.
 */
export function durationOption(
  cmd: string,
  name: string,
  text: string | undefined,
  fallback: number,
  limits: DurationLimits = {},
): number {
  if (text === undefined) return fallback;
  const t = text.trim();
  const max = limits.max ?? MAX_TIMER_MS;
  if (/^-/.test(t))
    throw usageError(cmd, `${name} ${t}: a negative duration is not allowed${limits.negativeHint ?? ''}`);
  if (/^\d+(?:\.\d+)?$/.test(t))
    throw usageError(
      cmd,
      Number(t) === 0
        ? `${name} must be longer than 0, got ${JSON.stringify(text)} (${DURATION_EXAMPLES})`
        : `${name} ${t} needs a unit: ${t}ms, ${t}s, ${t}m, ${t}h or ${t}d`,
    );
  if (!DURATION_FORM.test(t))
    throw usageError(cmd, `cannot parse ${name} ${JSON.stringify(text)} (${DURATION_EXAMPLES})`);
  const rough = roughDuration(t);
  if (rough === 0) throw usageError(cmd, `${name} must be longer than 0, got ${JSON.stringify(text)}`);
  if (rough > max)
    throw usageError(
      cmd,
      `${name} ${t} is longer than ${limits.maxWhat ?? `a timer can wait (at most ${max} ms, about 24.8 days)`}`,
    );
  if (!Number.isInteger(rough) && rough < 1) throw usageError(cmd, `${name} ${t} is shorter than 1 ms`);
  try {
    return parseDuration(t, name);
  } catch {
    throw usageError(cmd, `${name} ${t} is not a whole number of milliseconds`);
  }
}

/** Parses a --range value: a duration in ms (`90s`, `1h30m`, `7d`), or null for `all`. */
export function rangeOption(cmd: string, text: string | undefined, fallback: string): number | null {
  const t = (text ?? fallback).trim();
  if (t === 'all') return null;
  return durationOption(cmd, '--range', t, 0, {
    max: MAX_TIME_MS,
    maxWhat: 'all of time (use --range all for everything kept)',
    negativeHint: ` (--range counts back from the newest point: use e.g. --range ${t.slice(1)})`,
  });
}
