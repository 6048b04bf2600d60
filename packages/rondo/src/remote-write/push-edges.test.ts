// Edges of startPush (the Pusher) and RemoteWriter: durations a timer cannot wait, options that
// are not objects, a store closed under a running pusher, a receiver that refuses every sample
// (committed, or kept with onAllRefused: 'fail'), batches the receiver could never take, an
// endless error body, and what the `pushed` and `nothing` events report.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { assertCode, rejectsCode, scratchDirs, sleep, T0, throwsCode, waitUntil } from 'rondo-testkit';
import { FakeReceiver } from 'rondo-testkit/fake-receiver';
import { Store } from '../index.js';
import { Pusher, type PushOptions, startPush } from './push.js';
import { PushError, type PushEvent, RemoteWriter } from './writer.js';

const FAST = { minBackoff: 1, maxBackoff: 10, timeout: 300 } as const;
const scratch = scratchDirs('push-edges');

let rx: FakeReceiver;
before(async () => {
  rx = await new FakeReceiver().start();
});
after(async () => {
  await rx.close();
});
function reset(): void {
  rx.script = [];
  rx.requests.length = 0;
  rx.accepted.length = 0;
}

function tempStore(): Store {
  return Store.open(scratch(), {
    schemas: [{ name: 's', maxSeries: 8, tiers: [{ interval: 1000, retention: 3_600_000 }] }],
  });
}

describe('startPush options', () => {
  test('durations longer than a timer can wait are ERR_RONDO_CONFIG (Node would wait 1 ms)', async () => {
    const store = tempStore();
    try {
      for (const o of [
        { every: '30d' },
        { stopTimeout: '30d' },
        { timeout: '30d' },
      ] as Partial<PushOptions>[]) {
        throwsCode(() => startPush(store, { url: rx.url, ...o }), 'ERR_RONDO_CONFIG', /longer than a timer/);
      }
      for (const o of ['timeout', 'minBackoff', 'maxBackoff', 'maxRetryAfter'] as const) {
        throwsCode(
          () => new RemoteWriter({ url: rx.url, [o]: 2 ** 31 }),
          'ERR_RONDO_CONFIG',
          /longer than a timer/,
        );
      }
      // The longest a timer waits is still fine.
      await startPush(store, { url: rx.url, every: 2 ** 31 - 1 }).stop();
    } finally {
      store.close();
    }
  });

  test('options that are not an object, and a bad maxSamples, are ERR_RONDO_INVALID_ARGUMENT up front', () => {
    const store = tempStore();
    try {
      for (const o of [null, undefined, 'http://x']) {
        throwsCode(() => startPush(store, o as unknown as PushOptions), 'ERR_RONDO_INVALID_ARGUMENT');
      }
      for (const maxSamples of [0, 1.5, Number.NaN, -1]) {
        throwsCode(
          () => startPush(store, { url: rx.url, maxSamples }),
          'ERR_RONDO_INVALID_ARGUMENT',
          /maxSamples/,
        );
      }
      throwsCode(
        () => startPush(store, { url: rx.url, onAllRefused: 'skip' as 'fail' }),
        'ERR_RONDO_INVALID_ARGUMENT',
        /onAllRefused must be 'commit' or 'fail', got "skip"/,
      );
    } finally {
      store.close();
    }
  });

  test('a tier no schema has names the tiers there are', () => {
    const store = tempStore();
    try {
      throwsCode(
        () => startPush(store, { url: rx.url, tier: 3 }),
        'ERR_RONDO_INVALID_TIER',
        /has tier 3 \(its schemas have tiers 0\)$/,
      );
    } finally {
      store.close();
    }
  });
});

