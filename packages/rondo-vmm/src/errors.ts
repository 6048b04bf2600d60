/**
 * The one error type of rondo-vmm. Failures of the store itself stay RondoErrors (from rondo);
 * what goes wrong with QEMU, the guest or Prometheus is a VmmError with a stable code.
 */

/** Stable error codes carried by {@link VmmError}. */
export type VmmErrorCode =
  /** qemu-system-x86_64 is not installed (or not executable). */
  | 'ERR_VMM_QEMU_MISSING'
  /** No guest (kernel + initramfs) where one was expected, or it is incomplete. */
  | 'ERR_VMM_NO_GUEST'
  /** build-guest cannot find or use what it needs (kernel, modules, busybox-static). */
  | 'ERR_VMM_GUEST_BUILD'
  /** QEMU exited before the guest reported, or could not be started. */
  | 'ERR_VMM_BOOT'
  /** The guest did not report within the boot timeout. */
  | 'ERR_VMM_BOOT_TIMEOUT'
  /** The guest ran past its lifetime plus the grace period and was killed. */
  | 'ERR_VMM_HUNG'
  /** The guest stopped without finishing its workload, or its workload failed. */
  | 'ERR_VMM_GUEST_FAILED'
  /** The QMP connection failed, timed out or QEMU answered with an error. */
  | 'ERR_VMM_QMP'
  /** The guest sent something that is not the serial protocol. */
  | 'ERR_VMM_PROTOCOL'
  /** Prometheus (for compare) could not be started or queried. */
  | 'ERR_VMM_PROMETHEUS'
  /** An invalid option or argument. */
  | 'ERR_VMM_USAGE'
  /** The run was interrupted (SIGINT/SIGTERM) and its VMs were stopped. */
  | 'ERR_VMM_INTERRUPTED';

/** An error of rondo-vmm: `code` is stable, `message` says what is wrong and what to do. */
export class VmmError extends Error {
  /** Stable machine-readable code, e.g. `ERR_VMM_BOOT_TIMEOUT`. */
  readonly code: VmmErrorCode;

  constructor(code: VmmErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VmmError';
    this.code = code;
  }
}

/** True when `err` is a VmmError, optionally with the given code. */
export function isVmmError(err: unknown, code?: VmmErrorCode): err is VmmError {
  return err instanceof VmmError && (code === undefined || err.code === code);
}
