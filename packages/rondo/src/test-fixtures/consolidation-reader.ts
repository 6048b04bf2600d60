// Child-process reader: `node consolidation-reader.js <dir>`. Opens the store read-only once, prints
// "ready", then answers each stdin line "<handle> <tier|auto> [start [end]]" with one line of JSON
// {"tier","covered","timestamps","values"} from query(); exits when stdin ends. It never reopens
// the store.
import { writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Store } from '../store.js';

const [dir] = process.argv.slice(2);
setTimeout(() => process.exit(3), 30_000).unref();
const store = Store.open(dir!, { readOnly: true });
writeSync(1, 'ready\n');
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const [h, tier, start, end] = line.trim().split(' ');
  const r = store.query(Number(h), {
    tier: tier === 'auto' ? 'auto' : Number(tier),
    start: start === undefined ? undefined : Number(start),
    end: end === undefined ? undefined : Number(end),
  });
  writeSync(
    1,
    `${JSON.stringify({ tier: r.tier, covered: r.covered, timestamps: [...r.timestamps], values: [...r.values] })}\n`,
  );
});
lines.on('close', () => {
  store.close();
  process.exit(0);
});
