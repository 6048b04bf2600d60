/**
 * What the manager records, on which schema. Every VM gets its series at spawn, labelled
 * `{vm="<id>"}`: host-side figures of its QEMU process (no `guest` in the name), the guest's
 * own reports (`vm_guest_…`), and its lifecycle; they are retired when the VM ends, and their
 * columns go to later VMs once their data has aged out. The manager records a few series about
 * itself too (`vmm_…`). Counters are cumulative values, registered as counters.
 */
import {
  formatSeries,
  type Labels,
  type SchemaConfig,
  type SeriesHandle,
  type SeriesSpec,
  type Store,
} from 'rondo';
import { CPU_MODES } from './guest/protocol.js';
import type { ProcessSample } from './qemu/host-stats.js';
import type { BlockStats } from './qemu/qmp.js';
import type { GuestTick } from './vm.js';

/** Series a VM may use: 24 + one per vCPU, so up to 8 vCPUs. */
export const SERIES_PER_VM = 32;
/** Most vCPUs a VM can have within {@link SERIES_PER_VM}. */
export const MAX_VCPUS = 8;
/**
 * Series kept for the manager itself: ManagerRecorder registers 6, and 2 are spare so that a
 * manager series added later leaves maxSeries, and so the schema of every existing store, as it
 * is (a changed maxSeries makes Store.open refuse a store: ERR_RONDO_SCHEMA_MISMATCH).
 */
export const MANAGER_SERIES = 8;
/** Name of the one schema of the manager's store. */
export const SCHEMA_NAME = 'vmm';
/** The block device id the manager gives a VM's disk (QEMU `-drive id=`), the `device` label. */
export const DISK_ID = 'disk0';

/** How long the store keeps every second by default. */
export const DEFAULT_RETENTION_MS = 3_600_000;

/**
 * The schema of a store for `capacity` VMs: every second, kept for `retentionMs`. A VM holds its
 * columns while it runs and, once retired, until its data has aged out, so `capacity` counts the
 * VMs running plus those that ended within the retention. One tier only: a coarser tier keeping
 * a day would hold every ended VM's columns for that day (long-term history is what
 * --remote-write is for). 32 series × 8 bytes × 3600 s ≈ 0.9 MB per VM for an hour.
 */
export function vmmSchema(capacity: number, retentionMs = DEFAULT_RETENTION_MS): SchemaConfig {
  return {
    name: SCHEMA_NAME,
    maxSeries: capacity * SERIES_PER_VM + MANAGER_SERIES,
    tiers: [{ interval: 1000, retention: retentionMs }],
  };
}

/**
 * Wall-clock milliseconds spent in groups of record() calls, summed, and the number of calls (to
 * report record()'s share of the manager's CPU; wall clock, so a moment the manager is preempted
 * inside a group counts too: an upper bound).
 */
export interface RecordTime {
  ms: number;
  calls: number;
}

/** The number of series a VM with `vcpus` vCPUs and (or not) a disk registers. */
export function seriesPerVm(vcpus: number, disk: boolean): number {
  return vmSeries(vcpus, disk).series.length;
}

/**
 * The newest series, live or retired, named `name` with exactly `labels`: how an ended VM's
 * series are found (lookup() finds live series only). Undefined when there is none.
 */
