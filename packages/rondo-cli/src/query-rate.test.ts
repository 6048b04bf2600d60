// `rondo query --rate` and `--increase`: a counter's rate or increase per point, across a reset,
// on the fine and the coarse tier, in every format, and the chunked read (a chunk's first point
// finds its predecessor in the chunk before).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { Store } from 'rondo';
import { scratchDirs } from 'rondo-testkit';
import { CHUNK_SLOTS } from './series-reader.js';
import { assertCliError, rondo, SAMPLE_START } from './test-fixtures/run.js';

const dir = join(scratchDirs('cli-rate')(), 'store');
/** Seconds recorded: more than one chunk of 1 s slots. */
const SECONDS = CHUNK_SLOTS + 100;
/** The second at which the counter restarts (its process did) and counts from 1 again. */
const RESET = 300;

/** jobs_total: +2 a second, reset to 1 at RESET; then +2 a second again. */
function value(s: number): number {
  return s < RESET ? 2 * s : 1 + 2 * (s - RESET);
}

before(() => {
  const store = Store.open(dir, {
    schemas: [
      {
        name: 's',
        maxSeries: 2,
        tiers: [
          { interval: '1s', retention: '6h' },
          { interval: '1m', retention: '1d', consolidation: 'avg' },
        ],
      },
    ],
  });
  const h = store.register('jobs_total', { app: 'api' }, { type: 'counter' });
  for (let s = 0; s < SECONDS; s++) store.record(h, value(s), SAMPLE_START + s * 1000);
  store.consolidate();
  store.close();
});

async function points(...args: string[]): Promise<{ fn?: string; tier: number; points: [number, number][] }> {
  const r = await rondo(['query', dir, 'jobs_total', '--range', 'all', '--format', 'json', ...args]);
  assert.equal(r.code, 0, r.stderr);
  const [series] = (
    JSON.parse(r.stdout) as { series: { fn?: string; tier: number; points: [number, number][] }[] }
  ).series;
  assert.ok(series);
  return series;
}

describe('rondo query --rate / --increase', () => {
  test('--rate on tier 0: 2 per second, the reset counted from 0, across chunk boundaries', async () => {
    const s = await points('--tier', '0', '--rate');
    assert.equal(s.fn, 'rate');
    assert.equal(s.points.length, SECONDS - 1, 'every point but the first has a rate');
    for (const [t, v] of s.points) {
      const sec = (t - SAMPLE_START) / 1000;
      assert.equal(v, sec === RESET ? 1 : 2, `rate at second ${sec}`);
    }
  });

  test('--increase on the coarse tier: counters keep the last value of each minute, so a minute gains 120', async () => {
    const s = await points('--tier', '1', '--increase');
    assert.equal(s.tier, 1);
    const minutes = s.points.map(([t, v]) => [(t - SAMPLE_START) / 60_000, v]);
    // Minute 5 holds the reset (at 300 s): it gained 1 + 2 × 59 from 0.
    assert.deepEqual(minutes.slice(0, 6), [
      [1, 120],
      [2, 120],
      [3, 120],
      [4, 120],
      [5, 119],
      [6, 120],
    ]);
  });

  test('table and csv say what they print; --plot labels the chart', async () => {
    const table = await rondo(['query', dir, 'jobs_total', '--range', '3s', '--rate', '--format', 'table']);
    assert.match(table.stdout, /^jobs_total\{app="api"\} {3}tier 0 \(1s\) {3}3 points {3}rate per second\n/);
    assert.match(table.stdout, /\n {2}\S+Z {2}\s*2\n$/);
    const csv = await rondo(['query', dir, 'jobs_total', '--range', '2s', '--increase', '--format', 'csv']);
    assert.deepEqual(csv.stdout.trimEnd().split('\n').slice(1), [
      `${new Date(SAMPLE_START + (SECONDS - 2) * 1000).toISOString().replace('.000Z', 'Z')},jobs_total,api,2`,
      `${new Date(SAMPLE_START + (SECONDS - 1) * 1000).toISOString().replace('.000Z', 'Z')},jobs_total,api,2`,
    ]);
    const plot = await rondo(['query', dir, 'jobs_total', '--range', '10m', '--rate', '--plot']);
    assert.equal(plot.code, 0, plot.stderr);
    assert.match(plot.stdout, /jobs_total\{app="api"\} {2}\(tier 0, 1s, 600 points, rate per second\)/);
  });

  test('--rate and --increase together are a usage error', async () => {
    const r = await rondo(['query', dir, 'jobs_total', '--rate', '--increase']);
    assertCliError(r, 2, 'ERR_RONDO_USAGE', /--rate and --increase exclude each other/);
  });
});
