// Test fixture: a writer process recording in real time, for the dashboard and `rondo serve`
// tests. Usage: node serve-writer.js <dir>. It fills the last 10 minutes (1 s points), prints
// `ready <pid>`, then records every 250 ms at the wall clock until stdin closes.
import { Store } from '../index.js';
import { SERVE_SCHEMAS } from './serve.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: serve-writer.js <dir>');
setTimeout(() => process.exit(3), 120_000).unref(); // never outlive a test run

const store = Store.open(dir, { schemas: SERVE_SCHEMAS });
const hosts = ['web1', 'web2', 'db1'];
const cpu = hosts.map((host) => store.register('cpu_usage', { host }));
const mem = store.register('mem.used_bytes', { host: 'web1' });
const reqs = store.register('http_requests_total', { host: 'web1', code: '200' }, { type: 'counter' });
let count = 0;

/** Smooth, distinct curves with a little noise, so a screenshot shows something real. */
function record(t: number): void {
  const s = t / 1000;
  cpu.forEach((h, i) => {
    const wave = 35 + 20 * Math.sin(s / (90 + 40 * i) + i) + 8 * Math.sin(s / 13 + i * 2);
    store.record(h, Math.round((wave + Math.random() * 4) * 100) / 100, t);
  });
  store.record(mem, 2.1e9 + 3e8 * Math.sin(s / 200) + Math.random() * 2e7, t);
  count += 40 + Math.floor(Math.random() * 20);
  store.record(reqs, count, t);
}

const now = Math.floor(Date.now() / 1000) * 1000;
for (let t = now - 600_000; t <= now; t += 1000) record(t);
store.consolidate();
const stop = store.startMaintenance({ every: '1s' });
const timer = setInterval(() => record(Date.now()), 250);
process.stdout.write(`ready ${process.pid}\n`);
process.stdin.on('end', () => {
  clearInterval(timer);
  stop();
  store.close();
  process.exit(0);
});
process.stdin.resume();
