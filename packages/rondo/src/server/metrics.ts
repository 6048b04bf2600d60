/**
 * `GET /metrics`: the newest value of every live (not retired) series in the Prometheus text
 * format, so a Prometheus can scrape a store. A series appears when it has a point in tier 0
 * within the last 5 minutes of its schema (the store's clock, not the wall clock), under the
 * labels remote write would give it, typed as it was registered (counter or gauge); no
 * timestamps, so the scraper stamps the scrape time as usual.
 */

import { EXPOSITION_CONTENT_TYPE, type ExposedSample, formatExposition } from '../codec/exposition.js';
import type { Context } from './context.js';
import { checkMethod } from './http.js';
import { LOOKBACK_MS } from './prom-api.js';
import { promView } from './prom-view.js';
import { isLive } from './select.js';

/** The newest value of a series in tier 0 before `end` (exclusive), within the lookback; or undefined. */
function newestValue(ctx: Context, handle: number, end: number, interval: number): number | undefined {
  // Live series almost always have the newest or the one before: look there first.
  let r = ctx.store.query(handle, { start: end - 2 * interval, end, tier: 0 });
  if (r.values.length === 0) r = ctx.store.query(handle, { start: end - LOOKBACK_MS, end, tier: 0 });
  return r.values.length > 0 ? r.values[r.values.length - 1] : undefined;
}

/** GET /metrics */
export function metricsEndpoint(ctx: Context): void {
  checkMethod(ctx.req, ['GET']);
  const { store } = ctx;
  const ends = new Map<string, { end: number; interval: number } | null>();
  for (const s of store.schemaList()) {
    const end = store.newestEnd(0, [s.name]);
    ends.set(s.name, end === null ? null : { end, interval: s.tiers[0]!.interval });
  }
  const samples: ExposedSample[] = [];
  const seen = new Set<string>();
  for (const s of store.series()) {
    const at = ends.get(s.schema);
    if (!isLive(s) || at === null || at === undefined) continue;
    const value = newestValue(ctx, s.handle, at.end, at.interval);
    if (value === undefined) continue;
    const { labels, key } = promView(store, s);
    // Two rondo series that map to the same Prometheus labels would make an invalid exposition.
    if (seen.has(key)) continue;
    seen.add(key);
    samples.push({ labels, value, type: s.type });
  }
  const body = formatExposition(samples);
  ctx.res.writeHead(200, {
    'Content-Type': EXPOSITION_CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  ctx.res.end(body);
}
