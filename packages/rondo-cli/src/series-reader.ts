/**
 * Reading the selected series of `rondo query` piece by piece: each series is planned first (its
 * tier and window, so errors come before any output), then read in chunks of a bounded number of
 * slots, so memory does not grow with the number of points printed.
 */
import type { QueryFn, SeriesInfo, Store } from 'rondo';

/** Slots read per chunk: 16 Ki slots are 256 KiB of times and values. */
export const CHUNK_SLOTS = 16_384;

/** A time window in ms, start inclusive, end exclusive; a missing bound is open. */
export interface TimeWindow {
  /** Inclusive start. */
  start?: number;
  /** Exclusive end. */
  end?: number;
}

/** One selected series, planned: what to read, decided before anything is printed. */
export interface PlannedSeries {
  /** The series. */
  info: SeriesInfo;
  /** Tier to read. */
  tier: number;
  /** Slot width of that tier, ms. */
  interval: number;
  /** Whether the tier's retention reaches back to the window's start. */
  covered: boolean;
  /** First ms to read (the tier keeps nothing older). */
  from: number;
  /** End (exclusive) of what to read; `to <= from`: nothing. */
  to: number;
  /** Read as a counter: its rate or increase at each point (--rate, --increase). */
  fn?: QueryFn;
}

/** Some points of a series, oldest first. */
export interface Chunk {
  /** Slot start times, ms. */
  timestamps: Float64Array;
  /** Values, one per time. */
  values: Float64Array;
}

/**
 * Decides the tier (an empty query resolves 'auto' the way a full one would, and fails the same
 * way for a tier the schema lacks) and the span to read: the window, cut to what the tier keeps.
 */
export function planSeries(
  store: Store,
  info: SeriesInfo,
  window: TimeWindow,
  tier: number | 'auto',
  fn?: QueryFn,
): PlannedSeries {
  // An empty window at the start (or before anything, without one) reads no slot.
  const probe =
    window.start === undefined
      ? store.query(info.handle, { end: 0, tier })
      : store.query(info.handle, { start: window.start, end: window.start, tier });
  const schema = store.schemaList().find((s) => s.name === info.schema);
  const kept = schema?.tiers[probe.tier];
  const newestEnd = store.newestEnd(probe.tier, [info.schema]);
  const to = window.end ?? newestEnd ?? 0;
  // The ring keeps `retention` back from its newest slot; one slot more is a safe margin.
  const oldest = newestEnd === null || kept === undefined ? to : newestEnd - kept.retention - kept.interval;
  const from = Math.max(window.start ?? Number.NEGATIVE_INFINITY, oldest);
  const plan: PlannedSeries = {
    info,
    tier: probe.tier,
    interval: probe.interval,
    covered: probe.covered,
    from,
    to,
  };
  if (fn !== undefined) plan.fn = fn;
  return plan;
}

/** The points of a planned series, in chunks of at most {@link CHUNK_SLOTS} slots. */
export function* readChunks(store: Store, plan: PlannedSeries): Generator<Chunk> {
  const span = CHUNK_SLOTS * plan.interval;
  for (let t = plan.from; t < plan.to; t += span) {
    const r = store.query(plan.info.handle, {
      start: t,
      end: Math.min(plan.to, t + span),
      tier: plan.tier,
      ...(plan.fn === undefined ? {} : { fn: plan.fn }),
    });
    if (r.timestamps.length > 0) yield { timestamps: r.timestamps, values: r.values };
  }
}

/** Every point of a planned series at once (for the chart, which needs them all). */
export function readAll(store: Store, plan: PlannedSeries): Chunk {
  const parts = [...readChunks(store, plan)];
  const [only] = parts;
  if (parts.length === 1 && only !== undefined) return only;
  const n = parts.reduce((sum, p) => sum + p.timestamps.length, 0);
  const out: Chunk = { timestamps: new Float64Array(n), values: new Float64Array(n) };
  let at = 0;
  for (const p of parts) {
    out.timestamps.set(p.timestamps, at);
    out.values.set(p.values, at);
    at += p.timestamps.length;
  }
  return out;
}
