/**
 * Which series a request means and which points it gets: selector matching, the tier a range
 * is read from (rondo's `tier: 'auto'`, made step-aware), and the bounds that keep a response
 * from growing without limit, checked before any point is read.
 */
import {
  formatDuration,
  formatSeries,
  type Matcher,
  type QueryFn,
  type QueryResult,
  type SeriesInfo,
  type Store,
  selectorMatches,
} from '../index.js';
import { HttpError } from './http.js';

/** A series with its points. */
export interface SeriesPoints {
  /** The series. */
  series: SeriesInfo;
  /** Its points (and the tier they come from). */
  result: QueryResult;
}

/** Series that may appear in /metrics: not retired (a retired series' data is history). */
export function isLive(s: SeriesInfo): boolean {
  return s.retired === undefined;
}

/** The series matching any of the selectors (all series for none), in handle order. */
export function matchSeries(store: Store, selectors: readonly Matcher[][]): SeriesInfo[] {
  const all = store.series();
  if (selectors.length === 0) return all;
  return all.filter((s) => selectors.some((m) => selectorMatches(m, s.name, s.labels)));
}

/** One tier of a schema as the planner sees it. */
interface TierView {
  index: number;
  interval: number;
  slots: number;
  /** Start of the oldest slot the ring's retention reaches, ms, or null when the tier is empty. */
  reach: number | null;
}

/** The tier chosen for a series and how many points it may return. */
export interface Plan {
  /** Tier index. */
  tier: number;
  /** Its interval, ms. */
  interval: number;
  /** Upper bound of the points a range read returns. */
  points: number;
}

/**
 * Chooses tiers from the newest slot of every tier (one header read each; `info()` would also
 * count the slots in use, which costs milliseconds on big rings). With `tier: 'auto'` it takes, among the
 * tiers whose retention reaches `start`, the coarsest whose interval is ≤ `step` (a chart gets
 * the resolution it asked for from as few points as possible), or the finest of them when
 * there is no step or every one is coarser; when none reaches `start`, the coarsest with data.
 */
export class TierPlanner {
  private readonly schemas = new Map<string, TierView[]>();

  constructor(store: Store) {
    for (const s of store.schemaList()) {
      this.schemas.set(
        s.name,
        s.tiers.map((t, index) => {
          const end = store.newestEnd(index, [s.name]);
          // The oldest slot start the ring can hold, counted back from its newest slot.
          const reach = end === null ? null : end - t.interval - (t.slots - 1) * t.interval;
          return { index, interval: t.interval, slots: t.slots, reach };
        }),
      );
    }
  }

  /** The plan for a series of `schema` over `[start, end]` (ms, inclusive). */
  plan(schema: string, start: number, end: number, tier: number | 'auto', step?: number): Plan {
    const tiers = this.schemas.get(schema) ?? [];
    const view = tier === 'auto' ? autoView(tiers, start, step) : tiers[tier];
    if (view === undefined && tier !== 'auto') {
      throw new HttpError(
        400,
        `invalid parameter tier: schema ${schema} has tiers 0..${tiers.length - 1} (or use auto)`,
      );
    }
    if (view === undefined) return { tier: 0, interval: 1, points: 0 };
    const span = Math.floor(end / view.interval) - Math.ceil(start / view.interval) + 1;
    return { tier: view.index, interval: view.interval, points: Math.max(0, Math.min(view.slots, span)) };
  }
}

/**
 * The tier `auto` reads for a range from `start` at resolution `step`: among the tiers that
 * reach back to `start`, the coarsest whose interval is at most `step` (the finest without a
 * step); when none reaches, the coarsest that has data.
 */
function autoView(tiers: readonly TierView[], start: number, step: number | undefined): TierView | undefined {
  const covering = tiers.filter((t) => t.reach !== null && t.reach <= start);
  if (covering.length === 0) return tiers.filter((t) => t.reach !== null).at(-1) ?? tiers[0];
  let view = covering[0];
  if (step !== undefined) for (const t of covering) if (t.interval <= step) view = t;
  return view;
}

/** Bounds of one range read. */
export interface RangeRequest {
  /** Inclusive start, ms. */
  start: number;
  /** Inclusive end, ms. */
  end: number;
  /** Tier index or 'auto'. */
  tier: number | 'auto';
  /** Resolution asked for, ms (auto picks a tier no coarser when it can). */
  step?: number;
  /** Most points per series (400 beyond). */
  maxPerSeries: number;
  /** Most points in the whole response (400 beyond). */
  maxTotal: number;
  /** Names the request in error messages, e.g. `query_range`. */
  what: string;
  /**
   * Read only points after this time, ms (the tier is still chosen for `start`): how a chart
   * that follows a writer fetches new points from the tier it already shows.
   */
  after?: number;
  /** Read the series as counters: their rate or increase at each point (see Store.query). */
  fn?: QueryFn;
}

/** Plans every series first (400 when a bound is exceeded), then reads their points. */
export function readRanges(store: Store, series: readonly SeriesInfo[], req: RangeRequest): SeriesPoints[] {
  const planner = new TierPlanner(store);
  const plans = series.map((s) => planner.plan(s.schema, req.start, req.end, req.tier, req.step));
  let total = 0;
  const from = req.after === undefined ? req.start : Math.max(req.start, Math.floor(req.after) + 1);
  plans.forEach((p, i) => {
    if (from > req.start)
      p.points = Math.min(p.points, Math.max(0, Math.floor((req.end - from) / p.interval) + 1));
    total += p.points;
    if (p.points > req.maxPerSeries) {
      const s = series[i]!;
      throw new HttpError(
        400,
        `${req.what}: ${formatSeries(s.name, s.labels)} would return up to ${p.points} points from tier ${p.tier} ` +
          `(${formatDuration(p.interval)}), more than ${req.maxPerSeries} per series: raise step (tier auto then ` +
          'reads a coarser tier), shorten the range, or raise max_points',
      );
    }
  });
  if (total > req.maxTotal) {
    throw new HttpError(
      400,
      `${req.what}: ${series.length} series would return up to ${total} points, more than the ${req.maxTotal} ` +
        'a response may hold: narrow the selector, shorten the range or raise step',
    );
  }
  // query() takes an exclusive end; slot times are whole ms, so end + 1 keeps a point at `end`.
  const end = Math.floor(req.end) + 1;
  return series.map((s, i) => ({
    series: s,
    result: store.query(s.handle, {
      start: from,
      end: Math.max(from, end),
      tier: plans[i]!.tier,
      ...(req.fn === undefined ? {} : { fn: req.fn }),
    }),
  }));
}
