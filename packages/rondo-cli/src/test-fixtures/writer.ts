/**
 * Test fixture: a writer process that keeps a store busy while the CLI reads it.
 * Usage: node writer.js <dir>. It creates the store, registers two series, prints
 * `ready <pid>` once points exist, and records one synthetic second every few ms. A line `add
 * <name>` on stdin registers a new series (answered `added <name>`); closing stdin ends it.
 */
import { createInterface } from 'node:readline';
import { Store } from 'rondo';

/** First timestamp the fixture records: fixed, so tests can query known times. */
export const WRITER_START = Date.UTC(2024, 4, 1, 12, 0, 0);

const dir = process.argv[2];
if (!dir) throw new Error('usage: writer.js <dir>');
const store = Store.open(dir, {
  schemas: [
    {
      name: 'live',
      maxSeries: 16,
      tiers: [
        { interval: '1s', retention: '1h' },
        { interval: '1m', retention: '1d', consolidation: 'avg' },
      ],
    },
  ],
});
const handles = [
  store.register('live_load', { host: 'web1' }),
  store.register('live_load', { host: 'web2' }),
];
let t = WRITER_START;
const tick = (): void => {
  for (const [i, h] of handles.entries()) store.record(h, i * 10 + ((t / 1000) % 60), t);
  t += 1000;
};
for (let i = 0; i < 60; i++) tick();
const timer = setInterval(tick, 2);
process.stdout.write(`ready ${process.pid}\n`);

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const [verb, name] = line.split(' ');
  if (verb === 'add' && name) {
    handles.push(store.register(name, { host: 'late' }));
    tick();
    process.stdout.write(`added ${name}\n`);
  }
});
lines.on('close', () => {
  clearInterval(timer);
  store.close();
});