export function findSeries(store: Store, name: string, labels: Labels): SeriesHandle | undefined {
  const sorted = (l: Labels): string =>
    formatSeries(
      name,
      Object.fromEntries(Object.entries(l).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    );
  const key = sorted(labels);
  let found: SeriesHandle | undefined;
  for (const s of store.series()) if (s.name === name && sorted(s.labels) === key) found = s.handle;
  return found;
}

/** Where each figure of a VM is in its list of series (indices into the handles). */
interface Layout {
  up: number;
  cpu: number;
  rss: number;
  threads: number;
  fds: number;
  vcpu: number[];
  block: number[];
  boot: number;
  exit: number;
  guestCpu: number[];
  guestMem: number[];
  load: number;
  phase: number;
}

/** The series of a VM with `vcpus` vCPUs (and a disk or not), and where each figure is among them. */
export function vmSeries(
  vcpus: number,
  disk: boolean,
): { series: { name: string; labels: Labels }[]; at: Layout } {
  const series: { name: string; labels: Labels }[] = [];
  const add = (name: string, labels: Labels = {}): number => series.push({ name, labels }) - 1;
  const at: Layout = {
    up: add('vm_up'),
    cpu: add('vm_cpu_seconds_total'),
    rss: add('vm_rss_bytes'),
    threads: add('vm_threads'),
    fds: add('vm_open_fds'),
    vcpu: Array.from({ length: vcpus }, (_, i) => add('vm_vcpu_cpu_seconds_total', { vcpu: String(i) })),
    block: disk
      ? ['read_bytes', 'written_bytes', 'read_ops', 'write_ops'].map((k) =>
          add(`vm_block_${k}_total`, { device: DISK_ID }),
        )
      : [],
    boot: add('vm_boot_seconds'),
    exit: add('vm_exit_status'),
    guestCpu: CPU_MODES.map((mode) => add('vm_guest_cpu_seconds_total', { mode })),
    guestMem: ['total', 'free', 'available'].map((k) => add(`vm_guest_memory_${k}_bytes`)),
    load: add('vm_guest_load1'),
    phase: add('vm_guest_phase'),
  };
  return { series, at };
}

/** The series of one VM and how to record them. */
export class VmRecorder {
  /** Every handle of the VM, in the order of {@link vmSeries}. */
  readonly handles: SeriesHandle[];
  private readonly at: Layout;
  private retired = false;

  /**
   * Registers the series of VM `vm` (with `labels` added to each) in one go (one journal write);
   * ERR_RONDO_MAX_SERIES, registering none, when the store has no room for them.
   */
  constructor(
    private readonly store: Store,
    vm: string,
    vcpus: number,
    disk: boolean,
    labels: Labels,
    private readonly time: RecordTime,
  ) {
    const { series, at } = vmSeries(vcpus, disk);
    this.at = at;
    this.handles = store.registerMany(
      series.map(
        (s): SeriesSpec => ({
          name: s.name,
          labels: { ...labels, vm, ...s.labels },
          type: s.name.endsWith('_total') ? 'counter' : 'gauge',
        }),
      ),
    );
  }

  private rec(i: number, v: number | null, t: number): void {
    if (v !== null && !this.retired) {
      this.store.record(this.handles[i]!, v, t);
      this.time.calls++;
    }
  }

  /** One sampling round of the QEMU process at host time `t` (vCPU seconds in vCPU order). */
  host(
    t: number,
    p: ProcessSample | null,
    fds: number | null,
    vcpuSeconds: readonly (number | null)[],
  ): void {
    const start = performance.now();
    const at = this.at;
    this.rec(at.up, p === null ? 0 : 1, t);
    if (p !== null) {
      this.rec(at.cpu, p.cpuSeconds, t);
      this.rec(at.rss, p.rssBytes, t);
      this.rec(at.threads, p.threads, t);
    }
    this.rec(at.fds, fds, t);
    for (let i = 0; i < at.vcpu.length; i++) this.rec(at.vcpu[i]!, vcpuSeconds[i] ?? null, t);
    this.time.ms += performance.now() - start;
  }

  /** Block counters of the VM's disk from QMP, sampled in the round at `t`. */
  block(t: number, stats: readonly BlockStats[]): void {
    const s = stats.find((b) => b.device === DISK_ID);
    if (s === undefined || this.at.block.length === 0) return;
    const start = performance.now();
    const values = [s.readBytes, s.writtenBytes, s.readOps, s.writeOps];
    for (let i = 0; i < values.length; i++) this.rec(this.at.block[i]!, values[i]!, t);
    this.time.ms += performance.now() - start;
  }

  /** A guest tick that arrived at host time `t`. */
  guest(t: number, tick: GuestTick): void {
    const start = performance.now();
    const at = this.at;
    CPU_MODES.forEach((mode, i) => {
      this.rec(at.guestCpu[i]!, tick.cpu[mode], t);
    });
    this.rec(at.guestMem[0]!, tick.memTotal, t);
    this.rec(at.guestMem[1]!, tick.memFree, t);
    this.rec(at.guestMem[2]!, tick.memAvailable, t);
    this.rec(at.load, tick.load1, t);
    this.rec(at.phase, tick.phase, t);
    this.time.ms += performance.now() - start;
  }

  /** Boot time (spawn to the guest's hello), recorded when the hello arrives at `t`. */
  booted(t: number, seconds: number): void {
    this.rec(this.at.boot, seconds, t);
  }

  /** The VM's exit status (see VmResult.exitStatus) at `t`, and `vm_up` 0. */
  exited(t: number, status: number): void {
    this.rec(this.at.exit, status, t);
    this.rec(this.at.up, 0, t);
  }

  /**
   * Retires the VM's series, the one call at VM end: nothing more is recorded for them, their
   * data stays readable until it ages out of the store, and then their columns go to later VMs.
   */
  retire(): void {
    if (this.retired) return;
    this.retired = true;
    for (const h of this.handles) this.store.retire(h);
  }
}

/** The manager's own series. */
export class ManagerRecorder {
  private readonly handles: SeriesHandle[];
  private readonly startCpu = process.cpuUsage();

  constructor(
    private readonly store: Store,
    labels: Labels,
    private readonly time: RecordTime,
  ) {
    this.handles = store.registerMany(
      [
        'vmm_cpu_seconds_total',
        'vmm_rss_bytes',
        'vmm_vms_running',
        'vmm_vms_started_total',
        'vmm_vms_failed_total',
        'vmm_record_seconds_total',
      ].map((name) => ({ name, labels, type: name.endsWith('_total') ? 'counter' : 'gauge' })),
    );
  }

  /** One round at `t`; `rssBytes` is the manager's RSS, which the caller has just read for its peak. */
  round(t: number, rssBytes: number, running: number, started: number, failed: number): void {
    const cpu = process.cpuUsage(this.startCpu);
    const values = [(cpu.user + cpu.system) / 1e6, rssBytes, running, started, failed, this.time.ms / 1000];
    const start = performance.now();
    for (let i = 0; i < values.length; i++) this.store.record(this.handles[i]!, values[i]!, t);
    this.time.ms += performance.now() - start;
    this.time.calls += values.length;
  }
}
