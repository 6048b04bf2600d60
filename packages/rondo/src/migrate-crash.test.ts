// A migration SIGKILLed at random moments, and at chosen ones (before and after its commit, in
// the middle of its clean-up…): the store then opens as exactly the old version or exactly the
// new one (every series' points in every tier, the series list, the schemas, the drain cursor),
// never a mix and never nothing, and the next writer removes what the killed migration left.
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Child } from 'rondo-testkit';
import type { SchemaConfig } from './index.js';
import { Store } from './store.js';
import { prng, scratchDirs, sleep, T0, throwsCode, twoTiers } from './test-fixtures/helpers.js';
import { generationOf, seriesRows, snapshot, storeFiles } from './test-fixtures/migrate-helpers.js';

const dir = scratchDirs('migrate-crash');
const CHILD = fileURLToPath(new URL('./test-fixtures/migrate-child.js', import.meta.url));

const SERIES = 16;
const OLD: SchemaConfig[] = [
  {
    name: 'm',
    maxSeries: SERIES,
    tiers: [
      { interval: '1s', retention: '20m' },
      { interval: '10s', retention: '2h', consolidation: 'avg' },
      { interval: '1m', retention: '8h', consolidation: 'max' },
    ],
  },
];
/** Capacity, retention, a tier's interval and a new tier changed: every step of the copy has work. */
const NEW: SchemaConfig[] = [
  {
    name: 'm',
    maxSeries: SERIES + 8,
    tiers: [
      { interval: '1s', retention: '30m' },
      { interval: '20s', retention: '2h', consolidation: 'avg' },
      { interval: '1m', retention: '8h', consolidation: 'max' },
      { interval: '10m', retention: '1d', consolidation: 'min' },
    ],
  },
];

/** Everything a version of the store is: schemas, series, every point of every tier, the cursor. */
interface State {
  generation: number;
  schemas: unknown;
  series: string[];
  points: ReturnType<typeof snapshot>;
  cursor: unknown;
  files: string[];
}

/** Opens `d` as its writer (which removes leftovers) and reads the whole store. */
function state(d: string): State {
  const store = Store.open(d);
  try {
    const generation = generationOf(d);
    const cursorFile = join(d, generation === 0 ? '' : `g${generation}`, 'cursors', 'prom.json');
    return {
      generation,
      schemas: store.info().schemas.map(({ name, maxSeries, tiers }) => ({
        name,
        maxSeries,
        tiers: tiers.map((t) => [t.interval, t.slots, t.consolidation]),
      })),
      series: seriesRows(store),
      points: snapshot(store),
      cursor: existsSync(cursorFile) ? JSON.parse(readFileSync(cursorFile, 'utf8')) : null,
      files: storeFiles(d),
    };
  } finally {
    store.close();
  }
}

/** The old store (50 min of 1 s points for 16 series, a committed drain cursor); returns its directory. */
function template(): string {
  const d = dir();
  const store = Store.open(d, { schemas: OLD });
  const handles = Array.from({ length: SERIES }, (_, i) => store.register('v', { i: String(i) }));
  const values = new Float64Array(SERIES);
  for (let s = 0; s < 3000; s++) {
    for (let i = 0; i < SERIES; i++) values[i] = (s * (i + 1)) % 97;
    if (s % 13 !== 5) store.recordBatch(handles, values, T0 + s * 1000);
  }
  store.consolidate();
  store.drain('prom', { maxSamples: 20_000 }).commit();
  store.close();
  return d;
}

interface Round {
  /** 'migrate' (Store.migrate) or 'open' (Store.open with migrate: true). */
  mode: 'migrate' | 'open';
  /** Kill after this many ms from "start", or at a chosen moment (see migrate-child.ts). */
  delay?: number;
  at?: string;
}

/** Runs the migration child on a copy of `base`; returns the copy and the child once it has exited. */
async function runChild(base: string, schemasFile: string, round: Round) {
  const d = dir();
  cpSync(base, d, { recursive: true });
  const args = [round.mode, d, schemasFile, ...(round.at === undefined ? [] : [round.at])];
  const child = new Child(CHILD, args);
  await child.waitFor('start');
  const started = performance.now();
  if (round.delay !== undefined) await sleep(round.delay);
  const { signal } = round.delay !== undefined ? await child.kill() : await child.exited;
  return { d, child, signal, took: performance.now() - started };
}

/**
 * Runs one killed migration on a copy of the template; asserts the store is then exactly the old
 * or the new version, cleaned up; returns which, and whether the child had finished first.
 */
async function killedRound(base: string, schemasFile: string, round: Round, old: State, fresh: State) {
  const { d, child, signal } = await runChild(base, schemasFile, round);
  const what = `${round.mode} ${round.at ?? `killed after ${round.delay} ms`}`;
  assert.ok(
    !child.lines.some((l) => l.startsWith('error')),
    `${what}: ${child.lines.join('\n')} ${child.stderr}`,
  );
  if (round.at !== undefined) assert.equal(signal, 'SIGKILL', `${what}: the child reached its kill point`);
  const finished = child.lines.some((l) => l.startsWith('done'));
  const got = state(d); // never nothing: the writer opens whatever rondo.json names
  const want = got.generation === 0 ? old : fresh;
  assert.deepEqual(got.schemas, want.schemas, `${what}: schemas of generation ${got.generation}`);
  assert.deepEqual(got.series, want.series, `${what}: series`);
  assert.deepEqual(got.cursor, want.cursor, `${what}: cursor`);
  assert.deepEqual(got.points, want.points, `${what}: every point of generation ${got.generation}`);
  assert.deepEqual(got.files, want.files, `${what}: leftovers removed by the next writer`);
  return { d, outcome: got.generation === 0 ? 'old' : 'new', finished };
}

