/**
 * The arithmetic of `compare`: which seconds of a VM's life each side holds a sample for, summed
 * per lifetime, and the table that shows it. A VM's life runs from its guest's first report
 * (init running) to QEMU's exit; the seconds of its life are the 1 s slots lying wholly inside
 * it. A side holds a second when it has a sample stamped within that second.
 */
import type { VmSpec } from './manager.js';

/** The whole 1 s slots (their start, ms) inside [from, to). */
export function lifeSeconds(from: number, to: number): number[] {
  const out: number[] = [];
  for (let t = Math.ceil(from / 1000) * 1000; t + 1000 <= to; t += 1000) out.push(t);
  return out;
}

/** How many of `seconds` hold at least one of the sample `times` (ms). */
export function secondsHeld(seconds: readonly number[], times: readonly number[]): number {
  const held = new Set(times.map((t) => Math.floor(t / 1000) * 1000));
  return seconds.filter((s) => held.has(s)).length;
}

/** What one VM's life looked like from each side. */
export interface VmTally {
  id: string;
  lifetimeMs: number;
  /** Whole seconds of its life. */
  seconds: number;
  /** Seconds the embedded store holds. */
  embedded: number;
  /** Seconds each scrape job holds, in the order of the intervals. */
  scraped: number[];
}

/** One row of the table: all VMs of one lifetime. */
export interface TallyRow {
  lifetimeMs: number;
  vms: number;
  seconds: number;
  embedded: number;
  scraped: number[];
  /** VMs of which a scrape job holds no sample at all, per interval. */
  unseen: number[];
}

/** Sums the VMs of each lifetime, shortest first. */
export function tallyRows(vms: readonly VmTally[], intervals: number): TallyRow[] {
  const rows = new Map<number, TallyRow>();
  for (const v of vms) {
    let row = rows.get(v.lifetimeMs);
    if (!row) {
      row = {
        lifetimeMs: v.lifetimeMs,
        vms: 0,
        seconds: 0,
        embedded: 0,
        scraped: Array(intervals).fill(0),
        unseen: Array(intervals).fill(0),
      };
      rows.set(v.lifetimeMs, row);
    }
    row.vms++;
    row.seconds += v.seconds;
    row.embedded += v.embedded;
    v.scraped.forEach((n, i) => {
      row.scraped[i]! += n;
      if (n === 0) row.unseen[i]!++;
    });
  }
  return [...rows.values()].sort((a, b) => a.lifetimeMs - b.lifetimeMs);
}

/** `12 (80 %)`, or `–` when there was nothing to hold. */
function cell(n: number, of: number): string {
  return of === 0 ? '–' : `${n} (${Math.round((100 * n) / of)} %)`;
}

/** `15 s`, `1.5 s`, `2 min`. */
export function seconds(ms: number): string {
  return ms % 60_000 === 0 && ms >= 60_000 ? `${ms / 60_000} min` : `${ms / 1000} s`;
}

/** The markdown table: per lifetime, seconds alive and what each side holds of them. */
export function formatTally(rows: readonly TallyRow[], intervalsMs: readonly number[]): string {
  const head = [
    'VM lifetime',
    'VMs',
    'seconds alive',
    'embedded 1 s',
    ...intervalsMs.map((ms) => `scrape ${seconds(ms)}`),
  ];
  const lines = [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
  ];
  for (const r of rows) {
    const scraped = r.scraped.map((n, i) => {
      const unseen = r.unseen[i]!;
      return `${cell(n, r.seconds)}${unseen > 0 ? `, ${unseen} of ${r.vms} VMs never seen` : ''}`;
    });
    lines.push(
      `| ${[seconds(r.lifetimeMs), r.vms, r.seconds, cell(r.embedded, r.seconds), ...scraped].join(' | ')} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** A deterministic random number generator (mulberry32): the same seed, the same offsets. */
export function random(seed: number): () => number {
  // The same generator as rondo-testkit's prng(), which product code cannot import (private package).
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `each` VMs of every lifetime, each starting at a random offset within `windowMs`, in start order. */
export function compareSchedule(
  lifetimesMs: readonly number[],
  each: number,
  windowMs: number,
  seed: number,
): VmSpec[] {
  const next = random(seed);
  const specs: VmSpec[] = [];
  for (const lifetimeMs of lifetimesMs)
    for (let i = 0; i < each; i++) specs.push({ atMs: Math.floor(next() * windowMs), lifetimeMs });
  return specs.sort((a, b) => a.atMs - b.atMs);
}
