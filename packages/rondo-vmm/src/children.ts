/**
 * Spawning QEMU (and, for compare, Prometheus) so that no child outlives the manager: every
 * process is tracked and killed on exit (normal, error or signal), and where util-linux's
 * `setpriv` exists it is started with a parent-death signal, so even a manager killed with
 * SIGKILL takes its VMs with it.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

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

/** True when `setpriv --pdeathsig` works here (util-linux ≥ 2.33); checked once. */
function hasPdeathsig(): boolean {
  if (pdeathsig === null) {
    const r = spawnSync('setpriv', ['--pdeathsig', 'KILL', '--', 'true'], { stdio: 'ignore' });
    pdeathsig = r.error === undefined && r.status === 0;
  }
  return pdeathsig;
}

/** Kills every child still running (SIGKILL), synchronously: safe in an 'exit' handler. */
export function killAllChildren(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Children started by {@link spawnGuarded} and not yet exited. */
export function liveChildCount(): number {
  return live.size;
}

/**
 * Starts `binary args` (QEMU, Prometheus) with stdin closed and stdout/stderr piped. It runs in
 * its own process group, so a Ctrl-C at the terminal reaches the manager, which stops its
 * children in order.
 */
export function spawnGuarded(binary: string, args: readonly string[]): ChildProcess {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', killAllChildren);
  }
  // setpriv sets PR_SET_PDEATHSIG and execs the binary: the same pid, no extra process.
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
