/**
 * The QEMU command line of one microVM. Both control channels are sockets that QEMU connects
 * to (the manager listens before it spawns QEMU), so there is no polling for a socket file:
 * QMP on one, the guest's virtio-serial port `rondo.metrics` on the other.
 */
import { readFileSync } from 'node:fs';
import { which } from '../children.js';
import { VmmError } from '../errors.js';

/** Accelerators: KVM when it can boot a guest here, otherwise QEMU's TCG. */
export type Accel = 'kvm' | 'tcg';
/** Machine types: `microvm` (virtio-mmio, no PCI, no firmware) or the classic `pc`. */
export type Machine = 'microvm' | 'pc';

/** Everything that shapes one VM's QEMU command line. */
export interface QemuConfig {
  accel: Accel;
  machine: Machine;
  /** Guest RAM in MiB (the Debian kernel needs ≥ 128 under TCG). */
  memoryMb: number;
  vcpus: number;
  kernel: string;
  initrd: string;
  /** Kernel command-line arguments after the fixed ones (rondo.vm=…, rondo.plan=…). */
  kernelArgs: readonly string[];
  /** Socket QEMU connects to for QMP. */
  qmpSocket: string;
  /** Socket QEMU connects to for the guest's virtio-serial port. */
  serialSocket: string;
  /** A raw disk image to attach as virtio-blk, or null. */
  disk: string | null;
  /** The host's TSC rate for a TCG guest's tsc_early_khz (see {@link hostTscKhz}), or null when unknown. */
  tscKhz: number | null;
}

/** The QEMU binary for x86-64 guests. */
export const DEFAULT_QEMU = 'qemu-system-x86_64';

/** The QEMU binary to run; ERR_VMM_QEMU_MISSING naming the package when it is not installed. */
export function findQemu(binary = DEFAULT_QEMU): string {
  const found = which(binary);
  if (found === null)
    throw new VmmError(
      'ERR_VMM_QEMU_MISSING',
      `${binary} is not installed (or not on the PATH) — apt-get install -y qemu-system-x86`,
    );
  return found;
}

/** Name of the guest's virtio-serial port. */
export const SERIAL_PORT_NAME = 'rondo.metrics';

/**
 * The host CPU's clock in kHz from /proc/cpuinfo, or null. Passed to the guest as
 * tsc_early_khz: without it, several TCG guests booting at once fail to calibrate their TSC
 * against the emulated PIT and hang.
 */
export function hostTscKhz(cpuinfo?: string): number | null {
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return null;
    }
  }
  const mhz = /^cpu MHz\s*:\s*([0-9.]+)/m.exec(text)?.[1];
  const khz = mhz === undefined ? Number.NaN : Math.round(Number(mhz) * 1000);
  return Number.isFinite(khz) && khz > 0 ? khz : null;
}

/**
 * The kernel command line: console on the first serial port, no reboot on panic, under TCG the
 * TSC settings, then `extra`.
 */
export function kernelCommandLine(
  machine: Machine,
  accel: Accel,
  tscKhz: number | null,
  extra: readonly string[],
): string {
  const args = ['console=ttyS0', 'quiet', 'panic=-1'];
  // microvm has no PCI and resets through the keyboard controller's triple fault (reboot=t).
  if (machine === 'microvm') args.push('reboot=t', 'pci=off');
  if (accel === 'tcg') {
    // For several TCG guests at once: without tsc_early_khz a guest can hang calibrating its
    // TSC against the PIT; without tsc=reliable the clocksource watchdog, comparing the TSC with
    // timer ticks that arrive late while vCPUs wait for a host core, marks the TSC unstable and
    // falls back to jiffies, and the guest's clock (and its workload) slows down by up to half.
    if (tscKhz !== null) args.push(`tsc_early_khz=${tscKhz}`);
    args.push('tsc=reliable');
  }
  return [...args, ...extra].join(' ');
}

/** A path inside a QEMU option list, where a comma is written as two. */
function optionValue(path: string): string {
  return path.replaceAll(',', ',,');
}

/** The argv (without the binary) of QEMU for `config`. */
export function qemuArgs(config: QemuConfig): string[] {
  const mmio = config.machine === 'microvm';
  const args = [
    ...['-M', config.machine, '-accel', config.accel],
    // KVM: expose the host CPU. TCG: QEMU's default model, the fastest to emulate.
    ...(config.accel === 'kvm' ? ['-cpu', 'host'] : []),
    ...['-m', String(config.memoryMb), '-smp', String(config.vcpus)],
    ...['-nographic', '-nodefaults', '-no-reboot', '-no-user-config'],
    ...['-serial', 'stdio'],
    ...[
      '-kernel',
      config.kernel,
      '-initrd',
      config.initrd,
      '-append',
      kernelCommandLine(config.machine, config.accel, config.tscKhz, config.kernelArgs),
    ],
    ...[
      '-chardev',
      `socket,id=qmp,path=${optionValue(config.qmpSocket)},server=off`,
      '-mon',
      'chardev=qmp,mode=control',
    ],
    ...['-device', mmio ? 'virtio-serial-device' : 'virtio-serial-pci'],
    ...['-chardev', `socket,id=metrics,path=${optionValue(config.serialSocket)},server=off`],
    ...['-device', `virtserialport,chardev=metrics,name=${SERIAL_PORT_NAME}`],
  ];
  if (config.disk !== null) {
    args.push('-drive', `file=${optionValue(config.disk)},if=none,id=disk0,format=raw`);
    args.push('-device', `${mmio ? 'virtio-blk-device' : 'virtio-blk-pci'},drive=disk0`);
  }
  return args;
}
