// End to end against real receivers: a store pushed into Prometheus (remote-write receiver) and
// VictoriaMetrics on loopback ports, every point read back through their HTTP APIs. The binaries
// come from Debian (`apt-get install -y prometheus victoria-metrics`); without them the tests are
// skipped with a notice (a failure under RONDO_REQUIRE_ALL=1, as in CI).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, hasCommand, needs, type ServerProcess, scratchDirs, startServer } from 'rondo-testkit';
import { Store } from '../store.js';
import { startPush } from './push.js';
import { bisectBudget, RemoteWriter } from './writer.js';

interface Receiver {
  base: string;
  server: ServerProcess;
  dir: string;
}

async function startReceiver(kind: 'prometheus' | 'victoria-metrics'): Promise<Receiver> {
  const dir = scratch();
  const port = await freePort();
  let args: string[];
  let ready: string;
  if (kind === 'prometheus') {
    writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1m\n');
    args = [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-remote-write-receiver',
    ];
    ready = '/-/ready';
  } else {
    args = [`-storageDataPath=${join(dir, 'data')}`, `-httpListenAddr=127.0.0.1:${port}`];
    ready = '/health';
  }
  const base = `http://127.0.0.1:${port}`;
  return { base, server: await startServer(kind, args, base + ready), dir };
}

async function stopReceiver(r: Receiver | undefined): Promise<void> {
  if (!r) return;
  await r.server.stop();
}

const SEC = 1000;
const scratch = scratchDirs('rx');

/** A store with three series and 600 points each, ending at the current second. */
function makeStore(): { store: Store; dir: string; want: Map<string, number> } {
  const dir = scratch();
  const store = Store.open(dir, {
    schemas: [{ name: 's', maxSeries: 8, tiers: [{ interval: SEC, retention: 3_600_000 }] }],
  });
  const hs = [
    store.register('rondo_e2e.cpu', { host: 'a' }),
    store.register('rondo_e2e.cpu', { host: 'b' }),
    store.register('rondo_e2e.mem'),
  ];
  const names = ['rondo_e2e_cpu{host="a"}', 'rondo_e2e_cpu{host="b"}', 'rondo_e2e_mem{}'];
  const end = Math.floor(Date.now() / SEC) * SEC;
  const want = new Map<string, number>();
  for (let i = 0; i < 600; i++) {
    const t = end - (599 - i) * SEC;
    hs.forEach((h, k) => {
      const v = i % 50 === 7 ? -0.125 * i : i * 1.5 + k / 8;
      store.record(h, v, t);
      want.set(`${names[k]}@${t}`, v);
    });
  }
  return { store, dir, want };
}

function key(metric: Record<string, string>, t: number): string {
  const { __name__, ...rest } = metric;
  const lbl = Object.entries(rest)
    .sort()
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',');
  return `${__name__}{${lbl}}@${t}`;
}

const receivers = needs(
  'prometheus and victoria-metrics',
  hasCommand('prometheus') && hasCommand('victoria-metrics'),
  'apt-get install -y prometheus victoria-metrics',
);

