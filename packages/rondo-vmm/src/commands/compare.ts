/** `rondo-vmm compare`: what a 15 s (and 30 s) scrape sees of short-lived VMs, against the embedded store. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Command,
  durationOption,
  execute,
  intOption,
  parseOptions,
  signalExitCode,
  usage,
  type Values,
} from '../cli.js';
import { type CompareOptions, type CompareResult, runCompare } from '../compare.js';
import { defaultGuestDir } from '../guest/build.js';
import { abortOnSignals, runOptions } from './run.js';

const HELP = `Usage: rondo-vmm compare [options]

Boots VMs of several lifetimes (a few of each, at random offsets) while the manager serves its
store's /metrics (rondo serve) and a real Prometheus, started on a loopback port, scrapes it
every 15 s and, in a second job, every 30 s. Then counts, per VM, the seconds of its life (from
its guest's first report to QEMU's exit) for which each side holds a sample of
vm_cpu_seconds_total, and prints the table: the embedded store against each scrape interval.

Options:
  --lifetimes LIST     lifetimes to compare (default 5s,10s,30s,45s)
  --each N             VMs of each lifetime (default 3)
  --window D           VMs start at random offsets within this window (default 60s)
  --scrape LIST        Prometheus scrape intervals, one job each (default 15s,30s)
  --seed N             seed of the random offsets (default: a random one, printed)
  --store DIR          keep the store here, a new directory: absent or empty, since a store
                       holds a run's VMs for its retention (default: a temporary one, removed)
  --prometheus FILE    the Prometheus binary (default prometheus; apt-get install prometheus)
  --json               print the result as JSON (the table, every VM's counts, the run)
  --guest DIR, --accel, --machine, --memory, --vcpus, --disk, --boot-timeout, --grace, --qemu
                       as for rondo-vmm run (guest default ${defaultGuestDir()})

Example (progress goes to stderr, the table to stdout):
  $ rondo-vmm compare
  12 VMs under tcg, seed 85939834, counted on vm_cpu_seconds_total:

  | VM lifetime | VMs | seconds alive | embedded 1 s | scrape 15 s | scrape 30 s |
  | --- | ---: | ---: | ---: | ---: | ---: |
  | 5 s | 3 | 15 | 15 (100 %) | 1 (7 %), 2 of 3 VMs never seen | 0 (0 %), 3 of 3 VMs never seen |
  | 10 s | 3 | 31 | 31 (100 %) | 2 (6 %), 1 of 3 VMs never seen | 1 (3 %), 2 of 3 VMs never seen |
  | 30 s | 3 | 90 | 90 (100 %) | 6 (7 %) | 3 (3 %) |
  | 45 s | 3 | 134 | 134 (100 %) | 9 (7 %) | 4 (3 %) |
`;

const OPTIONS = {
  lifetimes: { type: 'string' },
  each: { type: 'string' },
  window: { type: 'string' },
  scrape: { type: 'string' },
  seed: { type: 'string' },
  store: { type: 'string' },
  prometheus: { type: 'string' },
  json: { type: 'boolean' },
  guest: { type: 'string' },
  accel: { type: 'string' },
  machine: { type: 'string' },
  memory: { type: 'string' },
  vcpus: { type: 'string' },
  disk: { type: 'string' },
  'boot-timeout': { type: 'string' },
  grace: { type: 'string' },
  qemu: { type: 'string' },
} as const;

function durations(name: string, text: string): number[] {
  // An empty item (even the whole list empty) is refused by durationOption itself.
  return text.split(',').map((t) => durationOption('compare', name, t.trim()));
}

/** The compare options from the command line (store and log filled in by the caller). */
export function compareOptions(v: Values): Omit<CompareOptions, 'store'> & { json: boolean; store?: string } {
  const s = (k: string): string | undefined => v[k] as string | undefined;
  const lifetimesMs = durations('lifetimes', s('lifetimes') ?? '5s,10s,30s,45s');
  const each = intOption('compare', 'each', s('each') ?? '3', 1, 100);
  // The shape of each VM comes from run's own option parsing, so the two commands agree.
  const {
    specs: _specs,
    forever: _f,
    remoteWrite: _r,
    json: _j,
    serve: _s,
    token: _t,
    ...vm
  } = runOptions(v);
  return {
    ...vm,
    lifetimesMs,
    each,
    windowMs: durationOption('compare', 'window', s('window') ?? '60s', true),
    intervalsMs: durations('scrape', s('scrape') ?? '15s,30s'),
    seed:
      s('seed') === undefined
        ? Math.floor(Math.random() * 2 ** 31)
        : intOption('compare', 'seed', s('seed')!, 0),
    prometheus: s('prometheus') ?? 'prometheus',
    capacity: lifetimesMs.length * each,
    json: v['json'] === true,
    store: s('store'),
  };
}

/** Whether `dir` is absent or an empty directory. */
function isNewDir(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

function report(r: CompareResult, seed: number): string {
  const vms = r.run.vms.length;
  const failed = r.run.failed > 0 ? `, ${r.run.failed} failed (left out when they never booted)` : '';
  const missed = r.run.manager.missedSeconds;
  const held =
    missed > 0 ? `; the manager was held up past ${missed} s, which have no point in the store` : '';
  return [
    `${vms} VMs under ${r.run.accel.accel}, seed ${seed}, counted on vm_cpu_seconds_total${failed}${held}:`,
    '',
    r.table,
  ].join('\n');
}

async function run(args: string[]): Promise<number> {
  const o = compareOptions(parseOptions('compare', args, OPTIONS));
  // A store sized for this run's VMs alone: an earlier run's VMs would hold its room (and a
  // store made for other --lifetimes or --each has another size).
  if (o.store !== undefined && !isNewDir(o.store))
    throw usage(
      'compare',
      `--store ${o.store} is not a new directory: give one that does not exist yet, or is empty`,
    );
  const temp = o.store === undefined ? mkdtempSync(join(tmpdir(), 'rondo-vmm-compare-store-')) : null;
  const signals = abortOnSignals();
  try {
    const log = (line: string): void => {
      process.stderr.write(`${line}\n`);
    };
    log(`compare: ${o.lifetimesMs.length * o.each} VMs, seed ${o.seed}`);
    const result = await runCompare({
      ...o,
      store: o.store ?? join(temp!, 'store'),
      signal: signals.signal,
      log,
    });
    process.stdout.write(
      o.json ? `${JSON.stringify({ seed: o.seed, ...result }, null, 2)}\n` : report(result, o.seed),
    );
    const sig = signals.received();
    if (sig !== null) return signalExitCode(sig);
    return result.run.failed === 0 ? 0 : 1;
  } finally {
    signals.dispose();
    if (temp !== null) rmSync(temp, { recursive: true, force: true });
  }
}

/** The `compare` command. */
export const command: Command = {
  summary:
    'measure what a 15 s / 30 s Prometheus scrape misses of short-lived VMs (real VMs, real Prometheus)',
  help: HELP,
  run: (args) => execute(HELP, args, () => run(args)),
};
