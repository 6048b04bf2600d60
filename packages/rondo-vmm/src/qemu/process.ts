/**
 * Spawning QEMU so that no QEMU outlives the manager: every process is tracked and killed on
 * exit (normal, error or signal), and where util-linux's `setpriv` exists QEMU is started with
 * a parent-death signal, so even a manager killed with SIGKILL takes its VMs with it.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { VmmError } from '../errors.js';

/** The QEMU binary for x86-64 guests. */
export const DEFAULT_QEMU = 'qemu-system-x86_64';

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
let pdeathsig: boolean | null = null;

/** The executable `command` resolves to on the PATH (or itself when it is a path), or null. */
export function which(command: string, path = process.env['PATH'] ?? ''): string | null {
  const candidates = command.includes('/')
    ? [command]
    : path.split(delimiter).map((d) => join(d || '.', command));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not here
    }
  }
  return null;
}

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

/** True when `setpriv --pdeathsig` works here (util-linux ≥ 2.33); checked once. */
function hasPdeathsig(): boolean {
  if (pdeathsig === null) {
    const r = spawnSync('setpriv', ['--pdeathsig', 'KILL', '--', 'true'], { stdio: 'ignore' });
    pdeathsig = r.error === undefined && r.status === 0;
  }
  return pdeathsig;
}

/** Kills every QEMU still running (SIGKILL), synchronously: safe in an 'exit' handler. */
export function killAllQemu(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** QEMU processes started by this process and not yet exited. */
export function liveQemuCount(): number {
  return live.size;
}

/**
 * Starts QEMU (`binary args`) with stdin closed and stdout/stderr piped. It runs in its own
 * process group, so a Ctrl-C at the terminal reaches the manager, which stops the VMs in order.
 */
export function spawnQemu(binary: string, args: readonly string[]): ChildProcess {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', killAllQemu);
  }
  // setpriv sets PR_SET_PDEATHSIG and execs QEMU: the same pid, no extra process.
  const [command, argv] = hasPdeathsig()
    ? ['setpriv', ['--pdeathsig', 'KILL', '--', binary, ...args]]
    : [binary, [...args]];
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  live.add(child);
  const forget = (): void => {
    live.delete(child);
  };
  child.once('exit', forget);
  child.once('error', forget);
  return child;
}
