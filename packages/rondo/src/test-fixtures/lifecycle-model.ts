// A plain model of which series own which points, for the lifecycle property test: series by
// identity (name, schema) with handles, retirements and their tier-0 points, the rules that
// decide whether a point is kept (ring bounds, late points) and whether a schema has room, and
// a comparison of a store against it that lists every difference.
import type { SchemaConfig, Store } from '../index.js';
import { at, code, SEC, SLOT0, serialOf, slotOf } from './lifecycle-common.js';

/** The model's view of one schema: a tier-0 ring of `slots`, and a coarse tier of 2-slot windows or none. */
export interface ModelSchema {
  /** Schema name; series carry the label s=<name>. */
  name: string;
  /** Series capacity. */
  maxSeries: number;
  /** Tier-0 slots. */
  slots: number;
  /** Tier-1 windows (of 2 slots, max), or 0 for a single tier. */
  windows: number;
}

/** The schemas of the property test. */
export const MODEL_SCHEMAS: ModelSchema[] = [
  { name: 'a', maxSeries: 3, slots: 6, windows: 4 },
  { name: 'b', maxSeries: 2, slots: 5, windows: 0 },
];

/** The store configuration of {@link MODEL_SCHEMAS}. */
export function modelConfig(): SchemaConfig[] {
  return MODEL_SCHEMAS.map((s) => ({
    name: s.name,
    match: { s: s.name },
    maxSeries: s.maxSeries,
    tiers: [
      { interval: SEC, retention: s.slots * SEC },
      ...(s.windows === 0
        ? []
        : [{ interval: 2 * SEC, retention: s.windows * 2 * SEC, consolidation: 'max' as const }]),
    ],
  }));
}

/** One series of the model. */
export interface MSeries {
  /** Serial number (values are code(serial, slot) + rev/16). */
  serial: number;
  /** Name (the label s is its schema's name). */
  name: string;
  /** Index of its schema. */
  schema: number;
  /** Handle the store gave it (-1 while unknown, in a simulation). */
  handle: number;
  /** Retirement time (ms), or null while live. */
  retiredAt: number | null;
  /** Slot (after SLOT0) → value, tier 0. */
  points: Map<number, number>;
  /** Every value ever recorded (tier 1 may hold any of them). */
  history: Set<number>;
}

/** The start of each tier's newest slot or window of a schema, in tier-0 slots after SLOT0 (null: empty). */
export type TierNewest = (number | null)[];

/** The model (see the module note). */
export class Model {
  series: MSeries[] = [];
  /** Per schema: newest tier-0 slot after SLOT0, or null while empty. */
  newest: (number | null)[] = MODEL_SCHEMAS.map(() => null);
  /** Per schema: late points to windows starting before this slot are never issued (after a kill). */
  lateFloor: number[] = MODEL_SCHEMAS.map(() => Number.NEGATIVE_INFINITY);
  /** Late points dropped since the store was opened. */
  dropped = 0;
  private rev = 0;

  /** A deep copy. */
  clone(): Model {
    const m = new Model();
    m.series = this.series.map((s) => ({ ...s, points: new Map(s.points), history: new Set(s.history) }));
    m.newest = [...this.newest];
    m.lateFloor = [...this.lateFloor];
    m.dropped = this.dropped;
    m.rev = this.rev;
    return m;
  }

  /** The newest series with this identity, live or retired. */
  latest(name: string, schema: number): MSeries | undefined {
    for (let i = this.series.length - 1; i >= 0; i--) {
      const s = this.series[i]!;
      if (s.name === name && s.schema === schema) return s;
    }
    return undefined;
  }

  /** Adds a newly registered series. */
  add(name: string, schema: number, handle: number): MSeries {
    const s: MSeries = {
      serial: this.series.length + 1,
      name,
      schema,
      handle,
      retiredAt: null,
      points: new Map(),
      history: new Set(),
    };
    this.series.push(s);
    return s;
  }

  /** The value to record for `s` at `slot` (distinct revisions, so last-wins shows). */
  value(s: MSeries, slot: number): number {
    this.rev = (this.rev + 1) % 16;
    return code(s.serial, SLOT0 + slot) + this.rev / 16;
  }

  /** Whether the store keeps a point at `slot` (after SLOT0) in schema `i`. */
  accepts(i: number, slot: number): boolean {
    const newest = this.newest[i]!;
    if (newest === null || slot >= newest) return true;
    const first = newest - MODEL_SCHEMAS[i]!.slots + 1;
    if (slot < first) return false;
    if (MODEL_SCHEMAS[i]!.windows === 0) return true;
    // Its 2-slot window must still be whole in tier 0 (SLOT0 is even: windows start at even slots).
    const window = Math.floor(slot / 2) * 2;
    return window >= first && window >= this.lateFloor[i]!;
  }

