import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostTscKhz, kernelCommandLine, type QemuConfig, qemuArgs } from './command.js';

const base: QemuConfig = {
  accel: 'tcg',
  machine: 'microvm',
  memoryMb: 128,
  vcpus: 1,
  kernel: '/g/vmlinux',
  initrd: '/g/initramfs.cpio.gz',
  kernelArgs: ['rondo.vm=vm-1'],
  qmpSocket: '/run/x/qmp.sock',
  serialSocket: '/run/x/serial.sock',
  disk: '/run/x/disk.img',
  tscKhz: 2445424,
};

/** The value after `flag` (each occurrence). */
function after(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));
}

test('microvm: virtio-mmio devices, reboot=t, the TSC settings, both sockets as clients', () => {
  const args = qemuArgs(base);
  assert.deepEqual(after(args, '-M'), ['microvm']);
  assert.deepEqual(after(args, '-accel'), ['tcg']);
  assert.equal(args.includes('-cpu'), false, 'TCG uses its default CPU model');
  assert.deepEqual(after(args, '-append'), [
    'console=ttyS0 quiet panic=-1 reboot=t pci=off tsc_early_khz=2445424 tsc=reliable rondo.vm=vm-1',
  ]);
  assert.deepEqual(after(args, '-chardev'), [
    'socket,id=qmp,path=/run/x/qmp.sock,server=off',
    'socket,id=metrics,path=/run/x/serial.sock,server=off',
  ]);
  assert.deepEqual(after(args, '-device'), [
    'virtio-serial-device',
    'virtserialport,chardev=metrics,name=rondo.metrics',
    'virtio-blk-device,drive=disk0',
  ]);
  assert.deepEqual(after(args, '-drive'), ['file=/run/x/disk.img,if=none,id=disk0,format=raw']);
  assert.ok(args.includes('-no-reboot') && args.includes('-nodefaults'));
});

test('pc with KVM: PCI devices, the host CPU, no disk', () => {
  const args = qemuArgs({ ...base, machine: 'pc', accel: 'kvm', disk: null, vcpus: 2 });
  assert.deepEqual(after(args, '-cpu'), ['host']);
  assert.deepEqual(after(args, '-smp'), ['2']);
  assert.deepEqual(after(args, '-device'), [
    'virtio-serial-pci',
    'virtserialport,chardev=metrics,name=rondo.metrics',
  ]);
  assert.deepEqual(after(args, '-append'), ['console=ttyS0 quiet panic=-1 rondo.vm=vm-1']);
  assert.equal(args.includes('-drive'), false);
});

test('commas in paths are doubled, as QEMU option lists require', () => {
  const args = qemuArgs({ ...base, disk: '/tmp/a,b/disk.img', qmpSocket: '/tmp/a,b/q' });
  assert.deepEqual(after(args, '-drive'), ['file=/tmp/a,,b/disk.img,if=none,id=disk0,format=raw']);
  assert.equal(after(args, '-chardev')[0], 'socket,id=qmp,path=/tmp/a,,b/q,server=off');
});

test('kernel command line of the KVM probe, and of TCG without a known TSC rate', () => {
  assert.equal(
    kernelCommandLine('microvm', 'kvm', null, ['rondo.probe=1']),
    'console=ttyS0 quiet panic=-1 reboot=t pci=off rondo.probe=1',
  );
  assert.equal(kernelCommandLine('pc', 'tcg', null, []), 'console=ttyS0 quiet panic=-1 tsc=reliable');
});

test('tsc_early_khz comes from the first "cpu MHz" of /proc/cpuinfo', () => {
  assert.equal(
    hostTscKhz('processor\t: 0\ncpu MHz\t\t: 2445.424\n\nprocessor\t: 1\ncpu MHz\t\t: 1200.000\n'),
    2445424,
  );
  assert.equal(hostTscKhz('processor : 0\nBogoMIPS : 48.00\n'), null);
  const here = hostTscKhz();
  assert.ok(here === null || (Number.isInteger(here) && here > 100_000), String(here));
});
