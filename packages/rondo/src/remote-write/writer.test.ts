// RemoteWriter and startPush against a scripted loopback receiver: headers, retries (5xx, 429 with
// Retry-After, timeouts, refused connections), 413 splitting, 400 bisecting and dropping,
// 401/403/404 stopping, aborting and a bounded stop(), a flapping receiver after which every point
// has arrived, never with two different values, and a pusher that neither keeps a process alive
// nor blocks record().
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Child, rejectsCode, scratchDirs, sleep, T0, throwsCode, waitUntil } from 'rondo-testkit';
import { FakeReceiver } from 'rondo-testkit/fake-receiver';
import { Store } from '../store.js';
import { startPush } from './push.js';
import {
  bisectBudget,
  PushError,
  type PushEvent,
  parseRetryAfter,
  RemoteWriter,
  USER_AGENT,
} from './writer.js';

const scratch = scratchDirs('push');
const FAST = { minBackoff: 1, maxBackoff: 10, timeout: 300 } as const;

function batchOf(n: number, name = 'm', labels: Record<string, string> = {}) {
  return {
    series: [
      {
        name,
        labels,
        timestamps: Float64Array.from({ length: n }, (_, i) => T0 + i * 1000),
        values: Float64Array.from({ length: n }, (_, i) => i),
      },
    ],
  };
}

let rx: FakeReceiver;
before(async () => {
  rx = await new FakeReceiver().start();
});
after(async () => {
  await rx.close();
});
function reset(): void {
  rx.script = [];
  rx.maxBytes = Number.POSITIVE_INFINITY;
  rx.rejectBefore = Number.NEGATIVE_INFINITY;
  rx.requests.length = 0;
  rx.accepted.length = 0;
}

