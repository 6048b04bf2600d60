/** `rondo-vmm compare` with short lifetimes and short scrape intervals, real VMs and a real Prometheus. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Child, needsCommand, scratchDirs } from 'rondo-testkit';
import type { CompareResult } from './compare.js';
import { fakeGuest, needsVms, testGuest } from './test-fixtures/vm.js';

const BIN = fileURLToPath(new URL('../bin/rondo-vmm.js', import.meta.url));
const scratch = scratchDirs('vmm-compare');

/** Command lines of running processes that mention `text`. */
function processesWith(text: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ');
      if (cmd.includes(text)) found.push(`${pid}: ${cmd}`);
    } catch {
      // gone
    }
  }
  return found;
}

const prometheus = needsCommand('prometheus', 'apt-get install -y prometheus');

test('compare: the embedded store holds every second, a 4 s scrape a fraction, a 1 s scrape nearly all', {
  skip: needsVms().skip || prometheus.skip,
}, async () => {
  const dir = scratch();
  const guest = join(dir, 'guest');
  testGuest(guest);
  const args = ['compare', '--guest', guest, '--store', join(dir, 'store'), '--json'];
  const child = new Child(BIN, [
    ...args,
    '--lifetimes',
    '2s,5s',
    '--each',
    '1',
    '--scrape',
    '1s,4s',
    '--window',
    '2s',
  ]);
  const { code } = await child.exited;
  assert.equal(code, 0, child.stderr);
  const r = JSON.parse(child.lines.join('\n')) as CompareResult & { seed: number };
  assert.deepEqual(r.intervalsMs, [1000, 4000]);
  assert.equal(r.vms.length, 2, 'both VMs booted and are counted');
  assert.deepEqual(
    r.rows.map((row) => row.lifetimeMs),
    [2000, 5000],
  );
  for (const vm of r.vms) {
    assert.ok(vm.seconds >= vm.lifetimeMs / 1000 - 1, `${vm.id} lived ${vm.seconds} whole seconds`);
    // Only a second the manager was held up past (and said so) may be missing.
    const missed = r.run.manager.missedSeconds;
    assert.ok(vm.embedded >= vm.seconds - missed, `${vm.id}: the store holds every second of its life`);
    const [every1, every4] = vm.scraped as [number, number];
    assert.ok(
      every4 <= Math.ceil(vm.seconds / 4) + 1,
      `${vm.id}: a 4 s scrape holds ${every4} of ${vm.seconds} s`,
    );
    assert.ok(every1 >= every4, `${vm.id}: 1 s scrape ${every1}, 4 s scrape ${every4}`);
    assert.ok(every1 >= vm.seconds - 2, `${vm.id}: a 1 s scrape holds ${every1} of ${vm.seconds} s`);
  }
  assert.match(
    r.table,
    /^\| VM lifetime \| VMs \| seconds alive \| embedded 1 s \| scrape 1 s \| scrape 4 s \|\n/,
  );
  assert.match(r.table, /\| 2 s \| 1 \| \d+ \| \d+ \(100 %\) \|/);
  assert.match(
    child.stderr,
    /Prometheus http:\/\/127\.0\.0\.1:\d+ scrapes http:\/\/127\.0\.0\.1:\d+\/metrics/,
  );
  assert.deepEqual(processesWith('rondo-vmm-compare-'), [], 'Prometheus was stopped');
});

test('compare without Prometheus installed fails clearly before any VM starts', async () => {
  const dir = scratch();
  // A guest that only has to pass loadGuest's checks: no VM is started before Prometheus runs.
  const guest = fakeGuest(join(dir, 'guest'));
  const child = new Child(BIN, [
    ...['compare', '--guest', guest, '--prometheus', '/nonexistent/prometheus', '--qemu', '/bin/true'],
    ...['--accel', 'tcg', '--lifetimes', '2s', '--each', '1', '--store', join(dir, 'store')],
  ]);
  const { code } = await child.exited;
  assert.equal(code, 1);
  assert.match(
    child.stderr,
    /ERR_VMM_PROMETHEUS: \/nonexistent\/prometheus is not installed — apt-get install -y prometheus/,
  );
  assert.doesNotMatch(child.stderr, /vm-1 started/);
});