test('a migration SIGKILLed at any moment leaves exactly the old or the new store, cleaned up by the next writer', async (t: TestContext) => {
  const base = template();
  const schemasFile = join(dir(), 'new.json');
  writeFileSync(schemasFile, JSON.stringify(NEW));
  const old = state(base);
  // The reference: the same child, not killed; it counts the file system calls it makes.
  const ref = await runChild(base, schemasFile, { mode: 'migrate', at: 'count' });
  const calls = Number((await ref.child.waitFor('calls ')).slice(6));
  const fresh = state(ref.d);
  assert.equal(fresh.generation, 1);
  assert.notDeepEqual(fresh.points, old.points);

  const seed = Number(process.env['RONDO_TEST_SEED'] ?? Date.now() % 1_000_000);
  const rand = prng(seed);
  const pick = (n: number) => 1 + Math.floor(rand() * n);
  t.diagnostic(`seed ${seed} (RONDO_TEST_SEED repeats it); ${calls} fs calls, ${ref.took.toFixed(0)} ms`);
  const rounds: Round[] = [
    { mode: 'open', at: 'journal' },
    { mode: 'migrate', at: 'before-switch' },
    { mode: 'open', at: 'after-switch' },
    { mode: 'migrate', at: 'mid-cleanup' },
    // Random moments: before a random file system call, at a random step of the copy (which
    // makes none), and after a random time (some come after the end).
    ...[pick(calls), pick(calls), pick(calls)].map((n): Round => ({ mode: 'migrate', at: `call:${n}` })),
    { mode: 'migrate', at: `progress:${pick(SERIES * 4)}` },
    ...[0, 1].map(
      (i): Round => ({
        mode: i === 1 ? 'open' : 'migrate',
        delay: Math.round(rand() * ref.took * 1.2),
      }),
    ),
  ];
  const outcomes: string[] = [];
  let oldAfterCrash: string | null = null;
  // Three at a time: each round mostly waits for its child (starting up, fsyncing).
  for (let i = 0; i < rounds.length; i += 3) {
    const batch = rounds.slice(i, i + 3).map((r) => killedRound(base, schemasFile, r, old, fresh));
    for (const [k, r] of (await Promise.all(batch)).entries()) {
      const round = rounds[i + k]!;
      outcomes.push(`${round.at ?? `${round.delay}ms`}→${r.outcome}${r.finished ? ' (done)' : ''}`);
      if (round.at === 'before-switch') oldAfterCrash = r.d;
      if (round.at === 'before-switch' || round.at === 'journal' || round.at?.startsWith('progress'))
        assert.equal(r.outcome, 'old', `${round.at}: not switched yet`);
      if (round.at === 'after-switch' || round.at === 'mid-cleanup')
        assert.equal(r.outcome, 'new', `${round.at}: switched`);
    }
  }
  t.diagnostic(outcomes.join(', '));

  // After a crash the migration simply runs again, to the same new store.
  assert.ok(oldAfterCrash !== null && !existsSync(join(oldAfterCrash, 'g1')));
  Store.migrate(oldAfterCrash, { schemas: NEW });
  const again = state(oldAfterCrash);
  assert.deepEqual(again.points, fresh.points);
  assert.deepEqual(again.cursor, fresh.cursor);
});

test('killed after the switch: a reader of the old generation is told to reopen by the next writer', async () => {
  const base = template();
  const schemasFile = join(dir(), 'new.json');
  writeFileSync(schemasFile, JSON.stringify(NEW));
  const reader = Store.open(base, { readOnly: true });
  assert.ok(reader.query(0).values.length > 0);
  const child = new Child(CHILD, ['migrate', base, schemasFile, 'after-switch']);
  assert.equal((await child.exited).signal, 'SIGKILL');
  // Switched, but the killed migration marked nothing: the reader cannot know yet.
  assert.ok(reader.query(0).values.length > 0);
  Store.open(base).close(); // the next writer removes generation 0, marking it superseded first
  assert.deepEqual(
    storeFiles(base).filter((f) => !f.startsWith('g1/')),
    ['LOCK', 'rondo.json'],
  );
  throwsCode(() => reader.query(0), 'ERR_RONDO_CLOSED', 'open it again');
  reader.close();
});

test('a store whose writer was killed migrates as if a writer had opened (and recovered) it first', async () => {
  const d = dir();
  Store.open(d, { schemas: [twoTiers('s', [1000, 60], [10_000, 30, 'avg'])] }).close();
  const child = new Child(CHILD, ['record', d]);
  await child.waitFor('ready');
  await sleep(Math.floor(Math.random() * 30));
  await child.kill();
  const [direct, reopened] = [dir(), dir()];
  cpSync(d, direct, { recursive: true });
  cpSync(d, reopened, { recursive: true });
  Store.open(reopened).close(); // a writer's open: crash recovery
  const schemas = [twoTiers('s', [1000, 120], [10_000, 30, 'max'], 8)];
  Store.migrate(direct, { schemas });
  Store.migrate(reopened, { schemas });
  const [a, b] = [state(direct), state(reopened)];
  assert.deepEqual(a.series, b.series);
  assert.deepEqual(a.points, b.points);
  assert.ok(a.points.get(0)![0]!.size >= 55, 'the points recorded before the kill are there');
});