describe('RemoteWriter', () => {
  test('sends remote-write v1 headers, auth and mapped labels', async () => {
    reset();
    const w = new RemoteWriter({
      url: rx.url,
      bearerToken: 'tok',
      headers: { 'X-Scope-OrgID': 'team' },
      externalLabels: { env: 'test', host: 'ignored' },
    });
    await w.push(batchOf(3, 'cpu.usage', { host: 'web1' }));
    const h = rx.requests[0]!.headers;
    assert.equal(h['content-encoding'], 'snappy');
    assert.equal(h['content-type'], 'application/x-protobuf');
    assert.equal(h['x-prometheus-remote-write-version'], '0.1.0');
    assert.equal(h['user-agent'], USER_AGENT);
    // The version is the package's own, not a copy that can fall behind it.
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    assert.equal(USER_AGENT, `rondo-remote-write/${pkg.version}`);
    assert.equal(h['authorization'], 'Bearer tok');
    assert.equal(h['x-scope-orgid'], 'team');
    assert.deepEqual(
      rx.accepted.map((s) => [s.series, s.t, s.v]),
      [0, 1, 2].map((i) => ['__name__="cpu_usage",env="test",host="web1"', T0 + i * 1000, i]),
    );
    assert.equal(w.stats.samples, 3);
    reset();
    await new RemoteWriter({ url: rx.url, basicAuth: { username: 'u', password: 'p' } }).push(batchOf(1));
    assert.equal(rx.requests[0]!.headers['authorization'], `Basic ${Buffer.from('u:p').toString('base64')}`);
  });

  test('retries 5xx, 429 (honouring Retry-After), timeouts; then delivers once', async () => {
    reset();
    rx.script = [{ status: 500 }, { status: 503 }, 'stall', { status: 429, headers: { 'Retry-After': '1' } }];
    const events: PushEvent[] = [];
    const w = new RemoteWriter({ url: rx.url, ...FAST, onEvent: (e) => events.push(e) });
    const started = Date.now();
    await w.push(batchOf(5));
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 950, `Retry-After: 1 was honoured (${elapsed} ms)`);
    assert.equal(w.stats.retries, 4);
    assert.equal(rx.requests.length, 5);
    assert.equal(rx.accepted.length, 5);
    const retries = events.filter((e) => e.type === 'retry');
    assert.deepEqual(
      retries.map((e) => (e.type === 'retry' ? e.status : -1)),
      [500, 503, null, 429],
    );
    assert.match(retries[2]!.type === 'retry' ? retries[2]!.message : '', /timed out/);
  });

  test('Retry-After as seconds or an HTTP date', () => {
    assert.equal(parseRetryAfter('3'), 3000);
    assert.equal(parseRetryAfter(new Date(T0 + 5000).toUTCString(), T0), 5000);
    assert.equal(parseRetryAfter(new Date(T0 - 5000).toUTCString(), T0), 0);
    assert.equal(parseRetryAfter('soon'), null);
    assert.equal(parseRetryAfter(null), null);
  });

  test('gives up after maxRetries with a retryable PushError (data kept by the caller)', async () => {
    reset();
    rx.script = Array(10).fill({ status: 502, body: 'bad gateway' });
    const w = new RemoteWriter({ url: rx.url, ...FAST, maxRetries: 2 });
    await assert.rejects(w.push(batchOf(2)), (err: unknown) => {
      assert.ok(err instanceof PushError);
      assert.equal(err.code, 'ERR_RONDO_PUSH');
      assert.equal(err.status, 502);
      assert.equal(err.retryable, true);
      assert.match(err.message, /after 3 attempts: HTTP 502: bad gateway/);
      return true;
    });
    assert.equal(rx.requests.length, 3);
    // A refused connection is retried too, then reported.
    const once = new RemoteWriter({ url: 'http://127.0.0.1:1/api/v1/write', ...FAST, maxRetries: 0 });
    await rejectsCode(once.push(batchOf(1)), 'ERR_RONDO_PUSH', /failed after 1 attempt: /);
    const dead = new RemoteWriter({ url: 'http://127.0.0.1:1/api/v1/write', ...FAST, maxRetries: 1 });
    await assert.rejects(
      dead.push(batchOf(1)),
      (err: unknown) => err instanceof PushError && err.status === null,
    );
  });

  test('413 halves the request until each part fits; every sample arrives once', async () => {
    reset();
    const w = new RemoteWriter({ url: rx.url, ...FAST });
    const full = batchOf(400);
    rx.maxBytes = 1200;
    await w.push({ series: [...full.series, ...batchOf(100, 'other').series] });
    assert.ok(w.stats.splits >= 3);
    assert.ok(rx.requests.some((r) => r.status === 413));
    const got = rx.bySample();
    assert.equal(got.size, 500);
    for (const values of got.values()) assert.equal(values.length, 1);
  });

  test('400 on one sample drops it, reports the server message and counts it; later data flows', async () => {
    reset();
    rx.script = [{ status: 400, body: 'out of order sample' }];
    const events: PushEvent[] = [];
    const w = new RemoteWriter({ url: rx.url, ...FAST, onEvent: (e) => events.push(e) });
    await w.push(batchOf(1));
    assert.equal(w.stats.dropped400, 1);
    const dropped = events.find((e) => e.type === 'dropped');
    assert.deepEqual(dropped, { type: 'dropped', status: 400, samples: 1, message: 'out of order sample' });
    await w.push(batchOf(2, 'next'));
    assert.equal(rx.accepted.length, 2);
  });

  test('400 bisects the request: only the refused samples are dropped, in a bounded number of requests', async () => {
    reset();
    // Like Prometheus: a request holding any sample older than its window is refused whole.
    rx.rejectBefore = T0 + 37_000;
    const events: PushEvent[] = [];
    const w = new RemoteWriter({ url: rx.url, ...FAST, onEvent: (e) => events.push(e) });
    await w.push({ series: [...batchOf(100, 'a').series, ...batchOf(100, 'b').series] });
    const got = rx.bySample();
    assert.equal(got.size, 2 * 63);
    for (const s of rx.accepted) assert.ok(s.t >= T0 + 37_000);
    for (const values of got.values()) assert.equal(values.length, 1);
    assert.equal(w.stats.samples, 126);
    assert.equal(w.stats.dropped400, 74);
    const dropped = events.filter((e) => e.type === 'dropped');
    assert.equal(
      dropped.reduce((n, e) => n + (e.type === 'dropped' ? e.samples : 0), 0),
      74,
    );
    assert.ok(dropped.every((e) => e.type === 'dropped' && e.message.startsWith('out of bounds')));
    assert.ok(w.stats.bisections > 0);
    assert.ok(rx.requests.length <= 3 + 2 * bisectBudget(200), `${rx.requests.length} requests`);

    // Everything refused: still bounded, and all of it dropped and counted.
    reset();
    rx.rejectBefore = Number.POSITIVE_INFINITY;
    const all = new RemoteWriter({ url: rx.url, ...FAST });
    await all.push(batchOf(1000));
    assert.equal(all.stats.dropped400, 1000);
    assert.ok(rx.requests.length <= 3 + 2 * bisectBudget(1000), `${rx.requests.length} requests`);

    // Same timestamps everywhere: split by series; the one refused series is dropped alone.
    reset();
    rx.script = [{ status: 400 }, 'ok', { status: 400, body: 'bad series' }];
    const same = new RemoteWriter({ url: rx.url, ...FAST });
    await same.push({ series: ['a', 'b'].map((n) => ({ ...batchOf(1, n).series[0]! })) });
    assert.equal(same.stats.dropped400, 1);
    assert.equal(rx.accepted.length, 1);
  });

  test('an aborted push ends at once, in a backoff wait or a request in flight', async () => {
    for (const reply of [{ status: 503, headers: { 'Retry-After': '30' } }, 'stall'] as const) {
      reset();
      rx.script = Array(5).fill(reply);
      const w = new RemoteWriter({ url: rx.url, ...FAST, timeout: '30s', maxRetryAfter: '1m' });
      const ac = new AbortController();
      const started = Date.now();
      setTimeout(() => ac.abort(new Error('shutting down')), 100);
      await assert.rejects(w.push(batchOf(3), { signal: ac.signal }), (err: unknown) => {
        assert.ok(err instanceof PushError);
        assert.equal(err.retryable, true);
        assert.match(err.message, /aborted: shutting down/);
        return true;
      });
      assert.ok(Date.now() - started < 1000, `${Date.now() - started} ms`);
      assert.equal(rx.accepted.length, 0);
    }
  });

  test('401, 403 and 404 stop at once with ERR_RONDO_PUSH and the status', async () => {
    for (const status of [401, 403, 404]) {
      reset();
      rx.script = [{ status, body: 'nope' }];
      const w = new RemoteWriter({ url: rx.url, ...FAST });
      const err = await rejectsCode(w.push(batchOf(1)), 'ERR_RONDO_PUSH', new RegExp(`HTTP ${status}: nope`));
      assert.ok(err instanceof PushError);
      assert.equal(err.status, status);
      assert.equal(err.retryable, false);
      assert.equal(rx.requests.length, 1);
    }
  });

  test('options are checked', () => {
    throwsCode(() => new RemoteWriter({ url: 'nope' }), 'ERR_RONDO_CONFIG', /is not a URL/);
    throwsCode(() => new RemoteWriter({ url: 'ftp://x/' }), 'ERR_RONDO_CONFIG', /must be http\(s\)/);
    throwsCode(() => new RemoteWriter({ url: rx.url, maxRetries: -1 }), 'ERR_RONDO_CONFIG', /maxRetries/);
  });
});

