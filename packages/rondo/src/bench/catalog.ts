// The series catalogue's costs: register() per call as the store fills up, registering many
// series at once, reopening a store of many series, and a reader picking up new series.
import { performance } from 'node:perf_hooks';
import { Store } from '../index.js';
import { median, withTempDir } from './stats.js';

/** Options of {@link runCatalogBench}. */
export interface CatalogBenchOptions {
  /** Series to register (default 100 000). */
  series?: number;
  /** Called with progress (series registered so far, out of `series`). */
  onProgress?: (done: number, total: number) => void;
}

/** What {@link runCatalogBench} measured. */
export interface CatalogBenchResult {
  /** Series registered. */
  series: number;
  /** Median µs per register() call over the first 1 000 calls (an empty store). */
  registerFirstUs: number;
  /** Median µs per register() call over the last 1 000 calls (the store nearly full). */
  registerLastUs: number;
  /** All the one-by-one registrations, ms. */
  registerTotalMs: number;
  /** The same number of series in one registerMany() call, ms. */
  registerManyMs: number;
  /** Store.open of the store with all the series (writer), ms; median of 5. */
  reopenMs: number;
  /** Store.open of a store with 1 000 series (writer), ms; median of 5. */
  reopen1kMs: number;
  /** A reader's first lookup() after the writer registered 1 000 more (it reads only the new records), ms. */
  readerPickup1kMs: number;
}

const SCHEMA = { name: 'churn', maxSeries: 0, tiers: [{ interval: '1s', retention: '1m' }] };

/** Registers `n` series one by one into `dir`; returns the per-call µs of each batch of 1 000. */
function registerOneByOne(
  store: Store,
  n: number,
  onProgress?: (done: number, total: number) => void,
): number[] {
  const perBatch: number[] = [];
  for (let b = 0; b < n; b += 1000) {
    const times: number[] = [];
    for (let i = b; i < Math.min(n, b + 1000); i++) {
      const t = performance.now();
      store.register('bench_series', { vm: `vm-${i}`, kind: 'guest' });
      times.push((performance.now() - t) * 1000);
    }
    perBatch.push(median(times));
    onProgress?.(Math.min(n, b + 1000), n);
  }
  return perBatch;
}

/** Median ms of `fn` over `runs` runs. */
function timeMs(runs: number, fn: () => void): number {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

/** Runs the catalogue benchmark in a temporary directory. */
export async function runCatalogBench(options: CatalogBenchOptions = {}): Promise<CatalogBenchResult> {
  const n = options.series ?? 100_000;
  return withTempDir('rondo-bench-catalog-', (dir) => {
    const schemas = [{ ...SCHEMA, maxSeries: n + 1000 }];
    const store = Store.open(`${dir}/one`, { schemas });
    const t0 = performance.now();
    const perBatch = registerOneByOne(store, n, options.onProgress);
    const registerTotalMs = performance.now() - t0;
    store.close();
    const reopenMs = timeMs(5, () => Store.open(`${dir}/one`).close());

    const many = Store.open(`${dir}/many`, { schemas });
    const specs = Array.from({ length: n }, (_, i) => ({ name: 'bench_series', labels: { vm: `vm-${i}` } }));
    const registerManyMs = timeMs(1, () => many.registerMany(specs));
    many.close();

    const small = Store.open(`${dir}/small`, { schemas: [{ ...SCHEMA, maxSeries: 2000 }] });
    small.registerMany(specs.slice(0, 1000));
    small.close();
    const reopen1kMs = timeMs(5, () => Store.open(`${dir}/small`).close());

    const writer = Store.open(`${dir}/one`);
    const reader = Store.open(`${dir}/one`, { readOnly: true });
    writer.registerMany(
      Array.from({ length: 1000 }, (_, i) => ({ name: 'late_series', labels: { i: String(i) } })),
    );
    // lookup() refreshes the reader's catalogue: it reads only the journal's new records.
    const readerPickup1kMs = timeMs(1, () => {
      if (reader.lookup('late_series', { i: '999' }) === undefined)
        throw new Error('the reader did not see the new series');
    });
    reader.close();
    writer.close();
    return {
      series: n,
      registerFirstUs: perBatch[0]!,
      registerLastUs: perBatch[perBatch.length - 1]!,
      registerTotalMs,
      registerManyMs,
      reopenMs,
      reopen1kMs,
      readerPickup1kMs,
    };
  });
}

/** The catalogue figures as report lines. */
export function formatCatalogBench(r: CatalogBenchResult): string[] {
  const n = r.series.toLocaleString('en-US');
  return [
    `series catalogue (${n} series, one tier 1s/1m):`,
    `  register() per call: ${r.registerFirstUs.toFixed(1)} µs at the first 1,000, ${r.registerLastUs.toFixed(1)} µs at the last 1,000 (${(r.registerLastUs / r.registerFirstUs).toFixed(2)}×)`,
    `  ${n} register() calls: ${(r.registerTotalMs / 1000).toFixed(2)} s; one registerMany() of ${n}: ${r.registerManyMs.toFixed(0)} ms`,
    `  reopen (writer): ${r.reopenMs.toFixed(1)} ms with ${n} series, ${r.reopen1kMs.toFixed(2)} ms with 1,000`,
    `  a reader picking up 1,000 new series: ${r.readerPickup1kMs.toFixed(2)} ms`,
  ];
}
