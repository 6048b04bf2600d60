import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Store } from 'rondo';
import { scratchDirs } from 'rondo-testkit';
import { signalExitCode } from './cli.js';
import { runOptions } from './commands/run.js';
import { vmmSchema } from './metrics.js';
import { fakeGuest } from './test-fixtures/vm.js';

const BIN = fileURLToPath(new URL('../bin/rondo-vmm.js', import.meta.url));
const scratch = scratchDirs('vmm-cli');

function vmm(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env, timeout: 30_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

test('run options: defaults, and the schedule the stagger makes', () => {
  const o = runOptions({});
  assert.equal(o.store, './rondo-vmm-metrics');
  assert.equal(o.capacity, 16);
  assert.deepEqual(o.specs, [{ atMs: 0, lifetimeMs: 10_000 }]);
  assert.equal(o.memoryMb, 128);
  assert.equal(o.diskMb, 16);
  assert.equal(o.machine, 'microvm');
  assert.equal(o.accel, 'auto');
  assert.equal(o.bootTimeoutMs, 120_000);
  assert.equal(o.forever, false);
  const p = runOptions({ vms: '3', lifetime: '1m30s', stagger: '0', label: ['a=1', 'b=x=y'], disk: '0' });
  assert.deepEqual(p.specs, [
    { atMs: 0, lifetimeMs: 90_000 },
    { atMs: 0, lifetimeMs: 90_000 },
    { atMs: 0, lifetimeMs: 90_000 },
  ]);
  assert.deepEqual(p.labels, { a: '1', b: 'x=y' });
  assert.equal(p.diskMb, 0);
  assert.deepEqual(
    runOptions({ vms: '2', stagger: '1.5s' }).specs.map((s) => s.atMs),
    [0, 1500],
  );
});

test('after a signal, run and compare exit 128 + its number', () => {
  assert.equal(signalExitCode('SIGINT'), 130);
  assert.equal(signalExitCode('SIGTERM'), 143);
});

test('bad options are usage errors (exit 2) that say what is wrong', () => {
  const cases: [string[], RegExp][] = [
    [['run', '--vms', '0'], /--vms must be a whole number from 1 to 1000, got "0"/],
    [['run', '--lifetime', 'soon'], /--lifetime: cannot parse duration "soon"/],
    [['run', '--lifetime', '1s'], /lifetime must be between 2 s and 7 days/],
    [['run', '--accel', 'xen'], /--accel must be one of auto, kvm, tcg/],
    [['run', '--memory', '64'], /--memory must be a whole number from 128/],
    [['run', '--label', 'vm=x'], /the label vm is the manager's own/],
    [['run', '--label', 'bad'], /--label must be key=value/],
    [['run', '--vcpus', '9'], /--vcpus must be a whole number from 1 to 8/],
    [
      ['run', '--vms', '5', '--capacity', '4'],
      /--vms 5 exceeds the store's capacity of 4 VMs \(running, or ended within its retention\)/,
    ],
    [['run', '--retention', 'forever'], /--retention: cannot parse duration "forever"/],
    [['run', '--nope'], /Unknown option '--nope'/],
    [['compare', '--lifetimes', ''], /--lifetimes: cannot parse duration ""/],
    [['compare', '--scrape', '15s,'], /--scrape: cannot parse duration ""/],
    [['dance'], /unknown command "dance" \(commands: run, compare, build-guest/],
  ];
  for (const [args, message] of cases) {
    const r = vmm(args, { ...process.env, PATH: process.env['PATH'] ?? '' });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, /^rondo-vmm: ERR_VMM_USAGE: /);
    assert.match(r.err, message, args.join(' '));
  }
});

test("--help prints each command's help and exits 0; no command is a usage error", () => {
  const top = vmm(['--help']);
  assert.equal(top.code, 0);
  assert.match(top.out, /Commands:\n {2}run .*\n {2}compare .*\n {2}build-guest /);
  for (const cmd of ['run', 'compare', 'build-guest']) {
    const r = vmm([cmd, '--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, new RegExp(`^Usage: rondo-vmm ${cmd}`));
  }
  assert.equal(vmm([]).code, 2);
});

test('QEMU not installed: a clear error naming the package, nothing started', () => {
  const r = vmm(['run', '--store', join(scratch(), 's')], { ...process.env, PATH: '/nonexistent' });
  assert.equal(r.code, 1);
  assert.match(
    r.err,
    /ERR_VMM_QEMU_MISSING: qemu-system-x86_64 is not installed .* apt-get install -y qemu-system-x86/,
  );
  const named = vmm(['run', '--qemu', '/nonexistent/qemu']);
  assert.match(named.err, /ERR_VMM_QEMU_MISSING: \/nonexistent\/qemu is not installed/);
});

test('no guest built: the error says how to build it, and no store is created', () => {
  const dir = scratch();
  // A fake QEMU so the test does not depend on it: the guest is checked before anything runs.
  const r = vmm(['run', '--guest', join(dir, 'guest'), '--store', join(dir, 's'), '--qemu', '/bin/true']);
  assert.equal(r.code, 1);
  assert.match(r.err, /ERR_VMM_NO_GUEST: no guest in .*guest .*run `rondo-vmm build-guest --out /);
  assert.equal(existsSync(join(dir, 's')), false);
});

test('compare refuses a --store that is not a new directory, before starting anything', () => {
  const dir = scratch();
  Store.open(join(dir, 'old'), { schemas: [vmmSchema(12)] }).close();
  const r = vmm(['compare', '--store', join(dir, 'old'), '--guest', join(dir, 'no-guest')]);
  assert.equal(r.code, 2, r.err);
  assert.match(
    r.err,
    /^rondo-vmm: ERR_VMM_USAGE: --store .*old is not a new directory: give one that does not exist yet, or is empty — see rondo-vmm compare --help/,
  );
});

test('a store made with another capacity is refused with what to do', () => {
  const dir = scratch();
  Store.open(join(dir, 's'), { schemas: [vmmSchema(4)] }).close();
  // A guest that passes loadGuest's checks and a fake QEMU: the store is opened before any VM.
  const guest = fakeGuest(join(dir, 'guest'));
  const r = vmm([
    'run',
    '--store',
    join(dir, 's'),
    '--guest',
    guest,
    '--qemu',
    '/bin/true',
    '--accel',
    'tcg',
  ]);
  assert.equal(r.code, 1);
  assert.match(
    r.err,
    /ERR_RONDO_SCHEMA_MISMATCH: .*maxSeries 136 → 520.* — the store was created with another --capacity or --retention/,
  );
});

test('build-guest with a kernel that does not exist fails clearly', () => {
  const r = vmm(['build-guest', '--out', join(scratch(), 'g'), '--kernel', '/nonexistent/vmlinuz-1.2.3']);
  assert.equal(r.code, 1);
  assert.match(r.err, /ERR_VMM_GUEST_BUILD: no kernel at \/nonexistent\/vmlinuz-1.2.3/);
});