function tempStore(): { store: Store; dir: string } {
  const dir = scratch();
  const store = Store.open(dir, {
    schemas: [{ name: 's', maxSeries: 8, tiers: [{ interval: 1000, retention: 3_600_000 }] }],
  });
  return { store, dir };
}

describe('startPush', () => {
  test('through a flapping receiver every point arrives, none with two different values', async () => {
    reset();
    const { store } = tempStore();
    try {
      const hs = [store.register('a.b', { k: '1' }), store.register('a.b', { k: '2' }), store.register('c')];
      const events: PushEvent[] = [];
      const pusher = startPush(store, {
        url: rx.url,
        every: 15,
        maxSamples: 150,
        maxRetries: 2,
        ...FAST,
        timeout: 100,
        onEvent: (e) => events.push(e),
      });
      const failures = [
        { status: 500 },
        { status: 429, headers: { 'Retry-After': '0' } },
        'stall',
        { status: 503 },
        { status: 500 },
        { status: 500 },
      ] as const;
      rx.maxBytes = 500; // big batches get 413 and are split
      const want = new Map<string, number>();
      for (let i = 0; i < 300; i++) {
        for (const h of hs) {
          store.record(h, i * 10 + h, T0 + i * 1000);
          const s = store.series()[h]!;
          const lbl = Object.entries(s.labels).map(([k, v]) => `,${k}=${JSON.stringify(v)}`);
          want.set(
            `__name__=${JSON.stringify(s.name.replace('.', '_'))}${lbl.join('')}@${T0 + i * 1000}`,
            i * 10 + h,
          );
        }
        if (i % 25 === 0) rx.script.push(...failures.map((f) => (typeof f === 'object' ? { ...f } : f)));
        if (i % 10 === 0) await sleep(5);
      }
      await sleep(50);
      rx.script = []; // the receiver recovers
      await pusher.stop();
      const got = rx.bySample();
      for (const [k, v] of want) {
        const vals = got.get(k);
        assert.ok(vals, `missing ${k}`);
        assert.ok(
          vals.every((x) => x === v),
          `${k}: ${vals.join(',')} != ${v}`,
        );
      }
      assert.equal(got.size, want.size);
      assert.ok(pusher.stats.retries > 0 && pusher.writer.stats.splits > 0);
      assert.ok(
        events.some((e) => e.type === 'error'),
        'some push exhausted its retries',
      );
      assert.equal(pusher.stats.dropped400, 0);
      const pushed = events.filter((e) => e.type === 'pushed');
      assert.equal(pushed.at(-1)?.type === 'pushed' && pushed.at(-1)!.type === 'pushed', true);
    } finally {
      store.close();
    }
  });

  test('a 400 drops only the refused samples; they are committed (not resent); counters say so', async () => {
    reset();
    const { store } = tempStore();
    try {
      const h = store.register('x');
      for (let i = 0; i < 5; i++) store.record(h, i, T0 + i * 1000);
      rx.rejectBefore = T0 + 2000;
      const pusher = startPush(store, { url: rx.url, every: '1h', ...FAST });
      assert.equal(await pusher.pushNow(), 2);
      assert.equal(pusher.stats.dropped400, 2);
      for (let i = 5; i < 8; i++) store.record(h, i, T0 + i * 1000);
      await pusher.stop();
      assert.deepEqual(
        rx.accepted.map((s) => s.v),
        [2, 3, 4, 5, 6, 7],
      );
      assert.equal(pusher.stats.dropped400, 2);
    } finally {
      store.close();
    }
  });

  test('a 401 stops the pusher; the data stays and a fixed pusher delivers it', async () => {
    reset();
    const { store } = tempStore();
    try {
      const h = store.register('x');
      for (let i = 0; i < 5; i++) store.record(h, i, T0 + i * 1000);
      rx.script = [{ status: 401, body: 'unauthorized' }];
      const fatal: Error[] = [];
      const pusher = startPush(store, {
        url: rx.url,
        every: 10,
        ...FAST,
        onEvent: (e) => e.type === 'fatal' && fatal.push(e.error),
      });
      await waitUntil('the 401 to stop the pusher', () => fatal.length > 0, 10_000);
      await sleep(100); // ten push periods: none may come
      assert.equal(fatal.length, 1);
      assert.equal(rx.requests.length, 1, 'no more pushes after a 401');
      await assert.rejects(pusher.stop(), (err: unknown) => err instanceof PushError && err.status === 401);
      const again = startPush(store, { url: rx.url, every: '1h', ...FAST });
      await again.stop();
      assert.deepEqual(
        rx.accepted.map((s) => s.v),
        [0, 1, 2, 3, 4],
      );
    } finally {
      store.close();
    }
  });
});

