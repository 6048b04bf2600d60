// Helpers of the migration tests: a store filled with known raw points, snapshots of every
// series in every tier, and a reference of what a migration must keep, computed from the raw
// points and the old coarse tiers by the rules of docs/architecture.md ("Migration"), written
// independently of migrate.ts (window by window: the finest source that holds the whole window).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Consolidation, SchemaConfig, Store } from '../index.js';
import { T0 } from './helpers.js';

/** Time (ms) → value. */
export type Points = Map<number, number>;

/** One series of a test store and the raw points recorded for it. */
export interface RawSeries {
  handle: number;
  name: string;
  labels: Record<string, string>;
  counter: boolean;
  /** Every point recorded, by time. */
  raw: Points;
  /** Retirement time, or null while live. */
  retiredAt: number | null;
}

/** What a test store holds: its series and the end of its newest tier-0 slot. */
export interface Fixture {
  series: RawSeries[];
  end: number;
}

/** One series to create in {@link fill}. */
export interface SeriesPlan {
  name: string;
  labels?: Record<string, string>;
  counter?: boolean;
  /** Retire the series once this many seconds have been recorded. */
  retireAfter?: number;
}

/**
 * Records `seconds` seconds (one point per second from T0 on) into `store` for the series of
 * `plan`: series i has value (i + 1) × 1000 + s at second s, except at gaps ((s × 7 + i) % 11 = 0)
 * and in one longer gap per series (seconds 30 + 9i … 30 + 9i + 24), so that windows are partly known.
 * A counter counts up by 2 per second. Consolidates at the end; returns what was recorded.
 */
export function fill(store: Store, plan: readonly SeriesPlan[], seconds: number): Fixture {
  const series: RawSeries[] = plan.map((p) => {
    const labels = p.labels ?? {};
    const handle = store.register(p.name, labels, p.counter ? { type: 'counter' } : {});
    return { handle, name: p.name, labels, counter: p.counter === true, raw: new Map(), retiredAt: null };
  });
  for (let s = 0; s < seconds; s++) {
    const t = T0 + s * 1000;
    for (const [i, x] of series.entries()) {
      if (x.retiredAt !== null) continue;
      if (plan[i]!.retireAfter === s) {
        store.retire(x.handle);
        x.retiredAt = store.series().find((e) => e.handle === x.handle)!.retired!;
        continue;
      }
      const gap = (s * 7 + i) % 11 === 0 || (s >= 30 + 9 * i && s < 54 + 9 * i);
      if (gap) continue;
      const v = x.counter ? 2 * s : (i + 1) * 1000 + s;
      store.record(x.handle, v, t);
      x.raw.set(t, v);
    }
  }
  store.consolidate();
  return { series, end: T0 + seconds * 1000 };
}

/** Every series' points in every tier of its schema: handle → tier → points. */
export type Snapshot = Map<number, Points[]>;

/** Reads every series (live and retired) in every tier of `store`. */
export function snapshot(store: Store): Snapshot {
  const out: Snapshot = new Map();
  const info = store.info();
  for (const s of store.series()) {
    const tiers = info.schemas.find((x) => x.name === s.schema)!.tiers;
    out.set(
      s.handle,
      tiers.map((_, k) => {
        const r = store.query(s.handle, { tier: k });
        return new Map([...r.timestamps].map((t, i) => [t, r.values[i]!]));
      }),
    );
  }
  return out;
}

/** The series list as comparable rows. */
export function seriesRows(store: Store): string[] {
  return store
    .series()
    .map(
      (s) => `${s.handle} ${s.name}${JSON.stringify(s.labels)} ${s.schema} ${s.type} ${s.retired ?? 'live'}`,
    );
}

/** Folds `values` (all known) with `fn`, or undefined when fewer than `need` are known. */
export function fold(fn: Consolidation, values: readonly number[], need: number): number | undefined {
  if (values.length < Math.max(1, need)) return undefined;
  switch (fn) {
    case 'min':
      return Math.min(...values);
    case 'max':
      return Math.max(...values);
    case 'last':
      return values[values.length - 1];
    case 'count':
      return values.length;
    case 'sum':
      return values.reduce((a, b) => a + b, 0);
    case 'avg':
      return values.reduce((a, b) => a + b, 0) / values.length;
  }
}

/** Points of one series in one tier, and the time from which every coarser window has all its slots there. */
export interface RefTier {
  interval: number;
  from: number;
  /** The function its values were made with (null: recorded points). */
  fn: Consolidation | null;
  points: Points;
}

/** The newest slot (ms) and the oldest slot start (ms) of a ring of `interval` × `slots` whose data ends at `end`. */
export function ringSpan(end: number, interval: number, slots: number): { first: number; newest: number } {
  const newest = Math.floor((end - 1) / interval);
  return { first: Math.max(1, newest - slots + 1) * interval, newest: newest * interval };
}

/** `tier` cut to a ring of `slots` slots ending at `end`. */
function clip(tier: RefTier, slots: number, end: number): Points {
  const { first, newest } = ringSpan(end, tier.interval, slots);
  return new Map([...tier.points].filter(([t]) => t >= first && t <= newest));
}

