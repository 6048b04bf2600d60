// rondo/prom-client with the real prom-client: the store holds what the registry reported at
// each sample (compared with prom-client's own text exposition), histograms and summaries round-
// trip, counters survive a reset, label sets come and go (and come back after retirement), the
// timer, the errors, and the clear error when prom-client is not installed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Gauge, register as globalRegistry, Histogram, Registry, Summary } from 'prom-client';
import { formatSeries, Store } from '../index.js';
import {
  oneTier,
  rejectsCode,
  scratchDirs,
  sleep,
  T0,
  throwsCode,
  waitUntil,
} from '../test-fixtures/helpers.js';
import { importWithoutPeers } from '../test-fixtures/peer.js';
import { RegistryRecorder, recordRegistry } from './index.js';

const scratch = scratchDirs('prom-client');

function openStore(options: { interval?: number; retireAfter?: string; maxSeries?: number } = {}): Store {
  const schema = oneTier('p', options.interval ?? 1000, 600, options.maxSeries ?? 100);
  return Store.open(scratch(), {
    schemas: [options.retireAfter === undefined ? schema : { ...schema, retireAfter: options.retireAfter }],
    maxFutureSkew: Number.POSITIVE_INFINITY,
  });
}

/** Prometheus text exposition → `name{labels sorted}` → value (comments skipped). */
function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `exposition line ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').match(/[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"/g) ?? []) {
      const eq = pair.indexOf('=');
      const value = pair.slice(eq + 2, -1);
      if (value !== '') labels[pair.slice(0, eq)] = value;
    }
    const sorted = Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
    out.set(formatSeries(m[1]!, sorted), Number(m[3]));
  }
  return out;
}

/** The store's points at `t`, as `name{labels}` → value, leaving the label `omit` out. */
function storeAt(store: Store, t: number, omit = ''): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of store.series()) {
    const r = store.query(s.handle, { start: t, end: t + 1 });
    const { [omit]: _, ...labels } = s.labels;
    if (r.values.length === 1) out.set(formatSeries(s.name, labels), r.values[0]!);
  }
  return out;
}

/** A registry with one metric of each kind. */
function instrumented() {
  const registry = new Registry();
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'requests',
    labelNames: ['route', 'code'],
    registers: [registry],
  });
  const inflight = new Gauge({ name: 'http_inflight', help: 'in flight', registers: [registry] });
  const latency = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'latency',
    labelNames: ['route'],
    buckets: [0.01, 0.1, 1],
    registers: [registry],
  });
  const size = new Summary({
    name: 'payload_bytes',
    help: 'sizes',
    percentiles: [0.5, 0.9],
    registers: [registry],
  });
  return { registry, requests, inflight, latency, size };
}

describe('RegistryRecorder', () => {
  it("holds, at each sample, exactly what prom-client's exposition shows", async () => {
    const store = openStore();
    const { registry, requests, inflight, latency, size } = instrumented();
    const rec = new RegistryRecorder(store, registry, { labels: { instance: 'api-1' } });
    for (let round = 1; round <= 5; round++) {
      requests.inc({ route: '/', code: '200' }, round);
      if (round >= 3) requests.inc({ route: '/login', code: '401' });
      inflight.set(round * 2.5);
      for (let i = 0; i < round * 3; i++) latency.observe({ route: '/' }, (i % 7) * 0.07);
      size.observe(round * 100);
      const t = T0 + round * 1000;
      const recorded = await rec.sample(t);
      const want = parseExposition(await registry.metrics());
      assert.equal(recorded, want.size, `round ${round}: one point per exposed series`);
      // The extra label is added to every series; compared without it.
      assert.deepEqual(storeAt(store, t, 'instance'), want, `round ${round}`);
      assert.ok(store.series().every((s) => s.labels['instance'] === 'api-1'));
    }
    const types = new Map(store.series().map((s) => [formatSeries(s.name, s.labels), s.type]));
    assert.equal(types.get('http_requests_total{code="200",instance="api-1",route="/"}'), 'counter');
    assert.equal(types.get('http_inflight{instance="api-1"}'), 'gauge');
    assert.equal(
      types.get('http_request_duration_seconds_bucket{instance="api-1",le="0.1",route="/"}'),
      'counter',
    );
    assert.equal(types.get('http_request_duration_seconds_sum{instance="api-1",route="/"}'), 'counter');
    assert.equal(types.get('payload_bytes{instance="api-1",quantile="0.9"}'), 'gauge');
    assert.equal(types.get('payload_bytes_count{instance="api-1"}'), 'counter');
    store.close();
  });

  it('histograms round-trip: the buckets, sum and count give back the observations', async () => {
    const store = openStore();
    const { registry, latency } = instrumented();
    const rec = new RegistryRecorder(store, registry);
    const observed = [0.005, 0.05, 0.05, 0.5, 3];
    for (const v of observed) latency.observe({ route: '/x' }, v);
    await rec.sample(T0);
    const value = (name: string, labels: Record<string, string>): number =>
      store.query(store.lookup(name, { route: '/x', ...labels })!).values[0]!;
    const le = (bound: string): number => value('http_request_duration_seconds_bucket', { le: bound });
    assert.deepEqual(['0.01', '0.1', '1', '+Inf'].map(le), [1, 3, 4, 5], 'cumulative bucket counts');
    assert.equal(value('http_request_duration_seconds_count', {}), observed.length);
    assert.ok(Math.abs(value('http_request_duration_seconds_sum', {}) - 3.605) < 1e-12);
    store.close();
  });

  it('counters survive a reset: increase counts the new value from 0', async () => {
    const store = openStore();
    const { registry, requests } = instrumented();
    const rec = new RegistryRecorder(store, registry);
    const labels = { route: '/', code: '200' };
    const steps: [string, number][] = [
      ['inc', 5],
      ['inc', 3],
      ['reset', 2],
      ['inc', 4],
    ];
    for (const [i, [what, n]] of steps.entries()) {
      if (what === 'reset') registry.resetMetrics();
      requests.inc(labels, n);
      await rec.sample(T0 + i * 1000);
    }
    const h = store.lookup('http_requests_total', labels)!;
    assert.deepEqual([...store.query(h).values], [5, 8, 2, 6], 'raw values, with the reset');
    assert.deepEqual([...store.query(h, { fn: 'increase' }).values], [3, 2, 4]);
    assert.deepEqual([...store.query(h, { fn: 'rate' }).values], [3, 2, 4]);
    store.close();
  });

  it('registers label sets as they appear; one that disappears is retired by the store and can come back', async () => {
    const store = openStore({ retireAfter: '3s' });
    const { registry, requests } = instrumented();
    const rec = new RegistryRecorder(store, registry);
    const a = { route: '/a', code: '200' };
    const b = { route: '/b', code: '200' };
    requests.inc(a);
    await rec.sample(T0);
    assert.equal(store.lookup('http_requests_total', b), undefined);
    requests.inc(b);
    await rec.sample(T0 + 1000);
    const first = store.lookup('http_requests_total', b)!;
    assert.ok(first !== undefined, 'the new label set is registered');
    requests.remove(b);
    for (let s = 2; s <= 6; s++) {
      requests.inc(a);
      await rec.sample(T0 + s * 1000);
      store.consolidate();
    }
    assert.equal(store.lookup('http_requests_total', b), undefined, 'retired after 3 s without a point');
    assert.ok(store.lookup('http_requests_total', a) !== undefined, 'the other is live');
    requests.inc(b, 7);
    await rec.sample(T0 + 7000);
    const again = store.lookup('http_requests_total', b)!;
    assert.ok(again !== undefined && again !== first, 'registered again as a new series');
    assert.deepEqual([...store.query(again).values], [7]);
    store.close();
  });

  it('a series the store refuses is reported, and the others are still recorded', async () => {
    const store = openStore({ maxSeries: 2 });
    const registry = new Registry();
    const g = new Gauge({ name: 'g', help: 'g', labelNames: ['i'], registers: [registry] });
    for (const i of ['1', '2', '3']) g.set({ i }, Number(i));
    const errors: unknown[] = [];
    const rec = new RegistryRecorder(store, registry, { onError: (e) => errors.push(e) });
    assert.equal(await rec.sample(T0), 2);
    assert.equal(errors.length, 1);
    assert.match(String((errors[0] as Error).message), /tried again in a minute/);
    assert.equal((errors[0] as { code?: string }).code, 'ERR_RONDO_MAX_SERIES');
    await rec.sample(T0 + 1000);
    assert.equal(errors.length, 1, 'not again within the minute');
    await rec.sample(T0 + 59_999);
    assert.equal(errors.length, 1, 'not again within the minute');
    // A minute after the refusal it is tried again (and, the schema still full, refused again).
    assert.equal(await rec.sample(T0 + 60_000), 2);
    assert.equal(errors.length, 2, 'tried again a minute later');
    assert.equal((errors[1] as { code?: string }).code, 'ERR_RONDO_MAX_SERIES');
    store.close();
  });

  it('records no point for a value that is not finite', async () => {
    const store = openStore();
    const registry = new Registry();
    const g = new Gauge({ name: 'g', help: 'g', registers: [registry] });
    const rec = new RegistryRecorder(store, registry);
    g.set(Number.POSITIVE_INFINITY);
    assert.equal(await rec.sample(T0), 0);
    g.set(5);
    assert.equal(await rec.sample(T0 + 1000), 1);
    assert.deepEqual([...store.query(store.lookup('g')!).timestamps], [T0 + 1000]);
    store.close();
  });

  it('records nothing once closed, not even a sample that was reading the registry', async () => {
    const store = openStore();
    const registry = new Registry();
    new Gauge({
      name: 'slow',
      help: 'a slow collect()',
      registers: [registry],
      async collect() {
        await sleep(50);
        this.set(1);
      },
    });
    const rec = new RegistryRecorder(store, registry);
    const pending = rec.sample(T0);
    rec.close();
    assert.equal(await pending, 0);
    assert.equal(store.series().length, 0);
    store.close();
  });

  it('refuses what is not a registry, a reader and unknown options', async () => {
    const store = openStore();
    throwsCode(() => new RegistryRecorder(store, {} as Registry), 'ERR_RONDO_INVALID_ARGUMENT', /Registry/);
    throwsCode(
      () => recordRegistry(store, new Registry(), { evry: '1s' } as never),
      'ERR_RONDO_INVALID_ARGUMENT',
      /"evry" \(did you mean every\?\)/,
    );
    throwsCode(() => recordRegistry(store, new Registry(), { every: 0 }), 'ERR_RONDO_CONFIG');
    // A reserved key would pass here and then fail every sample's registration.
    throwsCode(
      () => new RegistryRecorder(store, new Registry(), { labels: { __x: 'a' } }),
      'ERR_RONDO_INVALID_LABEL',
      /__x.*reserved/,
    );
    const reader = Store.open(store.dir, { readOnly: true });
    throwsCode(() => recordRegistry(reader, new Registry()), 'ERR_RONDO_READ_ONLY');
    reader.close();
    store.close();
    const withGauge = new Registry();
    new Gauge({ name: 'x', help: 'x', registers: [withGauge] });
    await rejectsCode(new RegistryRecorder(openClosed(), withGauge).sample(), 'ERR_RONDO_CLOSED');
  });
});

/** A store that has been closed (a writer, so the recorder accepts it). */
function openClosed(): Store {
  const store = openStore();
  store.close();
  return store;
}

describe('recordRegistry', () => {
  it('skips the ticks that come while a slow collect() still runs', async () => {
    const store = openStore({ interval: 10 });
    const registry = new Registry();
    let calls = 0;
    let release = (): void => {};
    new Gauge({
      name: 'slow',
      help: 'a collect() that waits to be released',
      registers: [registry],
      async collect() {
        calls++;
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        this.set(1);
      },
    });
    const stop = recordRegistry(store, registry, { every: 10 });
    try {
      assert.equal(calls, 1, 'the first sample starts at once');
      await sleep(200); // ~20 ticks while the first collect() waits
      assert.equal(calls, 1, 'no tick started another sample meanwhile');
      release();
      await waitUntil('the next sample after the slow one', () => calls >= 2, 10_000);
    } finally {
      stop();
      release();
      store.close();
    }
  });

  it("samples prom-client's global registry at once and on its timer until stopped", async () => {
    const store = openStore({ interval: 50 });
    const g = new Gauge({ name: 'rondo_test_global', help: 'in the global registry' });
    g.set(42);
    try {
      const stop = recordRegistry(store, undefined, { every: 50 });
      const points = (): number => {
        const h = store.lookup('rondo_test_global');
        return h === undefined ? 0 : store.query(h).values.length;
      };
      await waitUntil('three samples', () => points() >= 3, 10_000);
      stop();
      await sleep(20); // a sample in flight at stop() records nothing
      const n = points();
      await sleep(200);
      assert.equal(points(), n, 'nothing after stop()');
      assert.equal(store.query(store.lookup('rondo_test_global')!).values[0], 42);
    } finally {
      globalRegistry.removeSingleMetric('rondo_test_global');
      store.close();
    }
  });
});

it('importing rondo/prom-client without prom-client installed is ERR_RONDO_MISSING_PEER saying what to install', async () => {
  const r = await importWithoutPeers('rondo/prom-client');
  assert.equal(r.code, 'ERR_RONDO_MISSING_PEER', r.message);
  assert.match(r.message, /rondo\/prom-client needs the package prom-client/);
  assert.match(r.message, /npm install prom-client/);
  // The core and the runtime collector need no peer.
  assert.equal((await importWithoutPeers('rondo/runtime')).code, 'loaded');
  assert.equal((await importWithoutPeers('rondo')).code, 'loaded');
});
