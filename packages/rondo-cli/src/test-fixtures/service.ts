/**
 * Test fixture: a service with rondo's runtime collector, for the flight-recorder test.
 * Usage: node service.js <dir>. It records its runtime metrics every second into the store in
 * <dir>, prints `ready <pid>`, and on a line `block` on stdin prints `blocking <ms>`, keeps its
 * event loop busy for 2 s, and prints `unblocked <ms>` (wall-clock times). It runs until killed.
 */
import { createInterface } from 'node:readline';
import { Store } from 'rondo';
import { recordRuntimeMetrics } from 'rondo/runtime';

const dir = process.argv[2];
if (!dir) throw new Error('usage: service.js <dir>');
setTimeout(() => process.exit(3), 120_000).unref(); // never outlive a test run

const store = Store.open(dir, {
  schemas: [{ name: 'runtime', maxSeries: 100, tiers: [{ interval: '1s', retention: '10m' }] }],
});
recordRuntimeMetrics(store, { every: '1s', labels: { app: 'api' } });
// The work of the service: a timer that keeps it alive, as a server's socket would.
setInterval(() => undefined, 100);
process.stdout.write(`ready ${process.pid}\n`);

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line !== 'block') return;
  const start = Date.now();
  process.stdout.write(`blocking ${start}\n`);
  while (Date.now() - start < 2000) {
    // A handler stuck in a synchronous loop.
  }
  process.stdout.write(`unblocked ${Date.now()}\n`);
});
