/**
 * rondo's own JSON endpoints, for the dashboard and for programs that want a store's shape:
 * `/api/rondo/info` (store.info()), `/api/rondo/series`, and `/api/rondo/query`, which answers a
 * range in columns (one value array per series on its tier's grid, null where a slot has no
 * point) so a day of 1 s points is one small, fast response that a chart can use as it is.
 */
import { formatSeries, type QueryFn } from '../index.js';
import type { Context } from './context.js';
import { checkMethod, HttpError, requestParams, sendJson } from './http.js';
import { durationParam, fnParam, maxPointsParam, selectorParam, tierParam, timeParam } from './params.js';
import { success } from './prom-json.js';
import { matchSeries, readRanges, type SeriesPoints } from './select.js';

/** GET /api/rondo/info: store.info(), plus the store's newest time and the server's clock. */
export function infoEndpoint(ctx: Context): void {
  checkMethod(ctx.req, ['GET']);
  const info = ctx.store.info();
  sendJson(ctx.res, success(JSON.stringify({ ...info, newestEnd: ctx.store.newestEnd(), now: Date.now() })));
}

/** GET /api/rondo/series: every series, `{handle, name, labels, schema, type, id}` (id: the selector text). */
export function seriesListEndpoint(ctx: Context): void {
  checkMethod(ctx.req, ['GET']);
  const list = ctx.store.series().map((s) => ({ ...s, id: formatSeries(s.name, s.labels) }));
  sendJson(ctx.res, success(JSON.stringify(list)));
}

/**
 * One series as columns: values on the grid `first + i × interval`. With `base64`, the values are
 * the little-endian float64 bytes in base64, NaN where a slot has no point (a day of 1 s points
 * in about a millisecond, decoded by the page with one Float64Array); otherwise a JSON array with
 * null for those slots.
 */
export function columnsJson(row: SeriesPoints, base64 = false, fn?: QueryFn): string {
  const { series, result } = row;
  const { timestamps, values, interval } = result;
  const n = timestamps.length;
  const first = n > 0 ? timestamps[0]! : null;
  const head = JSON.stringify({
    name: series.name,
    labels: series.labels,
    schema: series.schema,
    type: series.type,
    ...(fn === undefined ? {} : { fn }),
    id: formatSeries(series.name, series.labels),
    tier: result.tier,
    interval,
    covered: result.covered,
    points: n,
    first,
  });
  const grid = new Float64Array(first === null ? 0 : Math.round((timestamps[n - 1]! - first) / interval) + 1);
  grid.fill(Number.NaN);
  for (let i = 0; i < n; i++) grid[Math.round((timestamps[i]! - first!) / interval)] = values[i]!;
  const cells = base64
    ? `"${Buffer.from(grid.buffer, grid.byteOffset, grid.byteLength).toString('base64')}"`
    : JSON.stringify(Array.from(grid, (v) => (Number.isFinite(v) ? v : null)));
  return `${head.slice(0, -1)},"encoding":"${base64 ? 'base64' : 'json'}","values":${cells}}`;
}

/**
 * GET|POST /api/rondo/query?query=<selector>[&range=1h | &start=…][&end=…][&after=<ms>][&tier][&step]
 * [&max_points][&encoding=base64][&fn=rate|increase]. Times as in /api/v1 (RFC 3339 or Unix seconds); `end` defaults to the newest
 * point of the store (its clock, so an idle store still shows its last hour); `after` (ms) keeps
 * the tier chosen for `start` but returns only newer points, for charts that follow a writer;
 * `fn` reads the series as counters (per-second rate or increase at each point, see Store.query).
 */
export async function rondoQueryEndpoint(ctx: Context): Promise<void> {
  checkMethod(ctx.req, ['GET', 'POST']);
  const p = await requestParams(ctx.req, ctx.res, ctx.url, ctx.limits.maxFormBytes);
  const matchers = selectorParam(p.get('query') ?? '', 'query');
  const newest = ctx.store.newestEnd();
  const end = timeParam(p, 'end', newest === null ? Date.now() : newest - 1);
  const range = durationParam(p, 'range') ?? 3_600_000;
  const start = timeParam(p, 'start', end - range);
  const afterText = p.get('after');
  const after = afterText === null || afterText === '' ? undefined : Number(afterText);
  if (after !== undefined && !Number.isFinite(after)) {
    throw new HttpError(400, `invalid parameter after: ${JSON.stringify(afterText)} (a time in ms)`);
  }
  const step = durationParam(p, 'step');
  const fn = fnParam(p);
  const { limits } = ctx;
  const rows = readRanges(ctx.store, matchSeries(ctx.store, [matchers]), {
    start,
    end: Math.max(start, end),
    tier: tierParam(p),
    ...(step === undefined ? {} : { step }),
    maxPerSeries: maxPointsParam(p, limits.defaultPointsPerSeries, limits.maxPointsPerSeries),
    maxTotal: limits.maxPointsPerResponse,
    what: 'query',
    ...(after === undefined ? {} : { after }),
    ...(fn === undefined ? {} : { fn }),
  });
  const encoding = p.get('encoding') ?? 'json';
  if (encoding !== 'json' && encoding !== 'base64')
    throw new HttpError(400, `invalid parameter encoding: ${JSON.stringify(encoding)} (json or base64)`);
  const series = rows.map((r) => columnsJson(r, encoding === 'base64', fn)).join(',');
  sendJson(ctx.res, success(`{"start":${start},"end":${end},"series":[${series}]}`));
}
