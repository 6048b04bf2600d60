// rondo/runtime: every listed metric recorded at each sample with plausible values, the event-loop
// figures since the previous sample, GC by kind, the timer (stop, stop with the store), retired
// series registered again, and the errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type SeriesInfo, Store } from '../index.js';
import { oneTier, scratchDirs, sleep, T0, throwsCode, waitUntil } from '../test-fixtures/helpers.js';
import { RUNTIME_METRICS, RuntimeMetrics, recordRuntimeMetrics } from './index.js';

const scratch = scratchDirs('runtime');

function openStore(interval = 1000, maxSeries = 100): Store {
  return Store.open(scratch(), {
    schemas: [oneTier('rt', interval, 600, maxSeries)],
    maxFutureSkew: Number.POSITIVE_INFINITY,
  });
}

/** Keeps the event loop busy for `ms` (a blocking loop, as a slow request handler would). */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
}

/** Lets timers (the delay histogram's) and the GC observer run for `ms`. */
function idle(ms: number): Promise<void> {
  return sleep(ms);
}

function byName(store: Store): Map<string, SeriesInfo[]> {
  const out = new Map<string, SeriesInfo[]>();
  for (const s of store.series()) out.set(s.name, [...(out.get(s.name) ?? []), s]);
  return out;
}

function values(store: Store, s: SeriesInfo): Map<number, number> {
  const r = store.query(s.handle);
  return new Map(Array.from(r.timestamps, (t, i) => [t, r.values[i]!]));
}

function last(store: Store, name: string, labels: Record<string, string> = {}): number {
  const h = store.lookup(name, { app: 'api', ...labels });
  assert.ok(h !== undefined, `${name} is registered`);
  const r = store.query(h);
  return r.values[r.values.length - 1]!;
}

