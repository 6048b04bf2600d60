// `rondo bench` with a small run: JSON for machines, the figures for people, a progress bar
// only on a terminal, its usage errors, and no temporary store left behind after SIGINT/SIGTERM.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { Child, hasPty, scratchDirs, showEscapes, waitUntil } from 'rondo-testkit';
import { assertCliError, BIN, rondo, rondoOnTty } from './test-fixtures/run.js';

const scratch = scratchDirs('cli-bench');

test('bench --json: one document with the measured figures', async () => {
  const r = await rondo(['bench', '--points', '20000', '--series', '4', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '', 'no progress bar when stderr is not a terminal');
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.series, 4);
  assert.ok(doc.points >= 20000 * 0.9 && doc.points <= 20000 * 1.1, `points ${doc.points}`);
  assert.equal(doc.node, process.version);
  for (const k of ['record', 'fsWriteSync', 'udpSend']) assert.ok(doc[k].opsPerSec > 0, k);
  assert.ok(doc.record.nsPerCall.p50 > 0);
  assert.equal(typeof doc.ratio.udpSend, 'number');
});

test('bench: the human report', async () => {
  const r = await rondo(['bench', '--points', '1_000', '--series', '2']);
  assert.equal(r.code, 0, r.stderr);
  // The layout belongs to formatWriteBench (rondo/bench); check the figures are there.
  assert.match(r.stdout, new RegExp(`node ${process.version.replaceAll('.', '\\.')}`));
  assert.match(r.stdout, /^record\(\) +\S/m);
  assert.match(r.stdout, /^fs\.writeSync 16 B +\S/m);
  assert.throws(() => JSON.parse(r.stdout));
});

test('bench: a progress bar on a terminal, cleared at the end', {
  skip: !hasPty && 'needs util-linux script (a pseudo-terminal)',
}, () => {
  const r = rondoOnTty(['bench', '--points', '20000', '--series', '4']);
  assert.equal(r.code, 0, r.stdout);
  assert.match(
    showEscapes(r.stdout),
    /\r<ESC>\[2Kbench (<ESC>\[36m)?[█░]+(<ESC>\[0m)? +\d+% +[\d,]+\/[\d,]+ calls/,
  );
  assert.match(showEscapes(r.stdout), /██████████(<ESC>\[0m)? 100%/);
  // Cleared before the report, which starts on a clean line.
  assert.match(showEscapes(r.stdout), /\r<ESC>\[2K(?!bench )\S[^\n]*node v/);
});

test('bench usage errors', async () => {
  for (const [args, message] of [
    [['--points', '0'], /--points must be a whole number ≥ 1, got "0"/],
    [['--series', 'many'], /--series must be a whole number ≥ 1/],
    // One rule for every count: digits, optionally grouped with _ (no exponents, no hex).
    [['--points', '1e6'], /--points must be a whole number ≥ 1, got "1e6"/],
    [['--series', '0x10'], /--series must be a whole number ≥ 1, got "0x10"/],
    [['--points', '1__000'], /--points must be a whole number ≥ 1/],
    [['--tiers', '2'], /--tiers must be 1 or 3/],
    [['--points', '99999999999999999999'], /--points must be a whole number ≥ 1/],
    [['--series', '-3'], /--series must be a whole number ≥ 1, got "-3"/],
    [['--series', '2000000'], /--series must be at most 1,048,576, got 2000000/],
    [['--points', '100000000000'], /--points must be at most 10,000,000,000/],
    [['extra'], /unexpected argument "extra"/],
  ] as const)
    assertCliError(await rondo(['bench', ...args]), 2, 'ERR_RONDO_USAGE', message);
});

/** Starts `rondo bench` with its own TMPDIR, so leftovers can be seen. */
function startBench(args: string[], tmp: string): Child {
  return new Child(BIN, ['bench', ...args], { env: { ...process.env, TMPDIR: tmp, TMP: tmp, TEMP: tmp } });
}

/** Paths under `dir`, recursively (relative). */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' });
}

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  test(`bench: ${signal} while measuring removes the temporary store and exits ${code}`, async () => {
    const tmp = scratch();
    const child = startBench(['--points', '50000000', '--series', '4'], tmp);
    // Wait until the store exists inside the temporary directory, i.e. the bench is running.
    await waitUntil(
      'a store in TMPDIR',
      () => tree(tmp).some((p) => /(^|\/)store\/rondo\.json$/.test(p)),
      20_000,
    );
    await new Promise((r) => setTimeout(r, 200));
    const r = await child.kill(signal);
    assert.equal(r.code, code, child.stderr);
    assert.equal(child.stdout, '', 'no report for an interrupted run');
    assert.deepEqual(tree(tmp), [], 'nothing is left in TMPDIR');
  });
}
