// Reference model and helpers shared by the consolidation tests and their child-process fixtures.
// The model follows the specification literally (a window is computed from all its points, tier k
// from the reference tier k-1), so it shares no code with tiers.ts / consolidate.ts.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { Consolidation, SchemaConfig } from '../schema.js';
import type { Store } from '../store.js';
import { Child, prng } from './helpers.js';

/** The six consolidation functions. */
export const FUNCTIONS: readonly Consolidation[] = ['avg', 'min', 'max', 'last', 'sum', 'count'];

/** Tier shape of a reference model: interval (ms), ring size, function and xff. */
export interface RefTier {
  /** Slot width, ms. */
  interval: number;
  /** Ring size. */
  slots: number;
  /** Consolidation function (ignored on tier 0). */
  fn: Consolidation;
  /** Minimum known fraction (ignored on tier 0). */
  xff: number;
}

/** The schema config for reference tiers (one schema, `maxSeries` columns). */
export function schemaOf(name: string, tiers: readonly RefTier[], maxSeries = 2): SchemaConfig {
  return {
    name,
    maxSeries,
    tiers: tiers.map((t, i) =>
      i === 0
        ? { interval: t.interval, retention: t.interval * t.slots }
        : { interval: t.interval, retention: t.interval * t.slots, consolidation: t.fn, xff: t.xff },
    ),
  };
}

/** Folds a window's values (time order, NaN = unknown): known iff ≥ 1 known and known/slots ≥ xff. */
export function foldRef(
  fn: Consolidation,
  values: readonly number[],
  windowSlots: number,
  xff: number,
): number {
  const known = values.filter((v) => !Number.isNaN(v));
  if (known.length === 0 || known.length / windowSlots < xff) return Number.NaN;
  switch (fn) {
    case 'avg':
      return known.reduce((a, b) => a + b, 0) / known.length;
    case 'sum':
      return known.reduce((a, b) => a + b, 0);
    case 'min':
      return Math.min(...known);
    case 'max':
      return Math.max(...known);
    case 'last':
      return known[known.length - 1]!;
    case 'count':
      return known.length;
  }
}

/** The windows of a coarser tier from a finer tier's slot → value map (ratio source slots each). */
export function foldTier(
  src: ReadonlyMap<number, number>,
  ratio: number,
  fn: Consolidation,
  xff: number,
): Map<number, number> {
  const groups = new Map<number, [number, number][]>();
  for (const [slot, v] of src) {
    const w = Math.floor(slot / ratio);
    let g = groups.get(w);
    if (!g) groups.set(w, (g = []));
    g.push([slot, v]);
  }
  const out = new Map<number, number>();
  for (const [w, g] of groups) {
    g.sort((a, b) => a[0] - b[0]);
    out.set(
      w,
      foldRef(
        fn,
        g.map((p) => p[1]),
        ratio,
        xff,
      ),
    );
  }
  return out;
}

/** Every tier of the reference: [tier-0 points, tier-1 windows, …], slot numbers as keys. */
export function referenceTiers(
  points: ReadonlyMap<number, number>,
  tiers: readonly RefTier[],
): Map<number, number>[] {
  const out: Map<number, number>[] = [new Map(points)];
  for (let k = 1; k < tiers.length; k++) {
    out.push(foldTier(out[k - 1]!, tiers[k]!.interval / tiers[k - 1]!.interval, tiers[k]!.fn, tiers[k]!.xff));
  }
  return out;
}

/** True when two values are equal as the spec compares them (NaN = NaN, avg within 1e-9 relative). */
export function sameValue(a: number, b: number, fn: Consolidation | null): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (fn === 'avg') return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b), 1e-300);
  return a === b;
}

/** The store's tier-k values of series `h` as slot → value (known points only). */
export function storeTier(store: Store, h: number, tier: number, interval: number): Map<number, number> {
  const r = store.query(h, { tier });
  const out = new Map<number, number>();
  r.timestamps.forEach((t, i) => {
    out.set(t / interval, r.values[i]!);
  });
  return out;
}

/**
 * Asserts that every window tier `tier` retains (its ring, counted back from its newest slot)
 * equals the reference; a window the reference says is unknown must be absent.
 */
