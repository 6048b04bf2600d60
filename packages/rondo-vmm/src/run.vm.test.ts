/**
 * End-to-end tests with real VMs (QEMU under TCG here): the manager as users run it, then the
 * store it wrote. Kept few and short; each waits generously, since other tests load the machine.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Store } from 'rondo';
import { Child, scratchDirs, sleep } from 'rondo-testkit';
import { FakeReceiver } from 'rondo-testkit/fake-receiver';
import { PHASE_CODES } from './guest/plan.js';
import type { RunSummary, VmSummary } from './manager.js';
import { findSeries, seriesPerVm } from './metrics.js';
import { lifeSeconds } from './tally.js';
import { needsVms, processExists, testGuest, VMS_AVAILABLE } from './test-fixtures/vm.js';

const BIN = fileURLToPath(new URL('../bin/rondo-vmm.js', import.meta.url));
const scratch = scratchDirs('vmm-run');
let guestDir = '';

before(() => {
  if (!VMS_AVAILABLE) return;
  guestDir = join(scratch(), 'guest');
  testGuest(guestDir);
});

/** Runs `rondo-vmm run --json …` to its end: exit code, summary, progress lines (stderr). */
async function runJson(
  args: string[],
): Promise<{ code: number | null; summary: RunSummary | null; log: string }> {
  const child = new Child(BIN, ['run', '--guest', guestDir, '--json', ...args]);
  const { code } = await child.exited;
  const out = child.lines.join('\n').trim();
  return { code, summary: out ? (JSON.parse(out) as RunSummary) : null, log: child.stderr };
}

/** Timestamps (slot starts, ms) of the points of one series in [start, end). */
function points(
  store: Store,
  name: string,
  labels: Record<string, string>,
  start: number,
  end: number,
): number[] {
  const h = findSeries(store, name, labels);
  assert.ok(h !== undefined, `${name}${JSON.stringify(labels)} was registered`);
  return [...store.query(h, { start, end }).timestamps];
}

function checkHostSeconds(store: Store, vm: VmSummary, missed: number): void {
  const life = lifeSeconds(vm.startedAt, vm.exitedAt);
  assert.ok(life.length >= 6, `${vm.id} lived ${life.length} whole seconds`);
  for (const name of ['vm_up', 'vm_cpu_seconds_total', 'vm_rss_bytes', 'vm_open_fds', 'vm_threads']) {
    const got = new Set(points(store, name, { vm: vm.id }, vm.startedAt - 1000, vm.exitedAt + 1000));
    const missing = life.filter((t) => !got.has(t));
    const when = `life ${vm.startedAt}…${vm.exitedAt}, points ${[...got].join(' ')}`;
    // A second can only be missing if the manager was held up past it, and then it says so.
    assert.ok(missing.length <= missed, `${vm.id} ${name}: every second of its life has a point (${when})`);
  }
  const cpu = store.query(findSeries(store, 'vm_cpu_seconds_total', { vm: vm.id })!, {
    start: vm.startedAt - 1000,
  });
  const values = [...cpu.values];
  assert.ok(
    values.every((v, i) => i === 0 || v >= values[i - 1]!),
    'CPU seconds never decrease',
  );
  assert.ok(values.at(-1)! > 1, `booting a guest under TCG takes CPU: ${values.at(-1)} s`);
}

function checkGuestReports(store: Store, vm: VmSummary): void {
  assert.ok(vm.helloAt !== null && vm.byeAt !== null, `${vm.id} said hello and bye`);
  const running = lifeSeconds(vm.helloAt, vm.byeAt);
  assert.ok(vm.ticks >= running.length - 1, `${vm.id}: ${vm.ticks} reports over ${running.length} s`);
  const user = new Set(
    points(store, 'vm_guest_cpu_seconds_total', { vm: vm.id, mode: 'user' }, vm.helloAt, vm.byeAt + 1000),
  );
  // The host polls once per round and the guest answers within the same second, unless the
  // machine is so loaded that an answer slips into the next one: allow one such second.
  const missing = running.filter((t) => !user.has(t));
  assert.ok(
    missing.length <= 1,
    `${vm.id}: guest reports missing for ${missing.length} of ${running.length} s`,
  );
  const phase = store.query(findSeries(store, 'vm_guest_phase', { vm: vm.id })!, { start: vm.startedAt });
  const phases = [...phase.values];
  assert.ok(
    phases.every((p, i) => i === 0 || p >= phases[i - 1]!),
    `phases run in order: ${phases}`,
  );
  assert.ok(phases.includes(PHASE_CODES.cpu) && phases.at(-1)! >= PHASE_CODES.io, `phases seen: ${phases}`);
  const mem = points(store, 'vm_guest_memory_total_bytes', { vm: vm.id }, vm.helloAt, vm.byeAt + 1000);
  assert.ok(mem.length >= running.length - 1);
}

