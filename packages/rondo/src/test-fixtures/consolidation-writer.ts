// Child-process writer of the SIGKILL tests:
//   node consolidation-writer.js <dir> <seed> <length> <consolidateEvery> [crashInAdvanceFrom]
// Records the crash sequence (resuming at the store's newest tier-0 slot, so it can be killed and
// rerun), consolidating every N points; prints "start <index>" then "done". With
// crashInAdvanceFrom, it dies inside the first ring advance at or after that index that makes
// tier 0 drop part of a tier-1 window: after the writer's own beforeLoss consolidation, with the
// dropped positions emptied but the new slot not yet stamped (a SIGKILL late in an advance).
import { writeSync } from 'node:fs';
import { Store } from '../store.js';
import { CRASH_TIERS, crashSequence, schemaOf } from './consolidation-common.js';

const [dir, seedArg, lengthArg, everyArg, crashArg] = process.argv.slice(2);
const say = (line: string): void => {
  writeSync(1, `${line}\n`);
};
setTimeout(() => process.exit(3), 30_000).unref();

const seq = crashSequence(Number(seedArg), Number(lengthArg));
const every = Number(everyArg);
const store = Store.open(dir!, { schemas: [schemaOf('c', CRASH_TIERS)] });
const handles = [store.register('a'), store.register('b')];
const newestMs = store.info().schemas[0]!.tiers[0]!.newest;
let i = newestMs === null ? 0 : seq.findIndex((p) => p.t >= newestMs);
if (i < 0) i = seq.length;
say(`start ${i}`);

if (crashArg !== undefined) {
  const crashFrom = Number(crashArg);
  // Internals on purpose: a SIGKILL cannot be aimed at the middle of a synchronous loop otherwise.
  const internals = store as unknown as {
    sets: { rings: { newest: number; slots: number; slab: { ts: Uint32Array }; beforeLoss: unknown }[] }[];
  };
  const ring = internals.sets[0]!.rings[0]!;
  const original = ring.beforeLoss as (...args: unknown[]) => void;
  const r = CRASH_TIERS[1]!.interval / CRASH_TIERS[0]!.interval;
  let target = 0;
  ring.beforeLoss = (...args: unknown[]) => {
    original(...args);
    const old = ring.newest;
    const firstKept = target - ring.slots + 1;
    if (i < crashFrom || firstKept <= Math.floor(old / r) * r) return;
    const oldest = Math.max(1, old - ring.slots + 1);
    for (let s = oldest; s < firstKept; s++) {
      const p = s % ring.slots;
      ring.slab.ts[2 * p] = 0;
      ring.slab.ts[2 * p + 1] = 0;
    }
    say(`crash ${old} ${target}`);
    process.kill(process.pid, 'SIGKILL');
  };
  for (; i < seq.length; i++) {
    const p = seq[i]!;
    target = Math.floor(p.t / CRASH_TIERS[0]!.interval);
    store.recordBatch(handles, p.v, p.t);
    if (i % every === every - 1) store.consolidate();
  }
} else {
  for (; i < seq.length; i++) {
    const p = seq[i]!;
    store.recordBatch(handles, p.v, p.t);
    if (i % every === every - 1) store.consolidate();
  }
}
store.close();
say('done');
