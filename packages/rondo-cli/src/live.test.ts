// The CLI reading a store while another process writes it: it sees the writer, its points and
// its new series, reads only consistent values, and leaves the writer undisturbed.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Child, scratchDirs } from 'rondo-testkit';
import { rondo, WRITER } from './test-fixtures/run.js';

const store = join(scratchDirs('cli-live')(), 'store');
let writer: Child;

before(async () => {
  writer = new Child(WRITER, [store]);
  assert.equal(await writer.waitFor('ready'), `ready ${writer.pid}`);
});

after(async () => {
  await writer.finish();
});

interface Doc {
  series: { name: string; labels: Record<string, string>; points: [number, number][] }[];
}

test('info shows the writer as active, with its pid', async () => {
  const json = await rondo(['info', store, '--json']);
  assert.equal(json.code, 0, json.stderr);
  const doc = JSON.parse(json.stdout);
  assert.equal(doc.writerActive, true);
  assert.equal(doc.writerPid, writer.pid);
  const human = await rondo(['info', store]);
  assert.match(human.stdout, new RegExp(`^writer {3}active \\(pid ${writer.pid}\\)$`, 'm'));
});

test('queries see points arrive, every value consistent with its time', async () => {
  const counts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await rondo(['query', store, 'live_load', '--range', 'all', '--tier', '0', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as Doc;
    assert.equal(doc.series.length, 2);
    for (const s of doc.series) {
      const offset = s.labels['host'] === 'web1' ? 0 : 10;
      for (const [t, v] of s.points) assert.equal(v, offset + ((t / 1000) % 60), `value at ${t}`);
    }
    counts.push(doc.series[0]!.points.length);
    await new Promise((res) => setTimeout(res, 50));
  }
  // The ring holds 3600 slots; until it wraps the count grows, after that it stays full.
  assert.ok(counts[2]! > counts[0]! || counts[0] === 3600, `counts ${counts}`);
});

test('a series registered after the writer started is found by a new query', async () => {
  const before = await rondo(['query', store, 'late_series']);
  assert.equal(before.code, 1);
  assert.match(before.stderr, /ERR_RONDO_NO_MATCH: no series matches late_series/);
  writer.proc.stdin.write('add late_series\n');
  await writer.waitFor('added late_series');
  const r = await rondo(['query', store, 'late_series{host="late"}', '--format', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as Doc;
  assert.deepEqual(doc.series[0]!.labels, { host: 'late' });
  assert.ok(doc.series[0]!.points.length >= 1);
});

test('the writer was never disturbed, and once it exits info says so', async () => {
  assert.equal(writer.proc.exitCode, null, 'writer still running');
  const { code } = await writer.finish();
  assert.equal(code, 0, writer.stderr);
  const r = await rondo(['info', store, '--json']);
  assert.equal(JSON.parse(r.stdout).writerActive, false);
});
