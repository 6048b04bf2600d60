// query() of one series over a full one-day tier: warm in this process, and first in a fresh
// process (the CLI's case), each beside a floor measured in the same run: the memory a result
// needs, written without any of the query's work.
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Store } from '../store.js';
import { median, type Percentiles, percentiles, positiveInt, registerAll, T0, withTempDir } from './stats.js';

/** What {@link runQueryBench} measured. */
export interface QueryBenchResult {
  /** Slots of the queried tier, all filled. */
  slots: number;
  /** Wall time of one query() of one series over the whole tier, warm, ms. */
  msPerQuery: Percentiles;
  /**
   * The warm floor, ms: two fresh arrays of `slots` doubles filled by copying the queried column
   * and its timestamp words (a native copy of the bytes a query reads, into the memory it returns).
   */
  floorMs: Percentiles;
  /** The first query() in a fresh process (a reader beside the writer, as the CLI is), ms: median over the processes. */
  firstMs: number;
  /** The fresh-process floor, ms: allocating and writing the result's two arrays in a fresh process; median. */
  firstFloorMs: number;
  /** Fresh processes started for each of the two figures above. */
  processes: number;
}

/** The script a fresh process runs (dist/bench/first-query.js). */
const FIRST_QUERY = fileURLToPath(new URL('./first-query.js', import.meta.url));

/** Runs first-query.js in `processes` fresh processes; the median of the ms each printed. */
function freshProcesses(processes: number, args: string[]): number {
  const times: number[] = [];
  for (let i = 0; i < processes; i++) {
    const out = execFileSync(process.execPath, [FIRST_QUERY, ...args], { encoding: 'utf8' });
    times.push((JSON.parse(out) as { ms: number }).ms);
  }
  return median(times);
}

/** Fills a one-tier store of 30 series with `slots` seconds; returns the handles. */
function fill(store: Store, slots: number, series: number): number[] {
  const handles = registerAll(store, series);
  for (let n = 0; n < slots; n++) {
    const t = T0 + n * 1000;
    for (let i = 0; i < series; i++) store.record(handles[i]!, n + i, t);
  }
  return handles;
}

/** The warm floor: `queries` times, two fresh arrays filled by native copies of what a query reads. */
function warmFloor(slots: number, queries: number): Percentiles {
  // The slab file's bytes, as a query sees them: its mapping is not public, so a copy in memory of
  // the same size stands in (the copy's source is warm in both cases).
  const ts = new Int32Array(2 * slots).fill(7);
  const column = new Float64Array(slots).fill(1.5);
  const times = new Float64Array(queries);
  for (let q = -30; q < queries; q++) {
    const start = performance.now();
    const a = new Float64Array(Buffer.allocUnsafeSlow(slots * 8).buffer, 0, slots);
    const b = new Float64Array(Buffer.allocUnsafeSlow(slots * 8).buffer, 0, slots);
    a.set(new Float64Array(ts.buffer, 0, slots));
    b.set(column);
    const dt = performance.now() - start;
    if (q >= 0) times[q] = dt;
  }
  return percentiles(times);
}

/**
 * query() of one series over a whole tier of `slots` 1-second slots (default 86_400: one day),
 * every slot filled, in a 30-series schema: 300 warm queries each timed on its own, and the first
 * query in each of `processes` fresh processes (default 5) reading beside the open writer.
 */
export async function runQueryBench(
  options: { slots?: number; processes?: number } = {},
): Promise<QueryBenchResult> {
  const slots = positiveInt(options.slots, 86_400, 'slots', 2);
  const processes = positiveInt(options.processes, 5, 'processes');
  const series = 30;
  const queries = 300;
  return withTempDir('rondo-bench-', (dir) => {
    const path = `${dir}/store`;
    const store = Store.open(path, {
      schemas: [{ name: 'bench', maxSeries: series, tiers: [{ interval: 1000, retention: slots * 1000 }] }],
    });
    try {
      const handles = fill(store, slots, series);
      const range = { start: T0, end: T0 + slots * 1000 };
      const times = new Float64Array(queries);
      let check = 0;
      for (let q = -30; q < queries; q++) {
        const start = performance.now();
        const r = store.query(handles[q & 15]!, range);
        const dt = performance.now() - start;
        if (q >= 0) times[q] = dt;
        check += r.values.length;
      }
      if (check !== (queries + 30) * slots) throw new Error('bench: a query did not return every slot');
      const args = [path, String(range.start), String(range.end), String(slots)];
      return {
        slots,
        msPerQuery: percentiles(times),
        floorMs: warmFloor(slots, queries),
        firstMs: freshProcesses(processes, args),
        firstFloorMs: freshProcesses(processes, [...args, '--floor']),
        processes,
      };
    } finally {
      store.close();
    }
  });
}