describe('RuntimeMetrics', () => {
  it('records every listed metric at each sample, with the labels given and the listed types', async () => {
    const store = openStore();
    const rt = new RuntimeMetrics(store, { labels: { app: 'api' } });
    const times = [T0 + 1000, T0 + 2000, T0 + 3000];
    try {
      rt.sample(times[0]);
      // Garbage for the GC observer, and a blocked loop for the delay histogram.
      let keep = 0;
      for (let i = 0; i < 200_000; i++) keep += [i, i + 1].length;
      assert.ok(keep > 0);
      await idle(60);
      rt.sample(times[1]);
      await idle(30);
      block(150);
      await idle(30);
      rt.sample(times[2]);
      const series = byName(store);
      for (const m of RUNTIME_METRICS) {
        const list = series.get(m.name);
        assert.ok(list !== undefined && list.length > 0, `${m.name} is recorded`);
        for (const s of list) {
          assert.equal(s.type, m.type, `${m.name} is a ${m.type}`);
          assert.equal(s.labels['app'], 'api', `${m.name} carries the labels given`);
          if (m.label !== undefined) assert.ok(s.labels[m.label] !== undefined, `${m.name} has ${m.label}`);
          const points = values(store, s);
          // The delay figures need one interval of measurement: none at the first sample.
          const expected = m.name.startsWith('nodejs_eventloop_lag_') ? times.slice(1) : times;
          assert.deepEqual(
            [...points.keys()],
            expected,
            `${m.name}${JSON.stringify(s.labels)} at every sample`,
          );
        }
      }
      assert.deepEqual(
        series
          .get('nodejs_gc_duration_seconds_count')!
          .map((s) => s.labels['kind'])
          .sort(),
        ['incremental', 'major', 'minor', 'weakcb'],
      );
      assert.ok(
        series.get('nodejs_heap_space_size_used_bytes')!.some((s) => s.labels['space'] === 'old_space'),
      );
      assert.equal(
        series.get('nodejs_version_info')![0]!.labels['version'],
        process.version,
        'nodejs_version_info carries the version',
      );
    } finally {
      rt.close();
      store.close();
    }
  });

  it('measures what happened since the previous sample: CPU, memory, lag, utilization, GC', async () => {
    const store = openStore();
    const rt = new RuntimeMetrics(store, { labels: { app: 'api' }, eventLoopResolution: '20ms' });
    try {
      rt.sample(T0 + 1000);
      const cpu0 = last(store, 'process_cpu_seconds_total');
      await idle(30);
      block(200);
      let garbage = 0;
      for (let i = 0; i < 300_000; i++) garbage += { i }.i;
      assert.ok(garbage > 0);
      await idle(40);
      rt.sample(T0 + 2000);
      const cpu1 = last(store, 'process_cpu_seconds_total');
      assert.ok(
        cpu1 - cpu0 >= 0.05,
        `the 200 ms busy loop is CPU time (less on a loaded machine) (${cpu1 - cpu0} s)`,
      );
      assert.ok(
        Math.abs(
          last(store, 'process_cpu_user_seconds_total') +
            last(store, 'process_cpu_system_seconds_total') -
            cpu1,
        ) < 1e-9,
      );
      assert.ok(last(store, 'nodejs_eventloop_lag_max_seconds') >= 0.18, 'the blocked loop shows as lag');
      assert.ok(
        last(store, 'nodejs_eventloop_lag_min_seconds') <= last(store, 'nodejs_eventloop_lag_p50_seconds'),
      );
      assert.ok(
        last(store, 'nodejs_eventloop_lag_p50_seconds') <= last(store, 'nodejs_eventloop_lag_p99_seconds'),
      );
      const elu = last(store, 'nodejs_eventloop_utilization_ratio');
      assert.ok(elu > 0.3 && elu <= 1, `utilization ${elu}`);
      assert.ok(last(store, 'process_resident_memory_bytes') > 10e6);
      assert.ok(last(store, 'nodejs_heap_size_used_bytes') <= last(store, 'nodejs_heap_size_total_bytes'));
      assert.ok(last(store, 'nodejs_gc_duration_seconds_count', { kind: 'minor' }) >= 1, 'scavenges counted');
      assert.ok(last(store, 'nodejs_gc_duration_seconds_sum', { kind: 'minor' }) > 0);
      const start = last(store, 'process_start_time_seconds');
      assert.ok(Math.abs(start - (Date.now() / 1000 - process.uptime())) < 2, `start time ${start}`);
      if (process.platform === 'linux') {
        assert.ok(last(store, 'process_open_fds') >= 3);
        assert.ok(last(store, 'process_max_fds') >= last(store, 'process_open_fds'));
      }
      assert.ok(last(store, 'nodejs_active_resources_total') >= 1, 'the pending timer at least');
    } finally {
      rt.close();
      store.close();
    }
  });

  it('sample() counts only the points it recorded, not the series without a value', () => {
    const store = openStore();
    const rt = new RuntimeMetrics(store);
    try {
      // Sampled at once: the loop has not ticked, so the event-loop delay series get no point.
      const recorded = rt.sample(T0 + 1000);
      const series = store.series();
      const withPoint = series.filter((s) => store.query(s.handle).values.length > 0).length;
      assert.ok(withPoint < series.length, 'some series have no point at the first sample');
      assert.equal(recorded, withPoint);
    } finally {
      rt.close();
      store.close();
    }
  });

  it('registers a series again when the store retired it', () => {
    const store = openStore();
    const rt = new RuntimeMetrics(store);
    try {
      rt.sample(T0 + 1000);
      const old = store.lookup('process_resident_memory_bytes')!;
      store.retire(old);
      const recorded = rt.sample(T0 + 2000);
      const live = store.series().filter((s) => s.retired === undefined);
      assert.equal(recorded, live.filter((s) => store.query(s.handle).timestamps.includes(T0 + 2000)).length);
      const renewed = store.lookup('process_resident_memory_bytes')!;
      assert.notEqual(renewed, old);
      assert.deepEqual([...store.query(renewed).timestamps], [T0 + 2000]);
    } finally {
      rt.close();
      store.close();
    }
  });

  it('refuses a store without room before registering anything, and bad options', () => {
    const small = openStore(1000, 10);
    throwsCode(() => new RuntimeMetrics(small), 'ERR_RONDO_MAX_SERIES');
    assert.equal(small.series().length, 0, 'all or nothing');
    small.close();
    const store = openStore();
    throwsCode(
      () => new RuntimeMetrics(store, { label: {} } as never),
      'ERR_RONDO_INVALID_ARGUMENT',
      /"label" \(did you mean labels\?\)/,
    );
    throwsCode(() => new RuntimeMetrics(store, { labels: { kind: 'x' } }), 'ERR_RONDO_INVALID_LABEL', /kind/);
    throwsCode(() => new RuntimeMetrics(store, { labels: { app: '' } }), 'ERR_RONDO_INVALID_LABEL');
    throwsCode(
      () => new RuntimeMetrics(store, { labels: { __x: 'a' } }),
      'ERR_RONDO_INVALID_LABEL',
      /__x.*reserved/,
    );
    throwsCode(() => new RuntimeMetrics({} as Store), 'ERR_RONDO_INVALID_ARGUMENT', /Store/);
    throwsCode(() => recordRuntimeMetrics(store, { every: 'often' }), 'ERR_RONDO_CONFIG', /every/);
    throwsCode(
      () => new RuntimeMetrics(store, { eventLoopResolution: 0 }),
      'ERR_RONDO_CONFIG',
      /eventLoopResolution/,
    );
    throwsCode(
      () => new RuntimeMetrics(store, { eventLoopResolution: 1.5 }),
      'ERR_RONDO_CONFIG',
      /eventLoopResolution/,
    );
    assert.equal(store.series().length, 0);
    const reader = Store.open(store.dir, { readOnly: true });
    throwsCode(() => recordRuntimeMetrics(reader), 'ERR_RONDO_READ_ONLY');
    reader.close();
    store.close();
  });
});

