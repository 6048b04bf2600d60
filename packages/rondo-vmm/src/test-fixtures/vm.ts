/** What the tests that boot real VMs share: whether they can run here, and a guest built for them. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasCommand, needs } from 'rondo-testkit';
import { buildGuest, type Guest } from '../guest/build.js';
import { isStaticElf } from '../guest/elf.js';
import { findKernel } from '../guest/kernel.js';
import { PROTOCOL_VERSION } from '../guest/protocol.js';

/** The Debian packages the VM tests need. */
export const VM_INSTALL = 'apt-get install -y qemu-system-x86 linux-image-amd64 busybox-static cpio';

function kernelInstalled(): boolean {
  try {
    findKernel();
    return true;
  } catch {
    return false;
  }
}

/** True when QEMU, a kernel with modules and a static busybox are installed. */
export const VMS_AVAILABLE =
  hasCommand('qemu-system-x86_64') &&
  kernelInstalled() &&
  existsSync('/bin/busybox') &&
  isStaticElf(readFileSync('/bin/busybox'));

/** Test options of a test that boots VMs (skips with a notice, or fails under RONDO_REQUIRE_ALL=1). */
export function needsVms(): { skip: string | false } {
  return needs('qemu-system-x86_64 and a kernel', VMS_AVAILABLE, VM_INSTALL);
}

/** Builds the guest into `dir` (about 2 s). */
export function testGuest(dir: string): Guest {
  return buildGuest({ out: dir });
}

/** True when process `pid` is alive (a zombie waiting for its reaper counts as gone). */
export function processExists(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * A guest directory that passes loadGuest's checks but cannot boot: for tests of what happens
 * before any VM starts (with `--qemu /bin/true`, nothing real runs). Returns the directory.
 */
export function fakeGuest(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'guest.json'),
    JSON.stringify({ format: 1, protocol: PROTOCOL_VERSION, kernel: 'vmlinux' }),
  );
  writeFileSync(join(dir, 'vmlinux'), '');
  writeFileSync(join(dir, 'initramfs.cpio.gz'), '');
  return dir;
}