describe('startPush behaviour', () => {
  test('a store closed without stop(): one fatal ERR_RONDO_CLOSED, then the timer stops', async () => {
    reset();
    const store = tempStore();
    const h = store.register('x');
    store.record(h, 1, T0);
    const events: PushEvent[] = [];
    const pusher = startPush(store, { url: rx.url, every: 10, ...FAST, onEvent: (e) => events.push(e) });
    store.close();
    await sleep(200);
    const failures = events.filter((e) => e.type === 'error' || e.type === 'fatal');
    assert.equal(failures.length, 1, JSON.stringify(failures.map((e) => e.type)));
    assert.equal(failures[0]!.type, 'fatal');
    assertCode((failures[0] as { error: Error }).error, 'ERR_RONDO_CLOSED');
    assert.equal(pusher.stats.errors, 1);
    await rejectsCode(pusher.stop(), 'ERR_RONDO_CLOSED');
  });

  test('pushed counts distinct series over the batches; a push that finds nothing says so', async () => {
    reset();
    const store = tempStore();
    try {
      const hs = [store.register('a'), store.register('b')];
      for (let i = 0; i < 5; i++) for (const h of hs) store.record(h, i, T0 + i * 1000);
      const events: PushEvent[] = [];
      // Three samples a batch: four batches, each series in two of them.
      const pusher = startPush(store, {
        url: rx.url,
        every: '1h',
        maxSamples: 3,
        ...FAST,
        onEvent: (e) => events.push(e),
      });
      assert.equal(await pusher.pushNow(), 8);
      assert.equal(await pusher.pushNow(), 0);
      const ends = events.filter((e) => e.type === 'pushed' || e.type === 'nothing');
      assert.equal(ends.length, 2);
      assert.deepEqual(
        { ...ends[0], durationMs: 0 },
        { type: 'pushed', samples: 8, series: 2, batches: 3, durationMs: 0, final: false },
      );
      assert.deepEqual({ ...ends[1], durationMs: 0 }, { type: 'nothing', durationMs: 0, final: false });
      assert.equal(pusher.stats.pushes, 1, 'a push that found nothing is not counted');
      await pusher.stop();
    } finally {
      store.close();
    }
  });
});

describe('Pusher.start', () => {
  test('called again while a periodic push runs, it adds no second timer chain', async () => {
    reset();
    const store = tempStore();
    try {
      const h = store.register('a');
      for (let i = 0; i < 3; i++) store.record(h, i, T0 + i * 1000);
      const every = 100;
      const ends: number[] = [];
      const pusher = new Pusher(store, {
        url: rx.url,
        every,
        ...FAST,
        timeout: 10_000,
        onEvent: (e) => {
          if (e.type === 'pushed' || e.type === 'nothing') ends.push(performance.now());
        },
      });
      let release = (): void => {};
      rx.script = [{ until: new Promise<void>((resolve) => (release = resolve)) }];
      assert.equal(pusher.start(), pusher);
      await waitUntil('the first periodic push to reach the receiver', () => rx.requests.length === 1);
      // The timer is null while its push runs: start() must still know the pusher started.
      assert.equal(pusher.start(), pusher);
      // Long enough for a second chain's tick to fire and queue behind the held push.
      await sleep(3 * every);
      release();
      await waitUntil('the push after the slow one', () => ends.length >= 2);
      const [first, second] = ends as [number, number];
      // A second chain's tick, queued behind the slow push, would run right after it.
      assert.ok(second - first >= every - 5, `the next push came ${second - first} ms after the slow one`);
      await pusher.stop();
    } finally {
      store.close();
    }
  });
});

