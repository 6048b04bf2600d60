import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { openFds, sampleProcess, statCpuSeconds, statusField, threadCpuSeconds } from './host-stats.js';

test('utime and stime are fields 14 and 15, counted after the command name', () => {
  // A command name with spaces and parentheses must not shift the fields.
  const stat = '4242 (qemu (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0 123 456 789';
  assert.equal(statCpuSeconds(stat), 3.25);
  assert.equal(statCpuSeconds('garbage'), null);
  assert.equal(statCpuSeconds('1 (x) S 1'), null);
});

test('status fields drop their unit', () => {
  const status = 'Name:\tqemu\nVmRSS:\t  190464 kB\nThreads:\t5\n';
  assert.equal(statusField(status, 'VmRSS'), 190464);
  assert.equal(statusField(status, 'Threads'), 5);
  assert.equal(statusField(status, 'VmSwap'), null);
});

test('this process: CPU time grows, RSS and threads are real, fds are counted', () => {
  const before = sampleProcess(process.pid);
  assert.ok(before !== null);
  const until = performance.now() + 60;
  while (performance.now() < until); // burn CPU
  const after = sampleProcess(process.pid)!;
  assert.ok(after.cpuSeconds >= before.cpuSeconds + 0.02, `${before.cpuSeconds} → ${after.cpuSeconds}`);
  const rss = process.memoryUsage.rss();
  assert.ok(Math.abs(after.rssBytes - rss) < rss / 2, `${after.rssBytes} vs ${rss}`);
  assert.ok(after.threads >= 2, 'Node runs worker threads');
  assert.ok((openFds(process.pid) ?? 0) >= 3);
  assert.equal(typeof threadCpuSeconds(process.pid, process.pid), 'number', 'the main thread is a task too');
});

test('a process or thread that is gone reads as null, never throws', async () => {
  const child = spawn('true');
  const pid = child.pid!;
  await new Promise((r) => child.once('close', r));
  assert.equal(sampleProcess(pid), null);
  assert.equal(openFds(pid), null);
  assert.equal(threadCpuSeconds(pid, pid), null);
  assert.equal(threadCpuSeconds(process.pid, 2 ** 30), null);
});
