/**
 * `rondo-vmm compare`: the measured comparison. It runs VMs of several lifetimes at random
 * offsets while the manager serves its store (`rondo serve`, /metrics) and a real Prometheus
 * scrapes that /metrics with one job per interval (15 s and 30 s by default: two scrapers of
 * the same VMs, as if the run were made twice), then counts per VM the seconds of its life for
 * which each side holds a sample: the embedded store (its own query API) and Prometheus (raw
 * samples over its HTTP API).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from 'rondo';
import { type RondoServer, serve } from 'rondo/server';
import { type Cleanup, type RunOptions, type RunSummary, runVms, type VmSummary } from './manager.js';
import { findSeries } from './metrics.js';
import { jobName, type Prometheus, rawSamples, startPrometheus, waitForScrapes } from './prometheus.js';
import {
  compareSchedule,
  formatTally,
  lifeSeconds,
  secondsHeld,
  type TallyRow,
  tallyRows,
  type VmTally,
} from './tally.js';

/** The series both sides are counted on: host-side, recorded every second from spawn to exit. */
export const COUNTED_SERIES = 'vm_cpu_seconds_total';

/** Options of {@link runCompare}: the VMs' shape as for run, plus the experiment. */
export interface CompareOptions extends Omit<RunOptions, 'specs' | 'forever' | 'onStore' | 'remoteWrite'> {
  /** The lifetimes to compare (default 5 s, 10 s, 30 s, 45 s). */
  lifetimesMs: number[];
  /** VMs of each lifetime. */
  each: number;
  /** VMs start at random offsets within this window. */
  windowMs: number;
  /** Scrape intervals, one Prometheus job each (default 15 s and 30 s). */
  intervalsMs: number[];
  /** Seed of the random offsets (the same seed, the same schedule). */
  seed: number;
  /** The Prometheus binary. */
  prometheus: string;
}

/** What {@link runCompare} measured. */
export interface CompareResult {
  intervalsMs: number[];
  rows: TallyRow[];
  vms: VmTally[];
  /** The markdown table. */
  table: string;
  run: RunSummary;
}

/**
 * Serves the store and starts a Prometheus that scrapes it; resolves once every job scraped
 * once. `closeServer` ends the serving (at the end of the run); Prometheus stays up to be queried.
 */
async function startScrapers(
  store: Store,
  o: CompareOptions,
  dir: string,
  log: (line: string) => void,
): Promise<{ prom: Prometheus; closeServer: Cleanup }> {
  const server: RondoServer = await serve(store, { listen: '127.0.0.1:0', dashboard: false });
  let prom: Prometheus | null = null;
  try {
    prom = await startPrometheus(o.prometheus, dir, `127.0.0.1:${server.port}`, o.intervalsMs);
    log(`Prometheus ${prom.url} scrapes ${server.url}metrics, jobs ${o.intervalsMs.map(jobName).join(', ')}`);
    // Each job's first scrape comes first, so every VM meets scrapers already in their rhythm.
    await waitForScrapes(prom, o.intervalsMs, Math.max(...o.intervalsMs) + 30_000);
    return { prom, closeServer: () => server.close() };
  } catch (err) {
    await prom?.stop();
    await server.close();
    throw err;
  }
}

/** The seconds of each VM's life that the store holds a point of {@link COUNTED_SERIES} for. */
function embeddedTimes(storeDir: string, vms: readonly VmSummary[]): Map<string, number[]> {
  const store = Store.open(storeDir, { readOnly: true });
  try {
    const out = new Map<string, number[]>();
    for (const vm of vms) {
      // The VM's series were retired when it ended: look among all series, not only live ones.
      const h = findSeries(store, COUNTED_SERIES, { vm: vm.id });
      const r =
        h === undefined ? null : store.query(h, { start: vm.startedAt - 1000, end: vm.exitedAt + 1000 });
      out.set(vm.id, r === null ? [] : [...r.timestamps]);
    }
    return out;
  } finally {
    store.close();
  }
}

/** Runs the comparison and counts. VMs that never booted have no life to count and are left out. */
export async function runCompare(o: CompareOptions): Promise<CompareResult> {
  const log = o.log ?? (() => {});
  const specs = compareSchedule(o.lifetimesMs, o.each, o.windowMs, o.seed);
  const dir = mkdtempSync(join(tmpdir(), 'rondo-vmm-compare-'));
  const scrapers: { prom: Prometheus | null } = { prom: null };
  try {
    const run = await runVms({
      ...o,
      specs,
      onStore: async (store) => {
        const started = await startScrapers(store, o, dir, log);
        scrapers.prom = started.prom;
        return started.closeServer;
      },
    });
    const embedded = embeddedTimes(o.store, run.vms);
    const scraped = await scrapedTimes(scrapers.prom!, run, o.intervalsMs);
    const vms: VmTally[] = run.vms
      .filter((vm) => vm.helloAt !== null)
      .map((vm) => {
        const secs = lifeSeconds(vm.helloAt!, vm.exitedAt);
        return {
          id: vm.id,
          lifetimeMs: vm.lifetimeMs,
          seconds: secs.length,
          embedded: secondsHeld(secs, embedded.get(vm.id) ?? []),
          scraped: o.intervalsMs.map((ms) => secondsHeld(secs, scraped.get(jobName(ms))?.get(vm.id) ?? [])),
        };
      });
    const rows = tallyRows(vms, o.intervalsMs.length);
    return { intervalsMs: o.intervalsMs, rows, vms, table: formatTally(rows, o.intervalsMs), run };
  } finally {
    await scrapers.prom?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Per job, per VM: the times of the samples Prometheus holds of {@link COUNTED_SERIES}. */
async function scrapedTimes(
  prom: Prometheus,
  run: RunSummary,
  intervalsMs: readonly number[],
): Promise<Map<string, Map<string, number[]>>> {
  const now = Date.now();
  const range = run.wallSeconds * 1000 + 120_000;
  const out = new Map<string, Map<string, number[]>>();
  for (const ms of intervalsMs) {
    const job = jobName(ms);
    const series = await rawSamples(prom, `${COUNTED_SERIES}{job="${job}"}`, now, range);
    out.set(job, new Map(series.map((s) => [s.labels['vm'] ?? '', s.times])));
  }
  return out;
}