describe('a receiver that refuses every sample', () => {
  /** A store with 2 series × 5 points, and a receiver that answers 400 to everything. */
  function refusingSetup(): Store {
    reset();
    const store = tempStore();
    const hs = [store.register('a'), store.register('b')];
    for (let i = 0; i < 5; i++) for (const h of hs) store.record(h, i, T0 + i * 1000);
    rx.script = Array.from({ length: 100 }, () => ({ status: 400, body: 'out of bounds' }));
    return store;
  }

  test("by default the refused batch is committed (dropped): 'pushed' with 0 samples", async () => {
    const store = refusingSetup();
    try {
      const events: PushEvent[] = [];
      const pusher = startPush(store, { url: rx.url, every: '1h', ...FAST, onEvent: (e) => events.push(e) });
      assert.equal(await pusher.pushNow(), 0);
      assert.deepEqual(
        events.filter((e) => e.type === 'pushed').map((e) => ({ ...e, durationMs: 0 })),
        [{ type: 'pushed', samples: 0, series: 2, batches: 1, durationMs: 0, final: false }],
      );
      assert.equal(pusher.stats.dropped400, 8, 'the closed slots: the open one is left for stop()');
      rx.script = [];
      assert.equal(await pusher.pushNow(), 0, 'nothing is left: it was committed');
      await pusher.stop();
    } finally {
      store.close();
    }
  });

  test("with onAllRefused: 'fail' the batch stays uncommitted and the pusher stops (fatal)", async () => {
    const store = refusingSetup();
    try {
      const events: PushEvent[] = [];
      const pusher = startPush(store, {
        url: rx.url,
        every: '1h',
        ...FAST,
        onAllRefused: 'fail',
        onEvent: (e) => events.push(e),
      });
      const err = await rejectsCode(
        pusher.pushNow(),
        'ERR_RONDO_PUSH',
        /^the receiver refused all 8 samples of a batch \(HTTP 400: out of bounds\); nothing of it was committed$/,
      );
      assert.ok(err instanceof PushError && err.status === 400 && !err.retryable);
      assert.deepEqual(
        events
          .filter((e) => e.type === 'fatal' || e.type === 'error' || e.type === 'pushed')
          .map((e) => e.type),
        ['fatal'],
      );
      // The bisection's `dropped` events fired, but the kept samples are not counted as dropped.
      assert.equal(
        events.reduce((n, e) => n + (e.type === 'dropped' ? e.samples : 0), 0),
        8,
      );
      assert.equal(pusher.stats.dropped400, 0);
      assert.equal(pusher.writer.stats.dropped400, 0);
      await rejectsCode(pusher.stop(), 'ERR_RONDO_PUSH', /refused all \d+ samples/);
      // The data is still there for a pusher whose receiver takes it.
      rx.script = [];
      const again = startPush(store, { url: rx.url, every: '1h', ...FAST, onAllRefused: 'fail' });
      assert.equal(await again.pushNow(), 8);
      await again.stop();
    } finally {
      store.close();
    }
  });

  test("with onAllRefused: 'fail' a batch refused with 413 fails with status 413, counted nowhere", async () => {
    reset();
    const store = tempStore();
    try {
      const h = store.register('a');
      for (let i = 0; i < 3; i++) store.record(h, i, T0 + i * 1000);
      rx.maxBytes = 1; // every request, even of one sample, is too large
      const pusher = startPush(store, { url: rx.url, every: '1h', ...FAST, onAllRefused: 'fail' });
      const err = await rejectsCode(
        pusher.pushNow(),
        'ERR_RONDO_PUSH',
        /refused all 2 samples of a batch \(HTTP 413/,
      );
      assert.ok(err instanceof PushError && err.status === 413 && !err.retryable);
      assert.equal(pusher.writer.stats.droppedTooLarge, 0);
      assert.equal(pusher.stats.dropped400, 0);
      await rejectsCode(pusher.stop(), 'ERR_RONDO_PUSH');
    } finally {
      rx.maxBytes = Number.POSITIVE_INFINITY;
      store.close();
    }
  });

  test("with onAllRefused: 'fail' a batch of which some samples went in is committed as usual", async () => {
    reset();
    const store = tempStore();
    try {
      const h = store.register('a');
      for (let i = 0; i < 4; i++) store.record(h, i, T0 + i * 1000);
      rx.rejectBefore = T0 + 2000;
      const pusher = startPush(store, { url: rx.url, every: '1h', ...FAST, onAllRefused: 'fail' });
      // The closed slots T0 … T0+2s: the first two are refused, the third is taken.
      assert.equal(await pusher.pushNow(), 1);
      assert.equal(pusher.stats.dropped400, 2);
      await pusher.stop();
    } finally {
      rx.rejectBefore = Number.NEGATIVE_INFINITY;
      store.close();
    }
  });
});

describe('RemoteWriter.push edges', () => {
  test('a timestamp that is not a whole number is a non-retryable PushError; nothing is sent', async () => {
    reset();
    const w = new RemoteWriter({ url: rx.url, ...FAST });
    for (const t of [T0 + 0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      await assert.rejects(
        w.push({ series: [{ name: 'm', labels: {}, timestamps: [T0, t], values: [1, 2] }] }),
        (e: unknown) => e instanceof PushError && assertCode(e, 'ERR_RONDO_PUSH') && !e.retryable,
      );
    }
    await assert.rejects(
      w.push({ series: [{ name: 'm', labels: {}, timestamps: [T0], values: [1, 2] }] }),
      (e: unknown) => e instanceof PushError && !e.retryable,
    );
    assert.equal(rx.requests.length, 0);
  });

  test('an error body is read only in part: an endless one does not hold the answer back', async () => {
    // Answers 404 with a body that never ends.
    const sockets = new Set<() => void>();
    const server: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.write('x'.repeat(64 * 1024));
        sockets.add(() => res.destroy());
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`;
      const w = new RemoteWriter({ url, timeout: 2000, maxRetries: 0 });
      const started = Date.now();
      await assert.rejects(
        w.push({ series: [{ name: 'm', labels: {}, timestamps: [T0], values: [1] }] }),
        (e: unknown) => e instanceof PushError && e.status === 404 && !e.retryable,
      );
      assert.ok(Date.now() - started < 1500, 'not held until the timeout');
    } finally {
      for (const destroy of sockets) destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
