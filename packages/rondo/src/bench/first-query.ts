/**
 * Run by the query benchmark in a fresh process: `first-query.js DIR START END SLOTS [--floor]`
 * opens the store at DIR read-only (beside its writer) and prints `{"ms": …}`, the wall time of
 * its first query() of series i="3" over [START, END), which must return SLOTS points. With
 * `--floor` it times instead what that result's memory alone costs in a fresh process: two arrays
 * of SLOTS doubles, allocated and written.
 */
import { performance } from 'node:perf_hooks';
import { Store } from '../store.js';

const [dir, start, end, slotsArg, mode] = process.argv.slice(2);
const slots = Number(slotsArg);
let ms: number;
if (mode === '--floor') {
  const t = performance.now();
  const a = new Float64Array(Buffer.allocUnsafeSlow(slots * 8).buffer, 0, slots);
  const b = new Float64Array(Buffer.allocUnsafeSlow(slots * 8).buffer, 0, slots);
  a.fill(1); // native fills: a loop here would run in the interpreter and time that instead
  b.fill(2);
  ms = performance.now() - t;
} else {
  const store = Store.open(dir!, { readOnly: true });
  const handle = store.lookup('bench_metric', { i: '3' });
  if (handle === undefined) throw new Error('first-query: no series i="3"');
  const t = performance.now();
  const r = store.query(handle, { start: Number(start), end: Number(end) });
  ms = performance.now() - t;
  if (r.values.length !== slots) throw new Error(`first-query: ${r.values.length} points, not ${slots}`);
  store.close();
}
process.stdout.write(`${JSON.stringify({ ms })}\n`);