/** The new tier 0, unbounded: the old tier-0 points at their new slots, the last of a slot winning. */
export function refTier0(old0: RefTier, interval: number): RefTier {
  const points: Points = new Map();
  for (const t of [...old0.points.keys()].sort((a, b) => a - b))
    points.set(Math.floor(t / interval) * interval, old0.points.get(t)!);
  return { interval, from: Math.ceil(old0.from / interval) * interval, fn: null, points };
}

/** The values of `src` in the window [w, w + interval), oldest first. */
function windowValues(src: RefTier, w: number, interval: number): number[] {
  return [...src.points]
    .filter(([t]) => t >= w && t < w + interval)
    .sort((a, b) => a[0] - b[0])
    .map(([, v]) => v);
}

/**
 * A new coarse tier, unbounded, window by window: the cascade (fn over the new tier below) where
 * the tier below holds the whole window; else the finest old tier whose interval divides this one
 * that holds it whole: its window copied when it has this interval and function, else its values
 * folded with fn; else nothing.
 */
export function refCoarse(
  below: RefTier,
  olds: readonly RefTier[],
  interval: number,
  fn: Consolidation,
  xff: number,
): RefTier {
  const usable = olds.filter((s) => interval % s.interval === 0).sort((a, b) => a.interval - b.interval);
  const windows = new Set<number>();
  for (const src of [below, ...usable])
    for (const t of src.points.keys()) windows.add(Math.floor(t / interval) * interval);
  const points: Points = new Map();
  for (const w of windows) {
    const src = w >= below.from ? below : usable.find((s) => w >= s.from);
    if (src === undefined) continue;
    const vals = windowValues(src, w, interval);
    const need = Math.max(1, Math.ceil(xff * (interval / src.interval) - 1e-9));
    const v = src.interval === interval && src.fn === fn ? vals[0] : fold(fn, vals, need);
    if (v !== undefined) points.set(w, v);
  }
  const from = Math.min(...[below, ...usable].map((s) => Math.ceil(s.from / interval) * interval));
  return { interval, from, fn, points };
}

/** The tiers of a schema config, with `slots`. */
function tiersOf(
  s: SchemaConfig,
): { interval: number; slots: number; fn: Consolidation | null; xff: number }[] {
  return s.tiers.map((t) => ({
    interval: t.interval as number,
    slots: (t.retention as number) / (t.interval as number),
    fn: t.consolidation ?? null,
    xff: t.xff ?? 0,
  }));
}

/** The first schema whose match the labels carry (configuration order), or undefined. */
export function route(
  schemas: readonly SchemaConfig[],
  labels: Record<string, string>,
): SchemaConfig | undefined {
  return schemas.find((s) => Object.entries(s.match ?? {}).every(([k, v]) => labels[k] === v));
}

/**
 * What the new store must hold for series `x` (every tier of its new schema), given the old
 * store's snapshot of it and both layouts; `end` is the end of the old store's newest tier-0 slot.
 */
export function expectMigrated(
  x: RawSeries,
  oldSchema: SchemaConfig,
  oldSnap: Points[],
  newSchema: SchemaConfig,
  end: number,
): Points[] {
  const olds: RefTier[] = tiersOf(oldSchema).map((t, k) => {
    const from = ringSpan(end, t.interval, t.slots).first;
    return {
      interval: t.interval,
      from,
      fn: t.fn === null ? null : x.counter ? 'last' : t.fn,
      // Tier 0: the raw points still in the ring; coarse tiers: what the old store holds.
      points: k === 0 ? new Map([...x.raw].filter(([ts]) => ts >= from)) : oldSnap[k]!,
    };
  });
  const out: Points[] = [];
  let below: RefTier | null = null;
  for (const t of tiersOf(newSchema)) {
    const fn = x.counter ? 'last' : t.fn!;
    below = below === null ? refTier0(olds[0]!, t.interval) : refCoarse(below, olds, t.interval, fn, t.xff);
    out.push(clip(below, t.slots, end));
  }
  return out;
}

/** Asserts two point maps are equal, naming the first difference. */
export function samePoints(actual: Points, expected: Points, what: string): void {
  const keys = [...new Set([...actual.keys(), ...expected.keys()])].sort((a, b) => a - b);
  for (const t of keys) {
    const a = actual.get(t);
    const e = expected.get(t);
    if (a === e) continue;
    const at = `${what} at T0+${(t - T0) / 1000}s`;
    assert.ok(a !== undefined, `${at}: missing, expected ${e}`);
    assert.ok(e !== undefined, `${at}: unexpected point ${a}`);
    assert.ok(Math.abs(a - e) <= 1e-9 * Math.max(1, Math.abs(e)), `${at}: ${a}, expected ${e}`);
  }
}

/** Every file under a store directory, as paths relative to it, sorted (for leftover checks). */
export function storeFiles(dir: string, under = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, under), { withFileTypes: true })) {
    const rel = under === '' ? e.name : `${under}/${e.name}`;
    if (e.isDirectory()) out.push(...storeFiles(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

/** The generation rondo.json names. */
export function generationOf(dir: string): number {
  return (
    (JSON.parse(readFileSync(join(dir, 'rondo.json'), 'utf8')) as { generation?: number }).generation ?? 0
  );
}