describe('push into real receivers', receivers, () => {
  let prom: Receiver | undefined;
  let vm: Receiver | undefined;

  before(async () => {
    [prom, vm] = await Promise.all([startReceiver('prometheus'), startReceiver('victoria-metrics')]);
  });

  after(async () => {
    await Promise.all([stopReceiver(prom), stopReceiver(vm)]);
  });

  test('Prometheus: every point reads back through query_range', async () => {
    const { store, want } = makeStore();
    try {
      const pusher = startPush(store, {
        url: `${prom!.base}/api/v1/write`,
        every: '1h',
        maxSamples: 500,
        externalLabels: { host: 'ext' },
      });
      // The external label fills in where the series has no label of that name.
      for (const [k, v] of [...want]) {
        if (!k.startsWith('rondo_e2e_mem{}')) continue;
        want.delete(k);
        want.set(k.replace('{}', '{host="ext"}'), v);
      }
      await pusher.stop();
      assert.equal(pusher.stats.samples, want.size);
      assert.equal(pusher.stats.dropped400, 0);
      const got = new Map<string, number>();
      const end = Math.max(...[...want.keys()].map((k) => Number(k.split('@')[1])));
      const params = new URLSearchParams({
        query: '{__name__=~"rondo_e2e_.*"}',
        start: String((end - 599 * SEC) / 1000),
        end: String(end / 1000),
        step: '1',
      });
      const res = (await (await fetch(`${prom!.base}/api/v1/query_range?${params}`)).json()) as {
        data: { result: { metric: Record<string, string>; values: [number, string][] }[] };
      };
      for (const r of res.data.result) {
        for (const [ts, v] of r.values) {
          // query_range also returns a point at steps after a sample (lookback); keep exact ones.
          const k = key(r.metric, Math.round(ts * 1000));
          if (want.has(k) && !got.has(k)) got.set(k, Number(v));
        }
      }
      assert.equal(got.size, want.size);
      for (const [k, v] of want) assert.equal(got.get(k), v, k);
      // The raw samples too: a range selector returns each stored sample exactly once.
      const raw = (await (
        await fetch(
          `${prom!.base}/api/v1/query?${new URLSearchParams({ query: 'rondo_e2e_mem[1h]', time: String(end / 1000 + 1) })}`,
        )
      ).json()) as { data: { result: { values: [number, string][] }[] } };
      assert.equal(raw.data.result[0]!.values.length, 600);
    } finally {
      store.close();
    }
  });

  test('Prometheus: a replayed uncommitted batch is dropped (400) without losing newer points', async () => {
    const dir = scratch();
    const store = Store.open(dir, {
      schemas: [{ name: 's', maxSeries: 2, tiers: [{ interval: SEC, retention: 3_600_000 }] }],
    });
    try {
      const h = store.register('rondo_replay');
      const t0 = Math.floor(Date.now() / SEC) * SEC - 100 * SEC;
      for (let i = 0; i < 20; i++) store.record(h, i, t0 + i * SEC);
      const url = `${prom!.base}/api/v1/write`;
      const writer = new RemoteWriter({ url });
      // Delivered, then the pusher "crashes" before commit.
      await writer.push(store.drain('p'));
      for (let i = 20; i < 40; i++) store.record(h, i, t0 + i * SEC);
      const pusher = startPush(store, { url, every: '1h', name: 'p' });
      await pusher.stop();
      // Prometheus rejects a request holding samples it already has (whole request, HTTP 400),
      // but takes the newest one again (identical): the replay holds only those, bisecting finds
      // nothing else to send, and the newer points went in their own batch.
      assert.equal(pusher.stats.dropped400, 18);
      const raw = (await (
        await fetch(
          `${prom!.base}/api/v1/query?${new URLSearchParams({ query: 'rondo_replay[1h]', time: String(t0 / 1000 + 100) })}`,
        )
      ).json()) as { data: { result: { values: [number, string][] }[] } };
      assert.deepEqual(
        raw.data.result[0]!.values.map(([, v]) => Number(v)),
        [...Array(40).keys()],
      );
    } finally {
      store.close();
    }
  });

  test('Prometheus: a backlog older than its head window is bisected away; the recent points arrive', async () => {
    const dir = scratch();
    const store = Store.open(dir, {
      schemas: [{ name: 's', maxSeries: 4, tiers: [{ interval: 10 * SEC, retention: 3 * 3_600_000 }] }],
    });
    try {
      const url = `${prom!.base}/api/v1/write`;
      const now = Math.floor(Date.now() / (10 * SEC)) * 10 * SEC;
      // Make sure the head reaches the present, whichever test ran before.
      await new RemoteWriter({ url }).push({
        series: [{ name: 'rondo_oob_anchor', labels: {}, timestamps: [now], values: [1] }],
      });
      const hs = [store.register('rondo_oob', { k: 'a' }), store.register('rondo_oob', { k: 'b' })];
      let total = 0;
      for (let t = now - 2 * 3_600_000; t <= now; t += 10 * SEC) {
        for (const h of hs) store.record(h, t / SEC, t);
        total += hs.length;
      }
      const events: string[] = [];
      const pusher = startPush(store, {
        url,
        every: '1h',
        onEvent: (e) => e.type === 'dropped' && events.push(e.message),
      });
      await pusher.stop();
      // A request holding one sample out of bounds is refused whole: before bisecting, all of
      // these were dropped. Now only the old ones are, in a bounded number of requests.
      assert.equal(pusher.stats.samples + pusher.stats.dropped400, total);
      assert.ok(pusher.stats.dropped400 > 0 && pusher.stats.samples > 0);
      assert.ok(
        events.every((m) => /out of (bounds|order)/.test(m)),
        events.join('; '),
      );
      assert.ok(
        pusher.writer.stats.requests <= 3 + 2 * bisectBudget(total),
        `${pusher.writer.stats.requests} requests`,
      );
      const raw = (await (
        await fetch(
          `${prom!.base}/api/v1/query?${new URLSearchParams({ query: 'rondo_oob[3h]', time: String(now / 1000) })}`,
        )
      ).json()) as { data: { result: { metric: { k: string }; values: [number, string][] }[] } };
      assert.equal(raw.data.result.length, 2);
      for (const r of raw.data.result) {
        const got = new Set(r.values.map(([ts]) => Math.round(ts * 1000)));
        // Everything from the last 55 minutes is there (Prometheus takes about the last hour).
        for (let t = now - 55 * 60 * SEC; t <= now; t += 10 * SEC)
          assert.ok(got.has(t), `${r.metric.k}@${t}`);
        assert.equal(got.size * 2, pusher.stats.samples);
      }
    } finally {
      store.close();
    }
  });

  test('VictoriaMetrics: every point reads back through /api/v1/export', async () => {
    const { store, want } = makeStore();
    try {
      const pusher = startPush(store, { url: `${vm!.base}/api/v1/write`, every: '1h', maxSamples: 700 });
      await pusher.stop();
      assert.equal(pusher.stats.samples, want.size);
      const got = new Map<string, number[]>();
      // Freshly written rows become searchable within about a second: poll.
      for (const deadline = Date.now() + 10_000; got.size < want.size && Date.now() < deadline; ) {
        await new Promise((r) => setTimeout(r, 200));
        got.clear();
        const query = new URLSearchParams({ 'match[]': '{__name__=~"rondo_e2e_.*"}' });
        const text = await (await fetch(`${vm!.base}/api/v1/export?${query}`)).text();
        for (const line of text.split('\n').filter(Boolean)) {
          const row = JSON.parse(line) as {
            metric: Record<string, string>;
            values: number[];
            timestamps: number[];
          };
          row.timestamps.forEach((t, i) => {
            const k = key(row.metric, t);
            got.set(k, [...(got.get(k) ?? []), row.values[i]!]);
          });
        }
      }
      assert.equal(got.size, want.size);
      for (const [k, v] of want) assert.deepEqual(got.get(k), [v], k);
    } finally {
      store.close();
    }
  });
});
