/**
 * What the manager records, on which schema. Every VM gets its series at spawn, labelled
 * `{vm="<id>"}`: host-side figures of its QEMU process (no `guest` in the name), the guest's
 * own reports (`vm_guest_…`), and its lifecycle; they are retired when the VM ends. The
 * manager records a few series about itself too (`vmm_…`). Counters are cumulative values.
 */
import type { Labels, SchemaConfig, SeriesHandle, Store } from 'rondo';
import { CPU_MODES } from './guest/protocol.js';
import type { ProcessSample } from './qemu/host-stats.js';
import type { BlockStats } from './qemu/qmp.js';
import type { GuestTick } from './vm.js';

/** Series a VM may use: 24 + one per vCPU, so up to 8 vCPUs. */
export const SERIES_PER_VM = 32;
/** Most vCPUs a VM can have within {@link SERIES_PER_VM}. */
export const MAX_VCPUS = 8;
/** Series of the manager itself. */
export const MANAGER_SERIES = 8;
/** Name of the one schema of the manager's store. */
export const SCHEMA_NAME = 'vmm';
/** The block device id the manager gives a VM's disk (QEMU `-drive id=`), the `device` label. */
export const DISK_ID = 'disk0';

/**
 * The schema of a store for `capacity` VMs at once: every second for an hour, then the last
 * value of each minute for a day ('last' keeps counters exact for rates). About 1.3 MB per VM.
 */
export function vmmSchema(capacity: number): SchemaConfig {
  return {
    name: SCHEMA_NAME,
    maxSeries: capacity * SERIES_PER_VM + MANAGER_SERIES,
    tiers: [
      { interval: '1s', retention: '1h' },
      { interval: '1m', retention: '1d', consolidation: 'last' },
    ],
  };
}

/** Milliseconds spent inside record() calls, summed (to report record()'s share of CPU). */
export interface RecordTime {
  ms: number;
}

/** The number of series a VM with `vcpus` vCPUs and (or not) a disk registers. */
export function seriesPerVm(vcpus: number, disk: boolean): number {
  return 7 + vcpus + (disk ? 4 : 0) + CPU_MODES.length + 5;
}

/** The series of one VM and how to record them. */
export class VmRecorder {
  /** Every handle of the VM, for retirement. */
  readonly handles: SeriesHandle[] = [];
  private readonly up: SeriesHandle;
  private readonly cpu: SeriesHandle;
  private readonly rss: SeriesHandle;
  private readonly threads: SeriesHandle;
  private readonly fds: SeriesHandle;
  private readonly vcpu: SeriesHandle[];
  private readonly blockHandles: SeriesHandle[];
  private readonly bootSeconds: SeriesHandle;
  private readonly exitStatus: SeriesHandle;
  private readonly guestCpu: SeriesHandle[];
  private readonly guestMem: SeriesHandle[];
  private readonly guestLoad: SeriesHandle;
  private readonly guestPhase: SeriesHandle;
  private retired = false;

  /** Registers the series of VM `vm` (with `labels` added to each). */
  constructor(
    private readonly store: Store,
    vm: string,
    vcpus: number,
    disk: boolean,
    labels: Labels,
    private readonly time: RecordTime,
  ) {
    const reg = (name: string, extra: Labels = {}): SeriesHandle => {
      const h = store.register(name, { ...labels, vm, ...extra });
      this.handles.push(h);
      return h;
    };
    this.up = reg('vm_up');
    this.cpu = reg('vm_cpu_seconds_total');
    this.rss = reg('vm_rss_bytes');
    this.threads = reg('vm_threads');
    this.fds = reg('vm_open_fds');
    this.vcpu = Array.from({ length: vcpus }, (_, i) =>
      reg('vm_vcpu_cpu_seconds_total', { vcpu: String(i) }),
    );
    const dev = { device: DISK_ID };
    this.blockHandles = disk
      ? ['read_bytes', 'written_bytes', 'read_ops', 'write_ops'].map((k) => reg(`vm_block_${k}_total`, dev))
      : [];
    this.bootSeconds = reg('vm_boot_seconds');
    this.exitStatus = reg('vm_exit_status');
    this.guestCpu = CPU_MODES.map((mode) => reg('vm_guest_cpu_seconds_total', { mode }));
    this.guestMem = ['total', 'free', 'available'].map((k) => reg(`vm_guest_memory_${k}_bytes`));
    this.guestLoad = reg('vm_guest_load1');
    this.guestPhase = reg('vm_guest_phase');
  }

