/**
 * Prometheus' HTTP API (`/api/v1`) over a store, for plain selectors: series, labels, label
 * values, instant and range queries, in Prometheus' JSON shapes. See docs/serve.md for what
 * differs (a range query returns the stored points of one tier, not one value per step).
 */
import type { SeriesInfo } from '../index.js';
import type { Context } from './context.js';
import { checkMethod, HttpError, requestParams, sendJson } from './http.js';
import {
  durationParam,
  matchParams,
  maxPointsParam,
  rangeParams,
  selectorParam,
  tierParam,
  timeParam,
} from './params.js';
import { coverageWarnings, matrixJson, metricJson, success, vectorJson } from './prom-json.js';
import { matchSeries, readRanges, TierPlanner } from './select.js';

/** How far back an instant query looks for a point (Prometheus' default lookback delta). */
export const LOOKBACK_MS = 300_000;
/** Prometheus' valid label names. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

async function params(ctx: Context): Promise<URLSearchParams> {
  checkMethod(ctx.req, ['GET', 'POST']);
  return requestParams(ctx.req, ctx.res, ctx.url, ctx.limits.maxFormBytes);
}

/**
 * Series whose schema holds data overlapping `[start, end]` (the store's block granularity, as
 * Prometheus answers from whole blocks); without a range, every series.
 */
function inRange(ctx: Context, series: SeriesInfo[], p: URLSearchParams): SeriesInfo[] {
  if (!p.has('start') && !p.has('end')) return series;
  const { start, end } = rangeParams(p, { start: -8.64e15, end: 8.64e15 });
  const spans = new Map<string, boolean>();
  for (const s of ctx.store.info().schemas) {
    const held = s.tiers.filter((t) => t.oldest !== null && t.newest !== null);
    spans.set(
      s.name,
      held.some((t) => t.oldest! <= end && t.newest! + t.interval > start),
    );
  }
  return series.filter((s) => spans.get(s.schema) === true);
}

/** GET|POST /api/v1/series?match[]=…&start&end */
export async function seriesEndpoint(ctx: Context): Promise<void> {
  const p = await params(ctx);
  const found = inRange(ctx, matchSeries(ctx.store, matchParams(p, true)), p);
  sendJson(ctx.res, success(`[${found.map(metricJson).join(',')}]`));
}

/** GET|POST /api/v1/labels?match[]=…&start&end */
export async function labelsEndpoint(ctx: Context): Promise<void> {
  const p = await params(ctx);
  const names = new Set<string>();
  const found = inRange(ctx, matchSeries(ctx.store, matchParams(p, false)), p);
  for (const s of found) {
    names.add('__name__');
    for (const k of Object.keys(s.labels)) names.add(k);
  }
  sendJson(ctx.res, success(JSON.stringify([...names].sort())));
}

/** GET /api/v1/label/<name>/values?match[]=…&start&end */
export async function labelValuesEndpoint(ctx: Context, name: string): Promise<void> {
  const p = await params(ctx);
  if (!LABEL_NAME.test(name) && name !== '__name__') {
    throw new HttpError(400, `invalid label name: ${JSON.stringify(name)}`);
  }
  const values = new Set<string>();
  for (const s of inRange(ctx, matchSeries(ctx.store, matchParams(p, false)), p)) {
    const v = name === '__name__' ? s.name : s.labels[name];
    if (v !== undefined) values.add(v);
  }
  sendJson(ctx.res, success(JSON.stringify([...values].sort())));
}

/** GET|POST /api/v1/query_range?query=<selector>&start&end&step[&tier][&max_points] */
export async function queryRangeEndpoint(ctx: Context): Promise<void> {
  const p = await params(ctx);
  const matchers = selectorParam(p.get('query') ?? '', 'query');
  const { start, end } = rangeParams(p);
  const step = durationParam(p, 'step');
  if (step === undefined) throw new HttpError(400, 'missing parameter step');
  const { limits } = ctx;
  const rows = readRanges(ctx.store, matchSeries(ctx.store, [matchers]), {
    start,
    end,
    step,
    tier: tierParam(p),
    maxPerSeries: maxPointsParam(p, limits.defaultPointsPerSeries, limits.maxPointsPerSeries),
    maxTotal: limits.maxPointsPerResponse,
    what: 'query_range',
  });
  sendJson(ctx.res, success(matrixJson(rows), coverageWarnings(rows)));
}

/** GET|POST /api/v1/query?query=<selector>&time: the newest point of each series within 5 minutes. */
export async function queryEndpoint(ctx: Context): Promise<void> {
  const p = await params(ctx);
  const matchers = selectorParam(p.get('query') ?? '', 'query');
  const time = timeParam(p, 'time', Date.now());
  const start = time - LOOKBACK_MS;
  const tier = tierParam(p);
  const planner = new TierPlanner(ctx.store);
  const rows: { series: SeriesInfo; value: number }[] = [];
  for (const s of matchSeries(ctx.store, [matchers])) {
    const plan = planner.plan(s.schema, start, time, tier);
    // Prometheus' lookback window is (time - 5m, time]; query() is start-inclusive, end-exclusive.
    const r = ctx.store.query(s.handle, { start: start + 1, end: Math.floor(time) + 1, tier: plan.tier });
    const last = r.values.length - 1;
    if (last >= 0) rows.push({ series: s, value: r.values[last]! });
  }
  sendJson(ctx.res, success(vectorJson(rows, time)));
}