describe('recordRuntimeMetrics', () => {
  it('samples at once and on its timer until stopped', async () => {
    const store = openStore(50);
    const rss = (): number => store.query(store.lookup('process_resident_memory_bytes')!).values.length;
    const stop = recordRuntimeMetrics(store, { every: 50 });
    try {
      assert.equal(rss(), 1, 'the first sample is taken at once');
      await waitUntil('four samples', () => rss() >= 4, 10_000);
      stop();
      const n = rss();
      await sleep(250);
      assert.equal(rss(), n, 'nothing after stop()');
      stop(); // idempotent
    } finally {
      store.close();
    }
  });

  it('stops by itself, quietly, when the store is closed', async () => {
    const store = openStore(50);
    const errors: unknown[] = [];
    const stop = recordRuntimeMetrics(store, { every: 20, onError: (e) => errors.push(e) });
    store.close();
    await sleep(150);
    assert.deepEqual(errors, []);
    stop();
  });

  it('reports a failing sample to onError and goes on', async () => {
    const store = openStore(50);
    const errors: unknown[] = [];
    const stop = recordRuntimeMetrics(store, { every: 20, onError: (e) => errors.push(e) });
    try {
      // A schema full of other series: the recorder's series, once retired, cannot come back.
      for (const s of store.series()) store.retire(s.handle);
      for (let i = 0; ; i++) {
        try {
          store.register('filler', { i: String(i) });
        } catch {
          break;
        }
      }
      await waitUntil('an error', () => errors.length > 0, 10_000);
      assert.ok(
        errors.some((e) => (e as { code?: string }).code === 'ERR_RONDO_MAX_SERIES'),
        String(errors[0]),
      );
    } finally {
      stop();
      store.close();
    }
  });
});
