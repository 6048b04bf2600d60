// The functions query() applies to a counter's points (QueryOptions.fn): per-second rate and
// increase between consecutive known points, with Prometheus' counter-reset rule.
import { RondoError } from './errors.js';

/** A function {@link Store.query} can apply to the points it reads: see QueryOptions.fn. */
export type QueryFn = 'rate' | 'increase';

const FNS: readonly QueryFn[] = ['rate', 'increase'];

/** QueryOptions.fn checked: undefined or one of the functions; ERR_RONDO_INVALID_ARGUMENT otherwise. */
export function checkQueryFn(value: unknown): QueryFn | undefined {
  if (value === undefined || FNS.includes(value as QueryFn)) return value as QueryFn | undefined;
  throw new RondoError(
    'ERR_RONDO_INVALID_ARGUMENT',
    `query: fn must be 'rate' or 'increase', got ${JSON.stringify(value) ?? String(value)}`,
  );
}

/** Points in time order (known points only, as query() returns them). */
export interface Points {
  /** Slot start times, ms, ascending. */
  timestamps: Float64Array;
  /** Values, one per time. */
  values: Float64Array;
}

/**
 * What a counter gained from `before` to `after`. A decrease is a reset (the process restarted):
 * the counter counted `after` from 0, as Prometheus counts it.
 */
export function counterIncrease(before: number, after: number): number {
  return after >= before ? after - before : after;
}

/**
 * `fn` over known points: for each point that has a predecessor (the point before it, or
 * `prev` for the first), the increase since that predecessor, or that increase divided by the
 * seconds between the two, at the later point's time. A first point without a predecessor has
 * no value and is left out.
 */
export function applyCounterFn(points: Points, fn: QueryFn, prev: readonly [number, number] | null): Points {
  const { timestamps, values } = points;
  const n = timestamps.length;
  // Without a predecessor, the first point only serves as the second one's.
  const from = prev === null ? Math.min(1, n) : 0;
  let t0 = prev === null ? (timestamps[0] ?? 0) : prev[0];
  let v0 = prev === null ? (values[0] ?? 0) : prev[1];
  const ts = new Float64Array(n - from);
  const vs = new Float64Array(n - from);
  for (let i = from; i < n; i++) {
    const t = timestamps[i]!;
    const v = values[i]!;
    const inc = counterIncrease(v0, v);
    ts[i - from] = t;
    vs[i - from] = fn === 'increase' ? inc : inc / ((t - t0) / 1000);
    t0 = t;
    v0 = v;
  }
  return { timestamps: ts, values: vs };
}
