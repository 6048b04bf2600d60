// Property test of retirement and column reuse against a plain model (test-fixtures/
// lifecycle-model.ts): random register / record (ahead, late, same slot) / retire / consolidate /
// reopen sequences on two schemas with tiny rings, so that columns are reused all the time, and
// runs where part of the sequence is done by a writer child process SIGKILLed at a random point.
// After every step the store must agree with the model: the series listed, every handle unique
// and never re-pointed, each series' points exactly (tier 0) and only its own (tier 1), and
// register() refused with ERR_RONDO_MAX_SERIES exactly when no column is free.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { Store } from './index.js';
import { scratchDirs, throwsCode } from './test-fixtures/helpers.js';
import type { ChildOp, OpsStart } from './test-fixtures/lifecycle-child.js';
import { at } from './test-fixtures/lifecycle-common.js';
import {
  differences,
  MODEL_SCHEMAS,
  Model,
  type Model as ModelT,
  type MSeries,
  modelConfig,
  tierNewest,
} from './test-fixtures/lifecycle-model.js';
import { ChildPool } from './test-fixtures/lifecycle-spawn.js';

// On tmpfs where there is one: the model runs make many small stores, and fsyncs on a busy disk
// would cost more than all the rest (durability is not what this file checks).
const scratch = scratchDirs('lifecycle-prop', existsSync('/dev/shm') ? '/dev/shm' : undefined);

/** Slot (after SLOT0) of the first point of an empty schema: late points stay above slot 1. */
const BASE = 10;

type Op =
  | { k: 'reg'; name: number; schema: number }
  | { k: 'rec'; name: number; schema: number; late: boolean; d: number }
  | { k: 'ret'; name: number; schema: number }
  | { k: 'cons' }
  | { k: 'reopen'; schemas: boolean };

const who = { name: fc.nat(3), schema: fc.constantFrom(0, 0, 1) };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant('reg' as const), ...who }) },
  {
    weight: 10,
    arbitrary: fc.record({
      k: fc.constant('rec' as const),
      ...who,
      late: fc.boolean(),
      d: fc.constantFrom(0, 1, 1, 1, 2, 3, 5, 9),
    }),
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('ret' as const), ...who }) },
  { weight: 2, arbitrary: fc.constant({ k: 'cons' as const }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('reopen' as const), schemas: fc.boolean() }) },
);

const label = (schema: number): { s: string } => ({ s: MODEL_SCHEMAS[schema]!.name });

/** The slot a record op writes to, from the model's newest slot of its schema (null: none to write). */
function slotOf(op: Extract<Op, { k: 'rec' }>, m: ModelT): number | null {
  const newest = m.newest[op.schema]!;
  const slot = newest === null ? BASE + op.d : op.late ? newest - op.d : newest + op.d;
  // After a kill, late points to windows a killed advance may have closed are not issued.
  if (MODEL_SCHEMAS[op.schema]!.windows > 0 && Math.floor(slot / 2) * 2 < m.lateFloor[op.schema]!)
    return null;
  return slot;
}

/** A store driven in step with the model. */
class Runner {
  store: Store;
  model = new Model();
  private readonly handles = new Set<number>();

  constructor(readonly dir: string) {
    this.store = Store.open(dir, { schemas: modelConfig() });
  }

  /** A handle the store just gave: never given before. */
  fresh(h: number, what: string): void {
    assert.equal(this.handles.has(h), false, `${what}: handle ${h} given twice`);
    this.handles.add(h);
  }

  check(what: string): void {
    assert.deepEqual(differences(this.store, this.model), [], what);
  }

  apply(op: Op, what: string): void {
    const { store, model } = this;
    if (op.k === 'cons') store.consolidate();
    else if (op.k === 'reopen') {
      store.close();
      this.store = Store.open(this.dir, op.schemas ? { schemas: modelConfig() } : {});
      model.dropped = 0;
    } else if (op.k === 'reg') this.register(op.name, op.schema, what);
    else {
      const s = model.latest(`n${op.name}`, op.schema);
      if (s === undefined) return;
      if (op.k === 'ret') this.retire(s);
      else this.record(op, s);
    }
  }

