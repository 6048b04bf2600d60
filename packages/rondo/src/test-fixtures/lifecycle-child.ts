// Child-process fixture of the series-lifecycle tests: `node lifecycle-child.js <mode> <dir> [args…]`.
// It prints what it did on stdout, synchronously (writeSync), so that a line printed before a
// SIGKILL is never lost and a line not printed means the step had not returned.
//
// Starting Node and loading rondo takes most of a second on a loaded machine, so a test can
// start the next child early: each prints `loaded` and waits for its first stdin line.
//
// churn <dir> [stopFile], started by a line holding a seed: a writer that keeps a series `keep`
//   recording (so time moves on) and registers (register and registerMany), records every live
//   series in every slot (value code(handle, slot), so any point read back says whose it is and
//   when), retires series now and then, re-registers retired names, and consolidates, on tiny
//   rings, so that columns are reused and the journal compacted all the time. It prints `ready
//   <slot>` once open, `try-reg <json names>` / `reg <json [name, handle][]>` around each
//   registration, `full <json names>` when the schema had no room, `try-ret <h>` / `ret <h>`
//   around each retirement. It runs until SIGKILLed or stopFile exists.
// ops -, started by a line of JSON { dir, ops, pace } (see runOps): runs the operations,
//   printing `done <i> <json result>` after each, then waits for stdin to end (or a SIGKILL).
import { existsSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { prng } from 'rondo-testkit';
import { RondoError, type SeriesHandle, Store } from '../index.js';
import { at, code, SLOT0 } from './lifecycle-common.js';

const [mode, dir, ...args] = process.argv.slice(2);

function say(line: string): void {
  writeSync(1, `${line}\n`);
}

// Guard against orphans: a fixture never outlives a test run.
const HARD_LIMIT_MS = 30_000;
setTimeout(() => process.exit(3), HARD_LIMIT_MS).unref();

/** The churn writer (see the module note). */
function churn(seed: number, stopFile: string | undefined): void {
  const store = Store.open(dir!);
  const rnd = prng(seed);
  const live = new Map<SeriesHandle, string>();
  const retiredNames: string[] = [];
  for (const s of store.series()) if (s.retired === undefined) live.set(s.handle, s.name);
  const newest = store.newestEnd();
  let slot = newest === null ? 0 : newest / 1000 - SLOT0;
  let fresh = 0;
  const deadline = Date.now() + HARD_LIMIT_MS - 5000;
  say(`ready ${slot}`);
  const register = (names: string[]): void => {
    say(`try-reg ${JSON.stringify(names)}`);
    try {
      const hs =
        names.length === 1
          ? [store.register(names[0]!)]
          : store.registerMany(names.map((name) => ({ name })));
      for (const [i, h] of hs.entries()) live.set(h, names[i]!);
      say(`reg ${JSON.stringify(hs.map((h, i) => [names[i], h]))}`);
    } catch (err) {
      if (!(err instanceof RondoError && err.code === 'ERR_RONDO_MAX_SERIES')) throw err;
      say(`full ${JSON.stringify(names)}`);
    }
  };
  if (store.lookup('keep') === undefined) register(['keep']);
  const keep = store.lookup('keep')!;
  for (let i = 0; ; i++) {
    if (i % 64 === 0 && (Date.now() > deadline || (stopFile !== undefined && existsSync(stopFile)))) break;
    slot += rnd() < 0.9 ? 1 : 2 + Math.floor(rnd() * 6);
    store.record(keep, code(keep, slot), at(slot));
    for (const h of live.keys()) if (h !== keep) store.record(h, code(h, slot), at(slot));
    // A late point now and then, one slot back (kept or dropped, it is still this series' own).
    const late = [...live.keys()][Math.floor(rnd() * live.size)];
    if (late !== undefined && rnd() < 0.3) store.record(late, code(late, slot - 1), at(slot - 1));
    if (rnd() < 0.4) store.consolidate();
    const r = rnd();
    const h = [...live.keys()][Math.floor(rnd() * live.size)];
    if (r < 0.25 && h !== undefined && h !== keep) {
      say(`try-ret ${h}`);
      store.retire(h);
      say(`ret ${h}`);
      retiredNames.push(live.get(h)!);
      live.delete(h);
    } else if (r < 0.5) {
      const n = 1 + Math.floor(rnd() * 3);
      const names = Array.from({ length: n }, () =>
        retiredNames.length > 0 && rnd() < 0.3
          ? retiredNames.splice(Math.floor(rnd() * retiredNames.length), 1)[0]!
          : `p${process.pid}_${fresh++}`,
      );
      const unique = [...new Set(names)].filter((name) => ![...live.values()].includes(name));
      if (unique.length > 0) register(unique);
    }
  }
  store.close();
  say('stopped');
}

/** One operation of `ops` mode (the property test's model runs the same ones in the parent). */
export type ChildOp =
  | { k: 'reg'; name: string; s: string }
  | { k: 'rec'; name: string; s: string; slot: number; value: number }
  | { k: 'ret'; name: string; s: string }
  | { k: 'cons' };

/**
 * What starts `ops` mode: the store directory (the child is loaded before it is known), the
 * operations, and a pause (ms, busy) after each, so that a kill lands among them.
 */
export interface OpsStart {
  dir: string;
  ops: ChildOp[];
  pace: number;
}

/** Runs the operations against the store, printing `done <i> <result>` after each. */
function runOps({ dir, ops, pace }: OpsStart): Store {
  const store = Store.open(dir);
  const handles = new Map<string, SeriesHandle>();
  for (const s of store.series())
    if (s.retired === undefined) handles.set(`${s.name}|${s.labels['s']}`, s.handle);
  say('ready');
  ops.forEach((op, i) => {
    let result: unknown = null;
    if (op.k === 'reg') {
      result = store.register(op.name, { s: op.s });
      handles.set(`${op.name}|${op.s}`, result as SeriesHandle);
    } else if (op.k === 'rec') store.record(handles.get(`${op.name}|${op.s}`)!, op.value, at(op.slot));
    else if (op.k === 'ret') store.retire(handles.get(`${op.name}|${op.s}`)!);
    else store.consolidate();
    say(`done ${i} ${JSON.stringify(result)}`);
    for (const until = performance.now() + pace; performance.now() < until; );
  });
  return store;
}

if (mode !== 'churn' && mode !== 'ops') {
  process.stderr.write(`unknown mode ${String(mode)}\n`);
  process.exit(2);
}
const lines = createInterface({ input: process.stdin });
let store: Store | undefined;
let started = false;
lines.on('line', (line) => {
  if (started) return;
  started = true;
  if (mode === 'churn') {
    churn(Number(line), args[0]);
    process.exit(0);
  }
  store = runOps(JSON.parse(line) as OpsStart);
});
lines.on('close', () => {
  store?.close();
  process.exit(0);
});
say('loaded');