export function assertTierMatches(
  store: Store,
  h: number,
  tier: number,
  tiers: readonly RefTier[],
  expected: ReadonlyMap<number, number>,
  what: string,
): number {
  const t = tiers[tier]!;
  const newestMs = store.info().schemas[0]!.tiers[tier]!.newest;
  if (newestMs === null) {
    assert.equal(
      [...expected.values()].filter((v) => !Number.isNaN(v)).length,
      0,
      `${what}: tier ${tier} empty`,
    );
    return 0;
  }
  const newest = newestMs / t.interval;
  const got = storeTier(store, h, tier, t.interval);
  let compared = 0;
  for (let w = Math.max(1, newest - t.slots + 1); w <= newest; w++) {
    const e = expected.get(w) ?? Number.NaN;
    const g = got.get(w) ?? Number.NaN;
    assert.ok(
      sameValue(e, g, tier === 0 ? null : t.fn),
      `${what}: tier ${tier} (${tier === 0 ? 'raw' : t.fn}, xff ${t.xff}) window ${w} (t=${w * t.interval}): store ${g}, reference ${e}`,
    );
    if (!Number.isNaN(e)) compared++;
  }
  return compared;
}

/** Tiers of the SIGKILL test: small rings that wrap many times. */
export const CRASH_TIERS: readonly RefTier[] = [
  { interval: 1000, slots: 12, fn: 'avg', xff: 0 },
  { interval: 3000, slots: 8, fn: 'sum', xff: 0 },
  { interval: 6000, slots: 10, fn: 'max', xff: 0.5 },
];

/** One point of the SIGKILL test's sequence: both series at time t. */
export interface CrashPoint {
  /** Time, ms (non-decreasing along the sequence). */
  t: number;
  /** Values of series 0 and 1 (NaN = no value). */
  v: [number, number];
}

/** The deterministic, time-ordered point sequence of the SIGKILL test: steps, gaps, big jumps, NaN. */
export function crashSequence(seed: number, length: number): CrashPoint[] {
  const rnd = prng(seed);
  const out: CrashPoint[] = [];
  let slot = 100;
  for (let i = 0; i < length; i++) {
    const x = rnd();
    if (x < 0.9) slot += 1;
    else if (x < 0.97) slot += 2 + Math.floor(rnd() * 10);
    else slot += 13 + Math.floor(rnd() * 100);
    const value = (): number => (rnd() < 0.1 ? Number.NaN : Math.floor(rnd() * 1000) - 500);
    out.push({ t: slot * 1000 + Math.floor(rnd() * 1000), v: [value(), value()] });
  }
  return out;
}

/** The reference tier-0 maps (one per series) of a crash sequence. */
export function crashPoints(seq: readonly CrashPoint[]): Map<number, number>[] {
  const maps = [new Map<number, number>(), new Map<number, number>()];
  for (const p of seq) {
    const slot = Math.floor(p.t / CRASH_TIERS[0]!.interval);
    maps[0]!.set(slot, p.v[0]);
    maps[1]!.set(slot, p.v[1]);
  }
  return maps;
}

/** A compiled fixture (`consolidation-<name>.js` next to this file) running as a child process. */
export class Fixture extends Child {
  constructor(name: string, args: readonly string[]) {
    super(args, fileURLToPath(new URL(`./consolidation-${name}.js`, import.meta.url)));
  }
}

/** The reader fixture's answer to one query: the fields of query()'s result, arrays as plain arrays. */
export interface ReaderAnswer {
  /** Tier answered from. */
  tier: number;
  /** Whether that tier covered the start. */
  covered: boolean;
  /** Timestamps, ms. */
  timestamps: number[];
  /** Values. */
  values: number[];
}

/**
 * A reader process (consolidation-reader.ts) that opened `dir` read-only once and answers queries
 * one at a time. Wait for its 'ready' line before the first query.
 */
export class ReaderProcess extends Fixture {
  private asked = 0;

  constructor(dir: string) {
    super('reader', [dir]);
  }

  /** Runs query(handle, { tier, start, end }) in the reader process and resolves to its answer. */
  async query(handle: number, tier: number | 'auto', start?: number, end?: number): Promise<ReaderAnswer> {
    const range = start === undefined ? '' : end === undefined ? ` ${start}` : ` ${start} ${end}`;
    this.proc.stdin.write(`${handle} ${tier}${range}\n`);
    return JSON.parse(await this.waitFor('{', 10_000, this.asked++)) as ReaderAnswer;
  }
}