  private rec(h: SeriesHandle, v: number | null, t: number): void {
    if (v !== null && !this.retired) this.store.record(h, v, t);
  }

  /** One sampling round of the QEMU process at host time `t` (vCPU seconds in vCPU order). */
  host(
    t: number,
    p: ProcessSample | null,
    fds: number | null,
    vcpuSeconds: readonly (number | null)[],
  ): void {
    const start = performance.now();
    this.rec(this.up, p === null ? 0 : 1, t);
    if (p !== null) {
      this.rec(this.cpu, p.cpuSeconds, t);
      this.rec(this.rss, p.rssBytes, t);
      this.rec(this.threads, p.threads, t);
    }
    this.rec(this.fds, fds, t);
    for (let i = 0; i < this.vcpu.length; i++) this.rec(this.vcpu[i]!, vcpuSeconds[i] ?? null, t);
    this.time.ms += performance.now() - start;
  }

  /** Block counters of the VM's disk from QMP, sampled in the round at `t`. */
  block(t: number, stats: readonly BlockStats[]): void {
    const s = stats.find((b) => b.device === DISK_ID);
    if (s === undefined || this.blockHandles.length === 0) return;
    const start = performance.now();
    const values = [s.readBytes, s.writtenBytes, s.readOps, s.writeOps];
    for (let i = 0; i < values.length; i++) this.rec(this.blockHandles[i]!, values[i]!, t);
    this.time.ms += performance.now() - start;
  }

  /** A guest tick that arrived at host time `t`. */
  guest(t: number, tick: GuestTick): void {
    const start = performance.now();
    CPU_MODES.forEach((mode, i) => {
      this.rec(this.guestCpu[i]!, tick.cpu[mode], t);
    });
    this.rec(this.guestMem[0]!, tick.memTotal, t);
    this.rec(this.guestMem[1]!, tick.memFree, t);
    this.rec(this.guestMem[2]!, tick.memAvailable, t);
    this.rec(this.guestLoad, tick.load1, t);
    this.rec(this.guestPhase, tick.phase, t);
    this.time.ms += performance.now() - start;
  }

  /** Boot time (spawn to the guest's hello), recorded when the hello arrives at `t`. */
  booted(t: number, seconds: number): void {
    this.rec(this.bootSeconds, seconds, t);
  }

  /** The VM's exit status (see VmResult.exitStatus) at `t`, and `vm_up` 0. */
  exited(t: number, status: number): void {
    this.rec(this.exitStatus, status, t);
    this.rec(this.up, 0, t);
  }

  /**
   * Ends the VM's series: nothing more is recorded for them. This is the one call at VM end
   * that frees the VM's columns for later VMs.
   */
  retire(): void {
    this.retired = true;
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
    this.handles = [
      'vmm_cpu_seconds_total',
      'vmm_rss_bytes',
      'vmm_vms_running',
      'vmm_vms_started_total',
      'vmm_vms_failed_total',
      'vmm_record_seconds_total',
    ].map((name) => store.register(name, labels));
  }

  /** One round at `t`. */
  round(t: number, running: number, started: number, failed: number): void {
    const cpu = process.cpuUsage(this.startCpu);
    const values = [
      (cpu.user + cpu.system) / 1e6,
      process.memoryUsage.rss(),
      running,
      started,
      failed,
      this.time.ms / 1000,
    ];
    const start = performance.now();
    for (let i = 0; i < values.length; i++) this.store.record(this.handles[i]!, values[i]!, t);
    this.time.ms += performance.now() - start;
  }
}
