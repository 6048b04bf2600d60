// `rondo bench` with a small run: JSON for machines, the figures for people, a progress bar
// only on a terminal, and its usage errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hasScript, rondo, rondoOnTty } from './test-fixtures/run.js';

/** ANSI escapes made visible, so regexes need no control characters. */
const vis = (s: string): string => s.replaceAll('\u001b', '<ESC>');

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
  skip: !hasScript && 'needs util-linux script',
}, () => {
  const r = rondoOnTty(['bench', '--points', '20000', '--series', '4']);
  assert.equal(r.code, 0, r.stdout);
  assert.match(vis(r.stdout), /\r<ESC>\[2Kbench (<ESC>\[36m)?[█░]+(<ESC>\[0m)? +\d+% +[\d,]+\/[\d,]+ calls/);
  assert.match(vis(r.stdout), /██████████(<ESC>\[0m)? 100%/);
  // Cleared before the report, which starts on a clean line.
  assert.match(vis(r.stdout), /\r<ESC>\[2K(?!bench )\S[^\n]*node v/);
});

test('bench usage errors', async () => {
  for (const [args, message] of [
    [['--points', '0'], /--points must be a whole number ≥ 1, got "0"/],
    [['--series', 'many'], /--series must be a whole number ≥ 1/],
    [['--tiers', '2'], /--tiers must be 1 or 3/],
    [['extra'], /unexpected argument "extra"/],
  ] as const) {
    const r = await rondo(['bench', ...args]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, message);
  }
});
