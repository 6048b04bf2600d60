// Child-process reader: `node consolidation-reader.js <dir>`. Opens the store read-only once, prints
// "ready", then answers each stdin line "<handle> <tier>" with one line of JSON
// {"tier","timestamps","values"} from query(); exits when stdin ends. It never reopens the store.
import { writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Store } from '../store.js';

const [dir] = process.argv.slice(2);
setTimeout(() => process.exit(3), 30_000).unref();
const store = Store.open(dir!, { readOnly: true });
writeSync(1, 'ready\n');
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const [h, tier] = line.trim().split(' ');
  const r = store.query(Number(h), { tier: tier === 'auto' ? 'auto' : Number(tier) });
  writeSync(
    1,
    `${JSON.stringify({ tier: r.tier, covered: r.covered, timestamps: [...r.timestamps], values: [...r.values] })}\n`,
  );
});
lines.on('close', () => {
  store.close();
  process.exit(0);
});