test(
  'two VMs boot, every second of their lives is in the store, and the manager exits 0',
  needsVms(),
  async () => {
    const store = join(scratch(), 'store');
    const r = await runJson(['--store', store, '--vms', '2', '--lifetime', '4s', '--stagger', '2s']);
    assert.equal(r.code, 0, r.log);
    const s = r.summary!;
    assert.match(r.log, /^accelerator: (tcg|kvm) — /m);
    assert.equal(s.ok, 2, r.log);
    assert.equal(s.vms.length, 2);
    const reader = Store.open(store, { readOnly: true });
    try {
      for (const vm of s.vms) {
        assert.equal(vm.exitStatus, 0);
        assert.equal(vm.pid !== null && processExists(vm.pid), false, `${vm.id}'s QEMU is gone`);
        checkHostSeconds(reader, vm, s.manager.missedSeconds);
        checkGuestReports(reader, vm);
        const boot = points(reader, 'vm_boot_seconds', { vm: vm.id }, vm.startedAt, vm.exitedAt + 1000);
        assert.equal(boot.length, 1, 'boot time recorded once, at the hello');
        const exit = reader.query(findSeries(reader, 'vm_exit_status', { vm: vm.id })!, {
          start: vm.startedAt,
        });
        assert.deepEqual([...exit.values], [0]);
        const written = reader.query(
          findSeries(reader, 'vm_block_written_bytes_total', { vm: vm.id, device: 'disk0' })!,
          {
            start: vm.startedAt,
          },
        );
        assert.ok(
          Math.max(...written.values) >= 1 << 20,
          'the I/O phase wrote to the disk (query-blockstats)',
        );
      }
      assert.ok(s.manager.recordMs > 0 && s.manager.recordShare < 0.5, JSON.stringify(s.manager));
      // Every VM's series were retired when it ended; the manager's own stay live.
      const perVm = seriesPerVm(1, true);
      assert.equal(s.store.retired, 2 * perVm);
      for (const vm of s.vms) {
        const mine = reader.series().filter((x) => x.labels['vm'] === vm.id);
        assert.equal(mine.length, perVm);
        for (const x of mine)
          assert.ok(x.retired !== undefined && x.retired <= vm.exitedAt + 1000, `${x.name} retired`);
      }
      assert.ok(
        reader
          .series()
          .filter((x) => x.retired === undefined)
          .every((x) => x.name.startsWith('vmm_')),
      );
    } finally {
      reader.close();
    }
  },
);

test('a guest that never reports is killed at the boot timeout, with a clear error', needsVms(), async () => {
  const r = await runJson(['--store', join(scratch(), 's'), '--lifetime', '3s', '--boot-timeout', '2s']);
  assert.equal(r.code, 1);
  const vm = r.summary!.vms[0]!;
  assert.equal(vm.error?.code, 'ERR_VMM_BOOT_TIMEOUT');
  assert.match(vm.error!.message, /vm-1: the guest did not report within 2 s of starting QEMU/);
  assert.equal(vm.exitStatus, 128 + 9, 'killed');
  assert.equal(processExists(vm.pid!), false);
  assert.match(r.log, /vm-1 failed after .*ERR_VMM_BOOT_TIMEOUT/);
});

test('a guest that runs past its lifetime is killed as hung', needsVms(), async () => {
  const r = await runJson([
    ...['--store', join(scratch(), 's'), '--lifetime', '2s', '--grace', '2s', '--disk', '0'],
    ...['--kernel-arg', 'rondo.hang=1'],
  ]);
  assert.equal(r.code, 1, r.log);
  const vm = r.summary!.vms[0]!;
  assert.ok(vm.helloAt !== null, `it booted: ${r.log}`);
  assert.equal(vm.error?.code, 'ERR_VMM_HUNG');
  assert.match(
    vm.error!.message,
    /still running 4 s after its init started \(lifetime 2 s \+ grace 2 s\): killed/,
  );
  assert.ok(vm.exitedAt - vm.helloAt! >= 4000);
  assert.equal(processExists(vm.pid!), false);
});

