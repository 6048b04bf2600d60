/**
 * Request parameters as Prometheus' HTTP API spells them: times as RFC 3339 or (fractional)
 * Unix seconds, steps as Prometheus durations or seconds, `match[]` selectors, and rondo's own
 * `tier` and `max_points`.
 */
import { type Matcher, parseDuration, parseSelector, type QueryFn } from '../index.js';
import { HttpError } from './http.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const SECONDS = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
/** Times beyond this many ms (year ±275760) are not dates. */
const MAX_TIME_MS = 8.64e15;

/** A time parameter in ms (RFC 3339 or Unix seconds); `fallback` when absent, 400 when malformed. */
export function timeParam(params: URLSearchParams, name: string, fallback?: number): number {
  const text = params.get(name);
  if (text === null || text === '') {
    if (fallback === undefined) throw new HttpError(400, `missing parameter ${name}`);
    return fallback;
  }
  let ms = Number.NaN;
  if (SECONDS.test(text)) ms = Number(text) * 1000;
  else if (RFC3339.test(text)) ms = Date.parse(text);
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_TIME_MS) {
    throw new HttpError(
      400,
      `invalid parameter ${name}: cannot parse ${JSON.stringify(text)} to a valid timestamp (use RFC 3339 or Unix seconds)`,
    );
  }
  return ms;
}

/** A duration parameter in ms: seconds (`15`, `0.5`) or a Prometheus duration (`15s`, `1m30s`). */
export function durationParam(params: URLSearchParams, name: string): number | undefined {
  const text = params.get(name);
  if (text === null || text === '') return undefined;
  let ms = Number.NaN;
  if (SECONDS.test(text)) ms = Number(text) * 1000;
  else {
    try {
      ms = parseDuration(text, name);
    } catch {
      // reported below
    }
  }
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new HttpError(
      400,
      `invalid parameter ${name}: ${JSON.stringify(text)} is not a positive duration (use e.g. 15s, 1m or seconds)`,
    );
  }
  return ms;
}

/** The `[start, end]` of a request (ms, inclusive); 400 when end is before start. */
export function rangeParams(
  params: URLSearchParams,
  defaults: { start?: number; end?: number } = {},
): { start: number; end: number } {
  const start = timeParam(params, 'start', defaults.start);
  const end = timeParam(params, 'end', defaults.end);
  if (end < start)
    throw new HttpError(400, 'invalid parameter end: end timestamp must not be before start time');
  return { start, end };
}

/** Parses one selector; anything that is not a plain selector is a 400 pointing at remote read. */
export function selectorParam(text: string, name: string): Matcher[] {
  try {
    return parseSelector(text);
  } catch (err) {
    throw new HttpError(
      400,
      `invalid parameter ${name}: ${(err as Error).message}. rondo answers plain series selectors only, ` +
        `like cpu_usage{host=~"web.*"}; for PromQL (functions, operators, ranges) query a Prometheus ` +
        'that reads this store through remote read (POST /api/v1/read, see docs/serve.md)',
    );
  }
}

/** The `match[]` selectors; with `required`, at least one (400 otherwise). */
export function matchParams(params: URLSearchParams, required: boolean): Matcher[][] {
  const texts = params.getAll('match[]');
  if (texts.length === 0 && required) throw new HttpError(400, 'no match[] parameter provided');
  return texts.map((t) => selectorParam(t, 'match[]'));
}

/** The `tier` parameter: 'auto' (default) or a tier index. */
export function tierParam(params: URLSearchParams): number | 'auto' {
  const text = params.get('tier');
  if (text === null || text === '' || text === 'auto') return 'auto';
  if (!/^\d{1,3}$/.test(text)) {
    throw new HttpError(400, `invalid parameter tier: ${JSON.stringify(text)} (use auto or a tier index)`);
  }
  return Number(text);
}

/** The `max_points` parameter (points per series): `fallback` when absent, at most `cap`. */
export function maxPointsParam(params: URLSearchParams, fallback: number, cap: number): number {
  const text = params.get('max_points');
  if (text === null || text === '') return fallback;
  const n = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 1 && n <= cap)) {
    throw new HttpError(
      400,
      `invalid parameter max_points: ${JSON.stringify(text)} (a whole number 1..${cap})`,
    );
  }
  return n;
}

/** The `fn` parameter of /api/rondo/query: rate, increase, or none (the raw values). */
export function fnParam(params: URLSearchParams): QueryFn | undefined {
  const text = params.get('fn');
  if (text === null || text === '') return undefined;
  if (text !== 'rate' && text !== 'increase') {
    throw new HttpError(400, `invalid parameter fn: ${JSON.stringify(text)} (rate or increase)`);
  }
  return text;
}
