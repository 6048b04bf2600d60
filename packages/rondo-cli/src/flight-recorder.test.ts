// The flight recorder: a service records its runtime metrics with rondo/runtime, blocks its event
// loop for 2 s, and is killed with SIGKILL. Read afterwards with the real `rondo query`, the store
// shows the lag spike and the last second before the kill: what a scrape would have missed.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Store } from 'rondo';
import { Child, scratchDirs, waitUntil } from 'rondo-testkit';
import { rondo } from './test-fixtures/run.js';

const SERVICE = fileURLToPath(new URL('./test-fixtures/service.js', import.meta.url));
const scratch = scratchDirs('flight');

/** The points of the series without labels of their own (bar app), by name, read by `rondo query`. */
async function query(dir: string): Promise<Map<string, [number, number][]>> {
  const r = await rondo([
    'query',
    dir,
    '{app="api", space="", kind=""}',
    '--range',
    'all',
    '--format',
    'json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const { series } = JSON.parse(r.stdout) as { series: { name: string; points: [number, number][] }[] };
  return new Map(series.map((s) => [s.name, s.points]));
}

test('after SIGKILL, rondo query shows the blocked event loop and the last second before the kill', async () => {
  const dir = join(scratch(), 'metrics');
  const service = new Child(SERVICE, [dir]);
  try {
    await service.waitFor('ready', 30_000);
    service.proc.stdin.write('block\n');
    const blockedAt = Number((await service.waitFor('blocking')).split(' ')[1]);
    const unblockedAt = Number((await service.waitFor('unblocked', 30_000)).split(' ')[1]);
    // Let the collector take the samples after the block (read through a reader, as any
    // process may while the service writes), then kill the service without warning.
    const reader = Store.open(dir, { readOnly: true });
    const rss = (): number => {
      const h = reader.lookup('process_resident_memory_bytes', { app: 'api' });
      return h === undefined ? 0 : (reader.query(h).timestamps.at(-1) ?? 0);
    };
    await waitUntil('a sample a second after the block', () => rss() >= unblockedAt + 1000, 15_000);
    reader.close();
    const killedAt = Date.now();
    const { signal } = await service.kill('SIGKILL');
    assert.equal(signal, 'SIGKILL');

    const store = await query(dir);
    const lag = store.get('nodejs_eventloop_lag_max_seconds');
    assert.ok(lag, 'the lag series is in the store');
    const spike = Math.max(...lag.map(([, v]) => v));
    assert.ok(spike >= 1.5, `the 2 s block shows as a lag of ${spike} s`);
    const [when] = lag.find(([, v]) => v === spike)!;
    assert.ok(when >= blockedAt - 1000, 'the spike is recorded after the block began');
    const elu = store.get('nodejs_eventloop_utilization_ratio')!;
    assert.ok(Math.max(...elu.map(([, v]) => v)) >= 0.5, 'the busy loop shows as utilization');
    // The last second before the kill is there: every series has a point in it.
    for (const name of [
      'process_resident_memory_bytes',
      'process_cpu_seconds_total',
      'nodejs_heap_size_used_bytes',
    ]) {
      const newest = store.get(name)!.at(-1)![0];
      assert.ok(newest >= killedAt - 2000, `${name}: newest point ${killedAt - newest} ms before the kill`);
    }
    const info = await rondo(['info', dir]);
    assert.match(info.stdout, /writer\s+none/);
  } finally {
    await service.kill();
  }
});