test("a kernel QEMU cannot boot fails at once with QEMU's own words", needsVms(), async () => {
  const bad = join(scratch(), 'bad-guest');
  mkdirSync(bad);
  copyFileSync(join(guestDir, 'guest.json'), join(bad, 'guest.json'));
  copyFileSync(join(guestDir, 'initramfs.cpio.gz'), join(bad, 'initramfs.cpio.gz'));
  writeFileSync(join(bad, 'vmlinux'), 'not a kernel');
  writeFileSync(join(bad, 'vmlinuz'), 'not a kernel');
  const child = new Child(BIN, [
    'run',
    '--guest',
    bad,
    '--store',
    join(scratch(), 's'),
    '--accel',
    'tcg',
    '--json',
  ]);
  const { code } = await child.exited;
  assert.equal(code, 1);
  const vm = (JSON.parse(child.lines.join('\n')) as RunSummary).vms[0]!;
  assert.equal(vm.error?.code, 'ERR_VMM_BOOT');
  assert.match(
    vm.error!.message,
    /vm-1: QEMU exited with code 1 before the guest reported \(QEMU said: .+\)/,
  );
});

test(
  'while it runs, --serve exposes the VM and --remote-write pushes it; SIGINT stops the VMs and exits 130',
  needsVms(),
  async () => {
    const receiver = await new FakeReceiver().start();
    try {
      const args = [
        'run',
        '--guest',
        guestDir,
        '--accel',
        'tcg',
        '--forever',
        '--lifetime',
        '30s',
        '--serve',
        '127.0.0.1:0',
        ...['--remote-write', receiver.url, '--push-every', '1s'],
      ];
      const a = new Child(BIN, [...args, '--store', join(scratch(), 'a'), '--label', 'site=test']);
      const url = /serving (\S+)/.exec(await a.waitFor('serving', 30_000))![1]!;
      const pidA = Number(/pid (\d+)/.exec(await a.waitFor('vm-1 started', 30_000))![1]);
      await a.waitFor('vm-1 booted', 120_000);
      await sleep(2500);
      const metrics = await (await fetch(`${url}metrics`)).text();
      assert.match(metrics, /^vm_cpu_seconds_total\{site="test",vm="vm-1"\} [\d.e+]+$/m);
      assert.match(metrics, /^vm_guest_cpu_seconds_total\{mode="user",site="test",vm="vm-1"\} [\d.e+]+$/m);
      assert.match(metrics, /^vmm_vms_running\{site="test"\} 1$/m);
      a.proc.kill('SIGINT');
      const exitA = await a.exited;
      assert.equal(exitA.code, 130, a.stderr);
      assert.equal(processExists(pidA), false, 'QEMU stopped before the manager exited');
      assert.match(a.lines.join('\n'), /vm-1 failed after .*ERR_VMM_INTERRUPTED/);
      // The pusher delivered the VM's seconds, labelled as in the store, one sample per second.
      const cpu = receiver.accepted.filter(
        (x) => x.series === '__name__="vm_cpu_seconds_total",site="test",vm="vm-1"',
      );
      const times = cpu.map((x) => x.t);
      assert.ok(cpu.length >= 3, `pushed: ${[...new Set(receiver.accepted.map((x) => x.series))].join(' ')}`);
      assert.ok(
        times.every((t, i) => t % 1000 === 0 && (i === 0 || t > times[i - 1]!)),
        `one sample per second, in order: ${times.join(' ')}`,
      );
      assert.ok(
        cpu.every((x, i) => i === 0 || x.v >= cpu[i - 1]!.v),
        'CPU seconds never decrease',
      );
    } finally {
      await receiver.close();
    }
  },
);

test('SIGKILL of the manager takes its QEMU along', needsVms(), async () => {
  const args = ['run', '--guest', guestDir, '--accel', 'tcg', '--forever', '--lifetime', '30s'];
  // Its run directory (sockets, disk) cannot be removed by a killed manager: keep it in scratch.
  const b = new Child(BIN, [...args, '--store', join(scratch(), 'b')], {
    env: { ...process.env, TMPDIR: scratch() },
  });
  const pidB = Number(/pid (\d+)/.exec(await b.waitFor('vm-1 started', 30_000))![1]);
  await b.kill('SIGKILL');
  for (let i = 0; i < 100 && processExists(pidB); i++) await sleep(50);
  assert.equal(processExists(pidB), false, 'QEMU died with its manager (parent-death signal)');
});
