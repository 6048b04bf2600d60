/**
 * KVM when it can boot a guest here, otherwise TCG. /dev/kvm being there is not enough (a
 * nested paravirtual KVM may accept `-accel kvm` and then abort or hang at kernel entry), so
 * the probe boots the real guest under KVM with `rondo.probe=1`, which makes its init print
 * `rondo-probe-ok` and power off at once, and waits a few seconds for that line.
 */
import { accessSync, constants } from 'node:fs';
import { spawnGuarded } from '../children.js';
import { VmmError } from '../errors.js';
import type { Guest } from '../guest/build.js';
import { type Accel, kernelCommandLine, type Machine } from './command.js';

/** What the user asked for. */
export type AccelChoice = Accel | 'auto';

/** The accelerator chosen and why. */
export interface AccelDecision {
  accel: Accel;
  /** One line for the user: why this one (e.g. why KVM was not used). */
  reason: string;
}

/** The line the guest prints in probe mode. */
export const PROBE_OK = 'rondo-probe-ok';

/** Boots `guest` under KVM; resolves null when it reached init, else the reason it did not. */
export function probeKvm(
  qemu: string,
  guest: Guest,
  machine: Machine,
  timeoutMs = 10_000,
): Promise<string | null> {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch (err) {
    return Promise.resolve(`/dev/kvm is not usable: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const append = kernelCommandLine(machine, 'kvm', null, ['rondo.probe=1']);
  const args = [
    ...['-M', machine, '-accel', 'kvm', '-cpu', 'host', '-m', '128', '-smp', '1'],
    ...['-nographic', '-nodefaults', '-no-reboot', '-no-user-config', '-serial', 'stdio'],
    ...['-kernel', guest.kernel, '-initrd', guest.initrd, '-append', append],
  ];
  return new Promise((resolve) => {
    const child = spawnGuarded(qemu, args);
    let out = '';
    let err = '';
    let verdict: string | null | undefined;
    const decide = (v: string | null): void => {
      if (verdict !== undefined) return;
      verdict = v;
      clearTimeout(timer);
      child.kill('SIGKILL');
    };
    const timer = setTimeout(
      () => decide(`a guest under KVM did not reach init within ${timeoutMs} ms`),
      timeoutMs,
    );
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out = (out + d).slice(-4096);
      if (out.includes(PROBE_OK)) decide(null);
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      err = (err + d).slice(-4096);
    });
    child.once('error', (e) => {
      decide(`QEMU could not be started: ${e.message}`);
      resolve(verdict ?? null);
    });
    child.once('exit', (code, signal) => {
      const why = err.trim().split('\n')[0] || `QEMU exited with ${signal ?? `code ${code}`}`;
      decide(`QEMU under KVM failed: ${why}`);
      // Resolve only once QEMU is gone: a probe never leaves a process behind.
      resolve(verdict ?? null);
    });
  });
}

/** Picks the accelerator: `tcg` as asked, `kvm` only if the probe passes, `auto` tries KVM first. */
export async function chooseAccel(
  choice: AccelChoice,
  qemu: string,
  guest: Guest,
  machine: Machine,
  timeoutMs?: number,
): Promise<AccelDecision> {
  if (choice === 'tcg') return { accel: 'tcg', reason: 'as asked (--accel tcg)' };
  const failure = await probeKvm(qemu, guest, machine, timeoutMs);
  if (failure === null) return { accel: 'kvm', reason: 'a probe guest booted under KVM' };
  if (choice === 'kvm')
    throw new VmmError(
      'ERR_VMM_BOOT',
      `--accel kvm: KVM cannot boot a guest here: ${failure} — use --accel auto or tcg`,
    );
  return { accel: 'tcg', reason: `KVM cannot boot a guest here (${failure})` };
}