  private register(n: number, schema: number, what: string): void {
    const { store, model } = this;
    const name = `n${n}`;
    const cur = model.latest(name, schema);
    if (cur !== undefined && cur.retiredAt === null) {
      assert.equal(store.register(name, label(schema)), cur.handle, `${what}: the live series is returned`);
      return;
    }
    if (model.room(schema, tierNewest(store)[schema]!) <= 0) {
      throwsCode(() => store.register(name, label(schema)), 'ERR_RONDO_MAX_SERIES', undefined, what);
      return;
    }
    const h = store.register(name, label(schema));
    this.fresh(h, what);
    model.add(name, schema, h);
  }

  private retire(s: MSeries): void {
    const { store, model } = this;
    if (s.retiredAt === null) {
      store.retire(s.handle);
      model.retire(s);
    } else if (!model.agedOut(s, tierNewest(store)[s.schema]!)) store.retire(s.handle); // idempotent
  }

  private record(op: Extract<Op, { k: 'rec' }>, s: MSeries): void {
    const { store, model } = this;
    const slot = slotOf(op, model);
    if (slot === null) return;
    if (s.retiredAt !== null) {
      throwsCode(() => store.record(s.handle, 1, at(slot)), 'ERR_RONDO_INVALID_HANDLE', /retired/);
      return;
    }
    const v = model.value(s, slot);
    store.record(s.handle, v, at(slot));
    model.record(s, slot, v);
  }
}

/** A step of a killed segment: what the child does, and how the model replays it once it is known done. */
interface Planned {
  op: ChildOp;
  replay: (m: ModelT, store: Store) => void;
}

/**
 * Turns the ops of a segment into child operations that the store must carry out without error,
 * simulating them on a copy of the model: registrations only while a column is surely free (one
 * free now stays free), records and retirements only of live series.
 */
function plan(ops: readonly Op[], model: ModelT, store: Store): Planned[] {
  const sim = model.clone();
  const tiers = tierNewest(store);
  const room = MODEL_SCHEMAS.map((_, i) => sim.room(i, tiers[i]!));
  const out: Planned[] = [];
  for (const op of ops) {
    if (op.k === 'cons') out.push({ op: { k: 'cons' }, replay: () => undefined });
    if (op.k !== 'reg' && op.k !== 'rec' && op.k !== 'ret') continue;
    const name = `n${op.name}`;
    const s = label(op.schema).s;
    const cur = sim.latest(name, op.schema);
    const live = cur !== undefined && cur.retiredAt === null;
    if (op.k === 'reg' && !live && room[op.schema]! > 0) {
      room[op.schema]!--;
      sim.add(name, op.schema, -1);
      out.push({
        op: { k: 'reg', name, s },
        replay: (m, st) => {
          const h = st.lookup(name, { s });
          if (h === undefined) throw new Error(`${name}{s=${s}} is not registered`);
          m.add(name, op.schema, h);
        },
      });
    } else if (op.k === 'ret' && live) {
      sim.retire(cur);
      out.push({ op: { k: 'ret', name, s }, replay: (m) => m.retire(m.latest(name, op.schema)!) });
    } else if (op.k === 'rec' && live) {
      const slot = slotOf(op, sim);
      if (slot === null) continue;
      const value = sim.value(cur, slot);
      sim.record(cur, slot, value);
      out.push({
        op: { k: 'rec', name, s, slot, value },
        replay: (m) => m.record(m.latest(name, op.schema)!, slot, value),
      });
    }
  }
  return out;
}

/**
 * The model after the first `j` planned steps, if the reopened store agrees with it (a record
 * killed after it advanced the ring, before its value was stored, moves the newest slot alone).
 */
function prefixModel(
  model: ModelT,
  steps: readonly Planned[],
  j: number,
  store: Store,
): { m: ModelT; diff: string[] } {
  const m = model.clone();
  try {
    for (const step of steps.slice(0, j)) step.replay(m, store);
  } catch (err) {
    return { m, diff: [(err as Error).message] };
  }
  m.dropped = 0; // the store was opened again
  const next = steps[j]?.op;
  if (next?.k === 'rec') {
    const i = MODEL_SCHEMAS.findIndex((x) => x.name === next.s);
    const newest = m.newest[i]!;
    if ((newest === null || next.slot > newest) && tierNewest(store)[i]![0] === next.slot)
      m.newest[i] = next.slot;
  }
  return { m, diff: differences(store, m) };
}

