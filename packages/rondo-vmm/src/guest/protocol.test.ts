import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PHASE_CODES } from './plan.js';
import { type GuestMessage, LineParser, MAX_LINE, parseLine, pollLine } from './protocol.js';

const TICK =
  '@rondo 1 tick seq=7 up=12.34 phase=io cpu=150,0,250,900,12,0,3,0 mem=82056,41664,47308 load=0.50,0.20,0.05';

test('a tick converts ticks to seconds and kB to bytes', () => {
  const m = parseLine(TICK);
  assert.ok(m !== null && m.type === 'tick');
  assert.equal(m.seq, 7);
  assert.equal(m.up, 12.34);
  assert.equal(m.phase, PHASE_CODES.io);
  assert.deepEqual(m.cpu, {
    user: 1.5,
    nice: 0,
    system: 2.5,
    idle: 9,
    iowait: 0.12,
    irq: 0,
    softirq: 0.03,
    steal: 0,
  });
  assert.equal(m.memTotal, 82056 * 1024);
  assert.equal(m.memFree, 41664 * 1024);
  assert.equal(m.memAvailable, 47308 * 1024);
  assert.deepEqual([m.load1, m.load5, m.load15], [0.5, 0.2, 0.05]);
});

test('hello and bye', () => {
  assert.deepEqual(parseLine('@rondo 1 hello vm=vm-3 up=3.02 disk=1'), {
    type: 'hello',
    vm: 'vm-3',
    up: 3.02,
    disk: true,
  });
  assert.deepEqual(parseLine('@rondo 1 hello vm=a up=1 disk=0'), {
    type: 'hello',
    vm: 'a',
    up: 1,
    disk: false,
  });
  assert.deepEqual(parseLine('@rondo 1 bye status=2 up=9.5'), { type: 'bye', status: 2, up: 9.5 });
});

test('unknown keys are ignored, so a newer guest can send more', () => {
  const m = parseLine(`${TICK} swap=0,0 extra=1`);
  assert.equal(m?.type, 'tick');
});

test('lines that are not protocol lines are noise (null)', () => {
  assert.equal(parseLine('[    0.52] PCI: Fatal: No config space access function found'), null);
  assert.equal(parseLine(''), null);
  assert.equal(parseLine('@rondox 1 tick'), null);
});

test('malformed protocol lines throw ERR_VMM_PROTOCOL saying what is wrong', () => {
  const cases: [string, RegExp][] = [
    ['@rondo 2 tick seq=1', /version 2 is not 1: rebuild the guest/],
    ['@rondo 1 dance seq=1', /unknown message type "dance"/],
    ['@rondo 1 bye status=x up=1', /status must be a number/],
    ['@rondo 1 bye up=1', /status must be a number, got undefined/],
    [TICK.replace('cpu=150,0,250,900,12,0,3,0', 'cpu=1,2,3'), /cpu must be 8 comma-separated numbers/],
    [TICK.replace('mem=82056,41664,47308', 'mem=1,,3'), /mem must be 3/],
    [TICK.replace('phase=io', 'phase=dance'), /unknown phase "dance"/],
  ];
  for (const [line, message] of cases)
    assert.throws(() => parseLine(line), { name: 'VmmError', code: 'ERR_VMM_PROTOCOL', message }, line);
});

test('the parser reassembles lines split across chunks, drops CRs and counts noise and problems', () => {
  const got: GuestMessage[] = [];
  const problems: string[] = [];
  const p = new LineParser(
    (m) => got.push(m),
    (e) => problems.push(e.code),
  );
  const stream = `boot noise\r\n@rondo 1 hello vm=v up=1 disk=0\r\n${TICK}\n@rondo 1 bye status=x up=1\n@rondo 1 bye status=0 up=2\n`;
  // Feed it byte by byte as Buffers: every split point is exercised.
  for (const byte of Buffer.from(stream)) p.push(Buffer.from([byte]));
  assert.deepEqual(
    got.map((m) => m.type),
    ['hello', 'tick', 'bye'],
  );
  assert.deepEqual(p.stats, { messages: 3, noise: 1, malformed: 1 });
  assert.deepEqual(problems, ['ERR_VMM_PROTOCOL']);
});

test('an over-long line is discarded once, up to its newline; the stream goes on', () => {
  const got: GuestMessage[] = [];
  const p = new LineParser((m) => got.push(m));
  p.push(`@rondo 1 tick ${'x'.repeat(MAX_LINE)}`);
  p.push('y'.repeat(MAX_LINE + 10)); // still the same line
  p.push(' more\n@rondo 1 bye status=0 up=1\n');
  assert.equal(p.stats.malformed, 1);
  assert.deepEqual(got, [{ type: 'bye', status: 0, up: 1 }]);
});

test('a partial line waits for its end', () => {
  const got: GuestMessage[] = [];
  const p = new LineParser((m) => got.push(m));
  p.push('@rondo 1 bye status=0');
  assert.equal(got.length, 0);
  p.push(' up=3\n');
  assert.deepEqual(got, [{ type: 'bye', status: 0, up: 3 }]);
});

test('the poll line is what report.awk answers', () => {
  assert.equal(pollLine(42), '@rondo 1 poll seq=42\n');
});
