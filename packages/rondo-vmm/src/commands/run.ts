/** `rondo-vmm run`: boots microVMs and records every second of each in the embedded store. */
import { formatDuration, isRondoError } from 'rondo';
import { checkServeOptions, serve } from 'rondo/server';
import {
  type Command,
  durationOption,
  execute,
  formatBytes,
  intOption,
  labelOptions,
  parseOptions,
  signalExitCode,
  usage,
  type Values,
} from '../cli.js';
import { defaultGuestDir } from '../guest/build.js';
import { type RunOptions, type RunSummary, runVms } from '../manager.js';
import { SERIES_PER_VM } from '../metrics.js';
import type { AccelChoice } from '../qemu/accel.js';
import type { Machine } from '../qemu/command.js';

const HELP = `Usage: rondo-vmm run [options]

Boots microVMs with QEMU, one after another (--stagger apart), each running the guest's
workload (CPU burst, idle, I/O, mixed) for its lifetime, and records every second of each VM
into the store: the QEMU process (CPU, per-vCPU CPU, RSS, threads, fds, disk I/O), the guest's
own reports (vm_guest_*), boot time and exit status, all labelled {vm="vm-N"}. The series of a
VM that ended are retired. Exits when all VMs are done (0 when all finished cleanly).

Options:
  --vms N              VMs to boot (default 1); with --forever, VMs kept running
  --lifetime D         each guest's workload time, e.g. 5s, 30s, 2m (default 10s; ≥ 2s)
  --stagger D          time between two VM starts (default 1s; 0 = all at once)
  --forever            keep --vms VMs running until SIGINT/SIGTERM, replacing each that ends
  --memory MIB         guest RAM (default 128, the least the Debian kernel boots with)
  --vcpus N            vCPUs per VM (default 1, at most 8)
  --disk MIB           scratch virtio disk per VM for the I/O phases (default 16; 0 = none)
  --store DIR          the store (default ./rondo-vmm-metrics; created if missing)
  --capacity N         VMs the store holds: running, or ended within the retention, since an
                       ended VM's series keep their columns until their data ages out
                       (default 16; fixed when the store is created, ~0.9 MB per VM per hour)
  --retention D        how long the store keeps every second (default 1h; fixed at creation)
  --serve HOST:PORT    serve the dashboard, API and /metrics (rondo serve) while running
  --token TOKEN        bearer token --serve requires (needed for a non-loopback address)
  --remote-write URL   push the store to a Prometheus remote-write endpoint
  --push-every D       how often to push (default 10s)
  --label K=V          add a label to every series (repeatable)
  --guest DIR          the guest built by build-guest (default ${defaultGuestDir()})
  --accel auto|kvm|tcg KVM if a probe guest boots under it, else TCG (default auto)
  --machine microvm|pc QEMU machine type (default microvm)
  --boot-timeout D     longest wait from QEMU's start to the guest's first report (default 120s)
  --grace D            how long past its lifetime a guest may run before it is killed (default 30s)
  --qemu FILE          the QEMU binary (default qemu-system-x86_64)
  --kernel-arg ARG     an extra guest kernel argument (repeatable); the guest's init knows
                       rondo.hang=1 (never power off) and rondo.silent=1 (never report),
                       to see the manager's hang and boot-timeout handling
  --json               print the summary as JSON on stdout (progress goes to stderr)
  --verbose            print the stack of an unexpected error

Example:
  $ rondo-vmm run --vms 2 --lifetime 5s --stagger 2s
  accelerator: tcg — KVM cannot boot a guest here (QEMU under KVM failed: …)
  store ./rondo-vmm-metrics: room for 16 VMs, 14.3 MiB
  vm-1 started (pid 10655, lifetime 5 s)
  vm-2 started (pid 10726, lifetime 5 s)
  vm-1 booted in 5.8 s
  vm-2 booted in 7.1 s
  vm-1 exited 0 after 11.4 s (boot 5.8 s, 5 guest reports)
  vm-2 exited 0 after 12.6 s (boot 7.1 s, 6 guest reports)
  run: 2 VMs, 2 ok, 0 failed in 14.6 s (tcg, at most 2 at once)
  …
`;

