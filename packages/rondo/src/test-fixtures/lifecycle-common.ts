// What the series-lifecycle tests and their child processes (lifecycle-child.ts) share: tiny
// schemas whose data ages out after a few slots, values that say which series and which slot
// they were recorded for (so a point shown under another series' name is caught), and a reader
// of the journal's records.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { JOURNAL_HEADER_BYTES, type JournalRecord, parseRecords } from '../catalog/journal.js';
import type { Consolidation, RondoError, SchemaConfig, SeriesHandle, Store } from '../index.js';

/** Tier-0 slot width of the lifecycle tests' schemas, ms. */
export const SEC = 1000;

/** The epoch slot the tests start at: T0 (rondo-testkit) / SEC. */
export const SLOT0 = 1_700_000_000;

/** The start (ms) of tier-0 slot `slot0 + n`. */
export function at(n: number): number {
  return (SLOT0 + n) * SEC;
}

/**
 * A schema whose data ages out after a few slots: tier 0 keeps `slots0` slots of 1 s, tier 1
 * `windows` windows of 2 s (`consolidation`, default avg). Tier 1's oldest window leaves the ring
 * 2 × windows seconds after it started.
 */
export function tiny(
  name: string,
  maxSeries: number,
  options: Partial<Pick<SchemaConfig, 'match' | 'retireAfter'>> & {
    slots0?: number;
    windows?: number;
    consolidation?: Consolidation;
  } = {},
): SchemaConfig {
  const { slots0 = 4, windows = 4, consolidation = 'avg', ...rest } = options;
  return {
    name,
    maxSeries,
    ...rest,
    tiers: [
      { interval: SEC, retention: slots0 * SEC },
      { interval: 2 * SEC, retention: windows * 2 * SEC, consolidation },
    ],
  };
}

/** A single-tier schema of `slots` slots of 1 s. */
export function flat(
  name: string,
  maxSeries: number,
  slots: number,
  match?: Record<string, string>,
): SchemaConfig {
  return { name, maxSeries, ...(match ? { match } : {}), tiers: [{ interval: SEC, retention: slots * SEC }] };
}

/** Distinct series identities per value: a value is `serial × SPAN + slot mod SPAN`. */
const SPAN = 10_000_000;

/** The value recorded for the series with test serial number `serial` in tier-0 slot `slot`. */
export function code(serial: number, slot: number): number {
  return serial * SPAN + (slot % SPAN);
}

/** The series serial a value (or an avg/min/max/last of one series' values) was recorded for. */
export function serialOf(v: number): number {
  return Math.floor(v / SPAN);
}

/** The slot (mod SPAN) a tier-0 value was recorded at. */
export function slotOf(v: number): number {
  return v - serialOf(v) * SPAN;
}

/** The records of the journal at `path` that a reader would accept, and where they end. */
export function journalRecords(path: string): { records: JournalRecord[]; end: number; size: number } {
  const buf = readFileSync(path);
  const parsed = parseRecords(buf.subarray(JOURNAL_HEADER_BYTES));
  return { records: parsed.records, end: JOURNAL_HEADER_BYTES + parsed.consumed, size: buf.length };
}

/**
 * Checks that every point `store` returns for `handle`, in tier 0 and (if the schema has one)
 * tier 1 (avg, max, min or last of 2-slot windows), is one the series recorded: values are
 * code(handle, slot). Returns the points checked; 0 when the handle is gone (a reader's series
 * may age out between listing and querying).
 */
export function assertOwnPoints(store: Store, handle: SeriesHandle, what = ''): number {
  let checked = 0;
  for (const tier of [0, 1]) {
    let r: ReturnType<Store['query']>;
    try {
      r = store.query(handle, { tier });
    } catch (err) {
      const code = (err as RondoError).code;
      if (code === 'ERR_RONDO_INVALID_HANDLE' || (tier === 1 && code === 'ERR_RONDO_INVALID_TIER'))
        return checked;
      throw err;
    }
    for (let i = 0; i < r.values.length; i++) {
      const v = r.values[i]!;
      const slot = r.timestamps[i]! / SEC;
      const where = `${what} series ${handle} tier ${tier} at slot ${slot - SLOT0}: value ${v}`;
      assert.equal(serialOf(v), handle, `${where} belongs to series ${serialOf(v)}`);
      const s = slotOf(v);
      if (tier === 0) assert.equal(s, slot % SPAN, `${where} was recorded for another slot`);
      else assert.ok(s >= slot % SPAN && s <= (slot % SPAN) + 1, `${where} is not from its window`);
      checked++;
    }
  }
  return checked;
}
