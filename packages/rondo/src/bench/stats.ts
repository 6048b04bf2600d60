import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RondoError } from '../errors.js';
import type { Store } from '../store.js';

/** p50/p99/p999 of a sample, in the unit the caller states. */
export interface Percentiles {
  /** Median. */
  p50: number;
  /** 99th percentile. */
  p99: number;
  /** 99.9th percentile. */
  p999: number;
}

/** Nearest-rank percentiles of `samples[0..count)`, each multiplied by `scale` (the array is not modified). */
export function percentiles(samples: Float64Array, count = samples.length, scale = 1): Percentiles {
  if (count <= 0) return { p50: Number.NaN, p99: Number.NaN, p999: Number.NaN };
  const sorted = samples.slice(0, count).sort();
  const at = (q: number): number =>
    sorted[Math.min(count - 1, Math.max(0, Math.ceil(q * count) - 1))]! * scale;
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999) };
}

/** Runs `fn` with a fresh directory under os.tmpdir() and removes the directory afterwards, even on error. */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Resolves on the next turn of the event loop (lets queued I/O callbacks and observers run). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** First timestamp of every bench: a whole day, so every tier's slots align. */
export const T0 = Date.UTC(2025, 0, 1);

/** Registers `series` series bench_metric{i="0"…}; returns their handles in order. */
export function registerAll(store: Store, series: number): number[] {
  const handles: number[] = [];
  for (let i = 0; i < series; i++) handles.push(store.register('bench_metric', { i: String(i) }));
  return handles;
}

/** `value` (or `fallback`) when it is a whole number of at least `min`; ERR_RONDO_INVALID_ARGUMENT otherwise. */
export function positiveInt(value: number | undefined, fallback: number, what: string, min = 1): number {
  const n = value ?? fallback;
  if (!Number.isSafeInteger(n) || n < min)
    throw new RondoError(
      'ERR_RONDO_INVALID_ARGUMENT',
      `bench: ${what} must be a whole number of at least ${min}, got ${String(n)}`,
    );
  return n;
}

/** The median of `xs` (the upper one of an even count). */
export function median(xs: readonly number[]): number {
  return percentiles(Float64Array.from(xs)).p50;
}