const OPTIONS = {
  vms: { type: 'string' },
  lifetime: { type: 'string' },
  stagger: { type: 'string' },
  forever: { type: 'boolean' },
  memory: { type: 'string' },
  vcpus: { type: 'string' },
  disk: { type: 'string' },
  store: { type: 'string' },
  capacity: { type: 'string' },
  retention: { type: 'string' },
  serve: { type: 'string' },
  token: { type: 'string' },
  'remote-write': { type: 'string' },
  'push-every': { type: 'string' },
  label: { type: 'string', multiple: true },
  guest: { type: 'string' },
  accel: { type: 'string' },
  machine: { type: 'string' },
  'boot-timeout': { type: 'string' },
  grace: { type: 'string' },
  qemu: { type: 'string' },
  json: { type: 'boolean' },
  'kernel-arg': { type: 'string', multiple: true },
} as const;

function oneOf<T extends string>(
  name: string,
  text: string | undefined,
  choices: readonly T[],
  fallback: T,
): T {
  if (text === undefined) return fallback;
  if (!(choices as readonly string[]).includes(text))
    throw usage('run', `--${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(text)}`);
  return text as T;
}

/** The run options from the command line (without signal and log). */
export function runOptions(
  v: Values,
): RunOptions & { json: boolean; serve: string | undefined; token: string | undefined } {
  const s = (k: string): string | undefined => v[k] as string | undefined;
  const vms = intOption('run', 'vms', s('vms') ?? '1', 1, 1000);
  const lifetimeMs = durationOption('run', 'lifetime', s('lifetime') ?? '10s');
  const staggerMs = durationOption('run', 'stagger', s('stagger') ?? '1s', true);
  const url = s('remote-write');
  return {
    specs: Array.from({ length: vms }, (_, i) => ({ atMs: i * staggerMs, lifetimeMs })),
    forever: v['forever'] === true,
    store: s('store') ?? './rondo-vmm-metrics',
    capacity: intOption('run', 'capacity', s('capacity') ?? '16', 1, 100_000),
    retentionMs: durationOption('run', 'retention', s('retention') ?? '1h'),
    memoryMb: intOption('run', 'memory', s('memory') ?? '128', 128, 65_536),
    vcpus: intOption('run', 'vcpus', s('vcpus') ?? '1', 1, 8),
    diskMb: intOption('run', 'disk', s('disk') ?? '16', 0, 65_536),
    machine: oneOf<Machine>('machine', s('machine'), ['microvm', 'pc'], 'microvm'),
    accel: oneOf<AccelChoice>('accel', s('accel'), ['auto', 'kvm', 'tcg'], 'auto'),
    labels: labelOptions('run', (v['label'] as string[] | undefined) ?? []),
    guestDir: s('guest'),
    qemu: s('qemu'),
    bootTimeoutMs: durationOption('run', 'boot-timeout', s('boot-timeout') ?? '120s'),
    graceMs: durationOption('run', 'grace', s('grace') ?? '30s'),
    remoteWrite: url === undefined ? undefined : { url, every: s('push-every') ?? '10s' },
    kernelArgs: (v['kernel-arg'] as string[] | undefined) ?? [],
    json: v['json'] === true,
    serve: s('serve'),
    token: s('token'),
  };
}