const pool = new ChildPool(['ops', '-']);
after(() => pool.close());

/**
 * Runs `ops` in a writer child, SIGKILLed right after it reported step `killAfter` (-1: after
 * it opened; it goes on at `pace` ms per step until the kill lands); then reopens the store and
 * adopts the model of the steps the store shows done: the first j steps for some j ≥ the steps
 * reported, and never a part of one.
 */
async function killedSegment(r: Runner, ops: readonly Op[], killAfter: number, what: string): Promise<void> {
  const steps = plan(ops, r.model, r.store);
  r.store.close();
  const start: OpsStart = { dir: r.dir, ops: steps.map((x) => x.op), pace: 2 };
  const child = await pool.start(JSON.stringify(start));
  await child.waitFor(
    killAfter < 0 || steps.length === 0 ? 'ready' : `done ${Math.min(killAfter, steps.length - 1)} `,
  );
  await child.kill();
  await finished(child.proc.stdout).catch(() => undefined);
  const done = child.lines.filter((l) => l.startsWith('done ')).length;
  r.store = Store.open(r.dir);
  const tries = [done, done + 1]
    .filter((j) => j <= steps.length)
    .map((j) => ({ j, ...prefixModel(r.model, steps, j, r.store) }));
  const hit = tries.find((t) => t.diff.length === 0);
  assert.ok(
    hit !== undefined,
    `${what}: ${done} steps reported; no prefix matches: ${JSON.stringify(tries.map((t) => [t.j, t.diff]))}`,
  );
  r.model = hit.m;
  for (const step of steps.slice(0, hit.j))
    if (step.op.k === 'reg') r.fresh(r.store.lookup(step.op.name, { s: step.op.s })!, what);
  // A killed advance may have closed windows that its ring still holds: no late points to them.
  for (const step of steps) {
    if (step.op.k !== 'rec') continue;
    const i = MODEL_SCHEMAS.findIndex((x) => x.name === (step.op as { s: string }).s);
    const first = Math.ceil((step.op.slot - MODEL_SCHEMAS[i]!.slots + 1) / 2) * 2;
    r.model.lateFloor[i] = Math.max(r.model.lateFloor[i]!, first);
  }
}

test('retire and reuse against the model, in one process', () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 10, maxLength: 70 }), (ops) => {
      const r = new Runner(scratch());
      try {
        ops.forEach((op, i) => {
          r.apply(op, `op ${i} ${JSON.stringify(op)}`);
          r.check(`after op ${i} ${JSON.stringify(op)}`);
        });
      } finally {
        r.store.close();
      }
    }),
    { seed: 20261203, numRuns: 60 },
  );
});

test('retire and reuse against the model, with a writer child SIGKILLed among the steps', async () => {
  // Every identity registered first, so that the killed steps have series to work on.
  const registerAll: Op[] = MODEL_SCHEMAS.flatMap((x, schema) =>
    Array.from({ length: x.maxSeries }, (_, name): Op => ({ k: 'reg', name, schema })),
  );
  const scenario = fc.record({
    before: fc.array(opArb, { minLength: 5, maxLength: 25 }),
    killed: fc.array(opArb, { minLength: 8, maxLength: 24 }),
    killAfter: fc.integer({ min: -1, max: 16 }),
    rest: fc.array(opArb, { minLength: 0, maxLength: 15 }),
  });
  await fc.assert(
    fc.asyncProperty(scenario, async ({ before, killed, killAfter, rest }) => {
      const r = new Runner(scratch());
      try {
        for (const [i, op] of [...registerAll, ...before].entries()) r.apply(op, `before ${i}`);
        r.check('before the kill');
        await killedSegment(r, killed, killAfter, `killed after step ${killAfter}`);
        rest.forEach((op, i) => {
          r.apply(op, `after the kill, op ${i} ${JSON.stringify(op)}`);
          r.check(`after the kill, op ${i} ${JSON.stringify(op)}`);
        });
      } finally {
        r.store.close();
      }
    }),
    { seed: 20261204, numRuns: 8 },
  );
});