describe('startPush stop() and the event loop', () => {
  for (const mode of ['503', 'stall'] as const) {
    test(`stop() with the receiver ${mode === '503' ? 'answering 503' : 'stalling'} returns within stopTimeout; nothing is committed`, async () => {
      reset();
      const { store } = tempStore();
      try {
        const h = store.register('x');
        for (let i = 0; i < 5; i++) store.record(h, i, T0 + i * 1000);
        const reply = mode === '503' ? { status: 503, headers: { 'Retry-After': '20' } } : 'stall';
        rx.script = Array(50).fill(reply);
        const events: PushEvent[] = [];
        const pusher = startPush(store, {
          url: rx.url,
          every: 10,
          timeout: '30s',
          maxRetries: 10,
          stopTimeout: 400,
          onEvent: (e) => events.push(e),
        });
        // A periodic push is under way: waiting for Retry-After, or for an answer.
        await waitUntil('a periodic push', () => rx.requests.length > 0, 5000);
        const started = Date.now();
        await rejectsCode(pusher.stop(), 'ERR_RONDO_PUSH', /stopTimeout/);
        const took = Date.now() - started;
        assert.ok(took < 1500, `stop() took ${took} ms`);
        // The cancelled periodic push is not reported as a failure; the final one is.
        assert.equal(events.filter((e) => e.type === 'error').length, 1);
        assert.equal(rx.accepted.length, 0);
        // Nothing was committed: the whole range (the open slot included) is still there.
        const batch = store.drain('prometheus', { includeOpen: true });
        assert.deepEqual([...batch.series[0]!.values], [0, 1, 2, 3]);
        assert.equal(batch.replay, true);
      } finally {
        store.close();
      }
    });
  }

  test('record() keeps working while a push is in flight; every value arrives', async () => {
    reset();
    const { store } = tempStore();
    try {
      const h = store.register('x');
      for (let i = 0; i < 5; i++) store.record(h, i, T0 + i * 1000);
      let release = (): void => {};
      rx.script = [{ until: new Promise<void>((r) => (release = r)) }];
      const pusher = startPush(store, { url: rx.url, every: '1h', ...FAST, timeout: '5s' });
      const push = pusher.pushNow();
      await waitUntil('the first request', () => rx.requests.length === 1, 10_000);
      for (let i = 5; i < 40; i++) {
        // Between the awaits of the push under way: the request is with the receiver.
        await sleep(5);
        store.record(h, i, T0 + i * 1000);
      }
      assert.equal(rx.accepted.length, 0, 'the first request is still in flight');
      release();
      // The first batch (0-3) was in flight; the same push then drained what was recorded meanwhile.
      assert.equal(rx.requests[0]!.samples.length, 4);
      assert.equal(await push, 39);
      await pusher.stop();
      assert.deepEqual(
        rx.accepted.map((s) => s.v),
        [...Array(40).keys()],
      );
    } finally {
      store.close();
    }
  });

  test('a pusher does not keep the process alive', async () => {
    reset();
    const dir = scratch();
    const script = join(dir, 'child.mjs');
    writeFileSync(
      script,
      `import { Store } from ${JSON.stringify(new URL('../index.js', import.meta.url).href)};
import { startPush } from ${JSON.stringify(new URL('./push.js', import.meta.url).href)};
const store = Store.open(${JSON.stringify(join(dir, 'store'))}, {
  schemas: [{ name: 's', maxSeries: 4, tiers: [{ interval: 1000, retention: 3600000 }] }],
});
const h = store.register('x');
for (let i = 0; i < 5; i++) store.record(h, i, ${T0} + i * 1000);
startPush(store, { url: ${JSON.stringify(rx.url)}, every: 20 });
// Let a few pushes run, then return without stop(): only the pusher is left.
await new Promise((r) => setTimeout(r, 150));
console.log('returned');
`,
    );
    const started = Date.now();
    const child = new Child(script);
    const kill = setTimeout(() => child.proc.kill('SIGKILL'), 10_000);
    const { code } = await child.exited;
    clearTimeout(kill);
    assert.equal(code, 0, child.stderr);
    assert.match(child.stdout, /returned/);
    assert.ok(Date.now() - started < 5000, `exited after ${Date.now() - started} ms`);
    assert.deepEqual(
      rx.accepted.map((s) => s.v),
      [0, 1, 2, 3],
    );
  });
});
