/**
 * Prometheus remote read (`POST /api/v1/read`): a snappy-compressed protobuf ReadRequest in, a
 * snappy-compressed ReadResponse of SAMPLES out, one QueryResult per query in query order. Series
 * carry the labels remote write would give them (names mapped to Prometheus' charset, sorted),
 * and the matchers apply to those; a label a series lacks matches "" as in Prometheus.
 */
import type { PromSeries } from '../codec/protobuf.js';
import { ProtoError } from '../codec/protobuf.js';
import {
  decodeReadRequest,
  encodeReadResponse,
  type ReadQuery,
  type ReadRequest,
} from '../codec/remote-read.js';
import { SnappyError, snappyStore, snappyUncompress } from '../codec/snappy.js';
import { compileMatcher, type Matcher, type SeriesInfo, selectorMatches } from '../index.js';
import type { Context } from './context.js';
import { checkMethod, HttpError, readBody } from './http.js';
import { type PromView, promView } from './prom-view.js';
import { TierPlanner } from './select.js';

/** A series with its Prometheus view. */
interface Viewed extends PromView {
  info: SeriesInfo;
}

/** Every series under its Prometheus labels; when two map to the same labels, the first wins. */
function promViews(ctx: Context): Viewed[] {
  const seen = new Set<string>();
  const out: Viewed[] = [];
  for (const info of ctx.store.series()) {
    const view = promView(ctx.store, info);
    if (seen.has(view.key)) continue;
    seen.add(view.key);
    out.push({ ...view, info });
  }
  return out;
}

async function decodeRequest(ctx: Context): Promise<ReadRequest> {
  const body = await readBody(ctx.req, ctx.res, ctx.limits.maxReadBytes);
  let raw: Buffer;
  try {
    raw = snappyUncompress(body, ctx.limits.maxReadDecodedBytes);
  } catch (err) {
    if (!(err instanceof SnappyError)) throw err;
    throw new HttpError(
      err.tooLarge ? 413 : 400,
      `remote read: the body is not a snappy block: ${err.message}`,
    );
  }
  try {
    return decodeReadRequest(raw);
  } catch (err) {
    if (!(err instanceof ProtoError)) throw err;
    throw new HttpError(400, `remote read: the body is not a ReadRequest: ${err.message}`);
  }
}

function matchersOf(q: ReadQuery): Matcher[] {
  return q.matchers.map((m) => {
    try {
      return compileMatcher(m.name, m.op, m.value);
    } catch (err) {
      throw new HttpError(400, `remote read: ${(err as Error).message}`);
    }
  });
}

/** POST /api/v1/read */
export async function remoteReadEndpoint(ctx: Context): Promise<void> {
  checkMethod(ctx.req, ['POST']);
  const request = await decodeRequest(ctx);
  const types = request.acceptedResponseTypes;
  if (types.length > 0 && !types.includes(0)) {
    throw new HttpError(
      400,
      `remote read: rondo answers SAMPLES only, the request accepts types ${types.join(', ')}`,
    );
  }
  const views = promViews(ctx);
  const planner = new TierPlanner(ctx.store);
  const max = ctx.limits.maxPointsPerResponse;
  // Plan every query first, so an oversized request is refused before anything is read.
  let total = 0;
  const plans = request.queries.map((q) => {
    const matchers = matchersOf(q);
    return views
      .filter((v) => selectorMatches(matchers, v.name, v.rest))
      .map((v) => {
        const plan = planner.plan(v.info.schema, q.startMs, q.endMs, 'auto');
        total += plan.points;
        return { view: v, tier: plan.tier };
      });
  });
  if (total > max) {
    throw new HttpError(
      400,
      `remote read: the request would return up to ${total} samples, more than the ${max} allowed: narrow the query`,
    );
  }
  const results = plans.map((list, i) => {
    const q = request.queries[i]!;
    const series: PromSeries[] = [];
    for (const { view, tier } of list) {
      // Remote read ranges are inclusive at both ends; query() excludes its end.
      const r = ctx.store.query(view.info.handle, { start: q.startMs, end: q.endMs + 1, tier });
      if (r.timestamps.length > 0)
        series.push({ labels: view.labels, timestamps: r.timestamps, values: r.values });
    }
    return series;
  });
  // Samples barely compress (~15 %) and compressing a day of them costs tens of ms on the writer's
  // event loop: answer a literal-only snappy block, which every reader decodes the same way.
  const body = snappyStore(encodeReadResponse(results));
  ctx.res.writeHead(200, {
    'Content-Type': 'application/x-protobuf',
    'Content-Encoding': 'snappy',
    'Content-Length': body.length,
  });
  ctx.res.end(body);
}