/** The human summary of a run. */
export function summaryLines(r: RunSummary): string[] {
  const m = r.manager;
  const n = Math.max(1, r.vms.length);
  const mib = (b: number): string => formatBytes(b);
  return [
    `run: ${r.vms.length} VMs, ${r.ok} ok, ${r.failed} failed in ${r.wallSeconds.toFixed(1)} s (${r.accel.accel}, at most ${m.peakVms} at once)${r.interrupted ? ', interrupted' : ''}${m.missedSeconds > 0 ? `; ${m.missedSeconds} s without a sampling round` : ''}`,
    `manager: CPU ${m.cpuSeconds.toFixed(2)} s (${(m.cpuSeconds / n).toFixed(3)} s per VM), RSS ${mib(m.rssPeakBytes)} at peak (${mib(m.rssBaseBytes)} before the first VM, +${mib(Math.max(0, m.rssPeakBytes - m.rssBaseBytes) / Math.max(1, m.peakVms))} per VM running)`,
    `record(): ${m.recordCalls} calls, ${m.recordMs.toFixed(1)} ms in all (wall clock, ${((m.recordMs * 1000) / Math.max(1, m.recordCalls)).toFixed(2)} µs per call) = at most ${(m.recordShare * 100).toFixed(2)} % of the manager's CPU time`,
    `store: ${r.store.dir}, ${mib(r.store.bytes)} for ${r.store.capacity} VMs (${mib(r.store.bytes / r.store.capacity)} per VM for ${formatDuration(r.store.retentionMs)}); this run registered ${r.store.registered} series and retired ${r.store.retired}`,
  ];
}

/**
 * With --forever, says when the store will fill up: ended VMs keep their columns for the
 * retention, so a store sized for fewer VMs than end within it makes new VMs wait for room.
 */
function sizingNote(o: RunOptions, out: (line: string) => void): void {
  const retention = o.retentionMs ?? 3_600_000;
  // A VM's turn: its lifetime plus roughly a boot under TCG.
  const turn = (o.specs[0]?.lifetimeMs ?? 10_000) + 10_000;
  const needed = Math.ceil((o.specs.length * retention) / turn) + o.specs.length;
  if (needed <= o.capacity) return;
  out(
    `note: about ${needed} VMs run within the store's retention of ${formatDuration(retention)}, but it holds ${o.capacity}: ` +
      `once it is full, new VMs wait until the oldest have aged out. For no waits: --capacity ${needed} ` +
      `(~${formatBytes(needed * SERIES_PER_VM * 8 * (retention / 1000))}) or a shorter --retention.`,
  );
}

/** Turns SIGINT/SIGTERM into an abort; a second signal exits at once (QEMUs are killed on exit). */
export function abortOnSignals(): {
  signal: AbortSignal;
  received: () => NodeJS.Signals | null;
  dispose: () => void;
} {
  const ac = new AbortController();
  let got: NodeJS.Signals | null = null;
  const on = (sig: NodeJS.Signals): void => {
    if (got !== null) process.exit(signalExitCode(sig));
    got = sig;
    process.stderr.write(`rondo-vmm: ${sig}: stopping the VMs (again to exit at once)\n`);
    ac.abort();
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return {
    signal: ac.signal,
    received: () => got,
    dispose: () => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
    },
  };
}

async function run(args: string[]): Promise<number> {
  const o = runOptions(parseOptions('run', args, OPTIONS));
  if (o.serve !== undefined) {
    try {
      checkServeOptions({ listen: o.serve, token: o.token });
    } catch (err) {
      throw isRondoError(err) ? usage('run', `--serve: ${err.message}`) : err;
    }
  } else if (o.token !== undefined) throw usage('run', '--token goes with --serve');
  const out = (line: string): void => {
    (o.json ? process.stderr : process.stdout).write(`${line}\n`);
  };
  if (o.forever) sizingNote(o, out);
  const signals = abortOnSignals();
  try {
    const summary = await runVms({
      ...o,
      signal: signals.signal,
      log: out,
      onStore: async (store) => {
        const info = store.info();
        out(`store ${store.dir}: room for ${o.capacity} VMs, ${formatBytes(info.totalBytes)}`);
        if (o.serve === undefined) return undefined;
        const server = await serve(store, { listen: o.serve, token: o.token });
        out(`serving ${server.url} (dashboard, Prometheus API, /metrics)`);
        return () => server.close();
      },
    });
    if (o.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else for (const line of summaryLines(summary)) out(line);
    const sig = signals.received();
    if (sig !== null) return signalExitCode(sig);
    return summary.failed === 0 ? 0 : 1;
  } finally {
    signals.dispose();
  }
}

/** The `run` command. */
export const command: Command = {
  summary: 'boot microVMs and record every second of each in the embedded store',
  help: HELP,
  run: (args) => execute(HELP, args, () => run(args)),
};
