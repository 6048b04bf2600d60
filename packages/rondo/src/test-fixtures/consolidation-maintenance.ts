// Child-process fixture: `node consolidation-maintenance.js <dir> <every>`. Creates a store, records,
// starts maintenance and then simply returns without stop() or close(): the process must exit by
// itself because the maintenance timer is unreferenced. Prints "started" first.
import { writeSync } from 'node:fs';
import { Store } from '../store.js';
import { twoTiers } from './helpers.js';

const [dir, every] = process.argv.slice(2);
const store = Store.open(dir!, { schemas: [twoTiers('m', [1000, 60], [10_000, 60, 'avg'], 1)] });
const h = store.register('cpu');
for (let t = 100_000; t < 130_000; t += 1000) store.record(h, t / 1000, t);
store.startMaintenance({ every: every! });
writeSync(1, 'started\n');