  /** Records `value` for `s` at `slot` as the store would; returns whether it was kept. */
  record(s: MSeries, slot: number, value: number): boolean {
    if (!this.accepts(s.schema, slot)) {
      this.dropped++;
      return false;
    }
    s.points.set(slot, value);
    s.history.add(value);
    const newest = this.newest[s.schema]!;
    if (newest === null || slot > newest) this.newest[s.schema] = slot;
    return true;
  }

  /** Retires `s` at the end of its schema's newest slot. */
  retire(s: MSeries): void {
    const newest = this.newest[s.schema]!;
    s.retiredAt = newest === null ? 0 : at(newest + 1);
  }

  /** True when retired `s` has no data left in any tier, given the tiers' newest slots. */
  agedOut(s: MSeries, tiers: TierNewest): boolean {
    if (s.retiredAt === null) return false;
    const schema = MODEL_SCHEMAS[s.schema]!;
    const rings = [
      { slots: schema.slots, width: 1 },
      { slots: schema.windows, width: 2 },
    ];
    return tiers.every((newest, k) => {
      if (newest === null) return true;
      const ring = rings[k]!;
      const n = (SLOT0 + newest) / ring.width;
      return Math.max(1, n - ring.slots + 1) * ring.width * SEC >= s.retiredAt!;
    });
  }

  /** Columns of schema `i` free for new series, given its tiers' newest slots. */
  room(i: number, tiers: TierNewest): number {
    const held = this.series.filter(
      (s) => s.schema === i && (s.retiredAt === null || !this.agedOut(s, tiers)),
    );
    return MODEL_SCHEMAS[i]!.maxSeries - held.length;
  }
}

/** {@link TierNewest} of each schema of `store`. */
export function tierNewest(store: Store): TierNewest[] {
  return store
    .info()
    .schemas.map((x) => x.tiers.map((t) => (t.newest === null ? null : t.newest / SEC - SLOT0)));
}

/**
 * Every difference between `store` and `model` (empty when they agree): newest slots, the
 * series listed (live, and retired with data left), lookups, each series' tier-0 points exactly,
 * and its tier-1 windows (each must hold one of its own values, from inside the window).
 */
export function differences(store: Store, model: Model): string[] {
  const out: string[] = [];
  const tiers = tierNewest(store);
  model.newest.forEach((n, i) => {
    if (tiers[i]![0] !== n) out.push(`schema ${i}: newest ${tiers[i]![0]}, model ${n}`);
  });
  const listed = store
    .series()
    .map((x) => `${x.handle} ${x.name}{s=${x.labels['s']}} ${x.type} ${x.retired ?? '-'}`);
  const expected = model.series
    .filter((s) => !model.agedOut(s, tiers[s.schema]!))
    .map((s) => `${s.handle} ${s.name}{s=${MODEL_SCHEMAS[s.schema]!.name}} gauge ${s.retiredAt ?? '-'}`);
  if (listed.join() !== expected.join())
    out.push(`series() ${listed.join('; ')}; model ${expected.join('; ')}`);
  for (const s of model.series) {
    const what = `series ${s.handle} (${s.name}, serial ${s.serial})`;
    if (s.retiredAt === null && store.lookup(s.name, { s: MODEL_SCHEMAS[s.schema]!.name }) !== s.handle)
      out.push(`${what}: lookup`);
    if (model.agedOut(s, tiers[s.schema]!)) continue;
    try {
      out.push(...pointDifferences(store, model, s, tiers[s.schema]!, what));
    } catch (err) {
      out.push(`${what}: ${(err as Error).message}`);
    }
  }
  if (store.stats().droppedLate !== model.dropped)
    out.push(`droppedLate ${store.stats().droppedLate}, model ${model.dropped}`);
  return out;
}

function pointDifferences(store: Store, model: Model, s: MSeries, tiers: TierNewest, what: string): string[] {
  const out: string[] = [];
  const schema = MODEL_SCHEMAS[s.schema]!;
  const newest = model.newest[s.schema]!;
  const want = [...s.points]
    .filter(([slot]) => newest !== null && slot > newest - schema.slots)
    .sort((x, y) => x[0] - y[0])
    .map(([slot, v]) => `${slot}=${v}`);
  const r = store.query(s.handle);
  const got = Array.from(r.timestamps, (t, i) => `${t / SEC - SLOT0}=${r.values[i]}`);
  if (got.join() !== want.join()) out.push(`${what}: tier 0 ${got.join(' ')}; model ${want.join(' ')}`);
  if (schema.windows > 0 && tiers[1] !== null) {
    const w = store.query(s.handle, { tier: 1 });
    w.values.forEach((v, i) => {
      const start = w.timestamps[i]! / SEC;
      const offset = Math.floor(slotOf(v)) - (start % 1e7);
      const own = serialOf(v) === s.serial && (offset === 0 || offset === 1) && s.history.has(v);
      if (!own) out.push(`${what}: tier 1 window ${start - SLOT0} holds ${v}, not one of its values there`);
    });
  }
  return out;
}
