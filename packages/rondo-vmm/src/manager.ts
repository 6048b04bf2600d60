/**
 * The manager: opens the store, picks the accelerator, boots VMs on a schedule (or keeps N
 * running with `forever`), samples every live VM once per second and records it, retires each
 * VM's series when it ends, and cleans up on every path — an abort (SIGINT/SIGTERM in the CLI)
 * stops every VM before runVms resolves.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRondoError, type Labels, Store } from 'rondo';
import { startPush } from 'rondo/remote-write';
import { VmmError } from './errors.js';
import { type Guest, loadGuest } from './guest/build.js';
import { MAX_LIFETIME_MS, MIN_LIFETIME_MS } from './guest/plan.js';
import {
  DEFAULT_RETENTION_MS,
  MAX_VCPUS,
  ManagerRecorder,
  type RecordTime,
  VmRecorder,
  vmmSchema,
} from './metrics.js';
import { type AccelChoice, type AccelDecision, chooseAccel } from './qemu/accel.js';
import { findQemu, hostTscKhz, type Machine } from './qemu/command.js';
import { openFds, sampleProcess, threadCpuSeconds } from './qemu/host-stats.js';

import { type Round, startRounds } from './rounds.js';
import { Vm, type VmConfig, type VmResult } from './vm.js';

/** What {@link RunOptions.onStore} may return: undoes what it set up. */
export type Cleanup = () => Promise<void> | void;

/**
 * Where in each second the sampling round runs: early, so that a round delayed by up to 0.9 s
 * (a loaded machine) still samples its own second, and the guests' answers arrive in it too.
 */
const ROUND_OFFSET_MS = 100;

/** How long a VM waits before it tries again when the store has no room for its series. */
const STORE_FULL_RETRY_MS = 10_000;

/** One VM to boot: when (ms after the run starts) and for how long. */
export interface VmSpec {
  atMs: number;
  lifetimeMs: number;
}

/** Options of {@link runVms}. */
export interface RunOptions {
  /** The VMs to boot, in start order. With `forever`, the first `specs.length` are kept running. */
  specs: VmSpec[];
  /** Keep `specs.length` VMs running until `signal` aborts, starting a new one whenever one ends. */
  forever?: boolean;
  /** The store directory (created with the manager's schema, or opened). */
  store: string;
  /** VMs the store has room for: running, or ended within the retention (fixed at creation). */
  capacity: number;
  /** How long the store keeps every second (fixed at creation; default 1 h). */
  retentionMs?: number;
  memoryMb: number;
  vcpus: number;
  /** Scratch disk per VM in MiB (0: none). */
  diskMb: number;
  machine: Machine;
  accel: AccelChoice;
  /** Labels added to every series. */
  labels: Labels;
  /** Guest directory (default: where build-guest writes). */
  guestDir?: string;
  /** QEMU binary (default qemu-system-x86_64). */
  qemu?: string;
  bootTimeoutMs: number;
  graceMs: number;
  /** Remote-write URL to push the store to, every `pushEvery`. */
  remoteWrite?: { url: string; every: string };
  /** Extra kernel arguments for every guest. */
  kernelArgs?: string[];
  /** Aborting stops the run: no new VMs, running ones are stopped. */
  signal?: AbortSignal;
  /** Progress lines. */
  log?: (line: string) => void;
  /**
   * Called with the open store before the first VM starts (--serve and compare use it); the
   * function it may return runs after the last VM ended, before the store closes.
   */
  onStore?: (store: Store) => Promise<Cleanup | undefined> | Cleanup | undefined;
}

/** One VM of a finished run. */
export interface VmSummary extends Omit<VmResult, 'error'> {
  lifetimeMs: number;
  /** The error's code and message, or null. */
  error: { code: string; message: string } | null;
}

/** What a run did and cost. */
export interface RunSummary {
  accel: AccelDecision;
  vms: VmSummary[];
  ok: number;
  failed: number;
  interrupted: boolean;
  wallSeconds: number;
  manager: {
    /** CPU seconds of the manager process (user + system) during the run. */
    cpuSeconds: number;
    /** RSS before the first VM and the highest seen. */
    rssBaseBytes: number;
    rssPeakBytes: number;
    /**
     * Wall-clock time inside groups of record() calls (ms), the calls, and that time's share of
     * the manager's CPU time: an upper bound, since a preempted moment inside a group counts.
     */
    recordMs: number;
    recordCalls: number;
    recordShare: number;
    /** Most VMs running at once. */
    peakVms: number;
    /** Seconds that got no sampling round because the manager was held up past them. */
    missedSeconds: number;
  };
  store: {
    dir: string;
    bytes: number;
    /** VMs it holds: running, or ended within the retention. */
    capacity: number;
    retentionMs: number;
    /** Series in the store: live, and retired whose data has not aged out. */
    series: number;
    /** Series this run registered and retired. */
    registered: number;
    retired: number;
  };
}

/** Checks options that do not depend on the machine; ERR_VMM_USAGE naming the first bad one. */
export function checkRunOptions(o: RunOptions): void {
  const bad = (m: string): never => {
    throw new VmmError('ERR_VMM_USAGE', m);
  };
  if (o.specs.length === 0) bad('no VMs to run');
  for (const s of o.specs)
    if (!(s.lifetimeMs >= MIN_LIFETIME_MS && s.lifetimeMs <= MAX_LIFETIME_MS))
      bad(`a VM's lifetime must be between ${MIN_LIFETIME_MS / 1000} s and 7 days`);
  if (!Number.isInteger(o.vcpus) || o.vcpus < 1 || o.vcpus > MAX_VCPUS) bad(`vcpus must be 1…${MAX_VCPUS}`);
  if (!Number.isInteger(o.memoryMb) || o.memoryMb < 128)
    bad('memory must be at least 128 MiB (the guest kernel needs it)');
  if (!Number.isInteger(o.diskMb) || o.diskMb < 0) bad('disk must be a whole number of MiB ≥ 0');
  if (!Number.isInteger(o.capacity) || o.capacity < 1) bad('capacity must be a whole number ≥ 1');
  // A VM's series hold their columns while it runs and until its data ages out: a run shorter
  // than the retention can have no more VMs than the capacity.
  if (o.specs.length > o.capacity)
    bad(
      `--vms ${o.specs.length} exceeds the store's capacity of ${o.capacity} VMs (running, or ended within its retention): raise --capacity`,
    );
  if ('vm' in o.labels) bad("the label vm is the manager's own (each VM's id); pick another key");
}

/** Boots the VMs of `options`, records them, and resolves when all have exited (or the run was aborted). */
export async function runVms(options: RunOptions): Promise<RunSummary> {
  checkRunOptions(options);
  const log = options.log ?? (() => {});
  const qemu = findQemu(options.qemu);
  const guest = loadGuest(options.guestDir);
  const accel = await chooseAccel(options.accel, qemu, guest, options.machine);
  log(`accelerator: ${accel.accel} — ${accel.reason}`);
  if (options.signal?.aborted) throw new VmmError('ERR_VMM_INTERRUPTED', 'interrupted before any VM started');
  const store = Store.open(options.store, { schemas: [vmmSchema(options.capacity, options.retentionMs)] });
  let runDir: string | null = null;
  let cleanup: Cleanup | undefined;
  try {
    runDir = mkdtempSync(join(tmpdir(), 'rondo-vmm-'));
    // Keeps the 1-minute tier current (the store would otherwise fold it only when it must).
    store.startMaintenance({ every: '10s' });
    const fleet = new Fleet(options, store, qemu, guest, accel, runDir, log);
    cleanup = await options.onStore?.(store);
    return await fleet.run();
  } finally {
    try {
      await cleanup?.();
    } finally {
      if (runDir !== null) rmSync(runDir, { recursive: true, force: true });
      store.close();
    }
  }
}

/** A live VM with its recorder. */
interface Entry {
  vm: Vm;
  recorder: VmRecorder;
  spec: VmSpec;
}

/** The VMs of one run and the sampling of them. */
class Fleet {
  private readonly live = new Set<Entry>();
  private readonly results: VmSummary[] = [];
  private readonly time: RecordTime = { ms: 0, calls: 0 };
  private readonly manager: ManagerRecorder;
  private readonly tscKhz = hostTscKhz();
  private started = 0;
  private failed = 0;
  private peakVms = 0;
  private rssBase = process.memoryUsage.rss();
  private rssPeak = this.rssBase;
  private interrupted = false;
  private waitingForRoom = false;
  private missedSeconds = 0;
  private wake: (() => void) | null = null;

  constructor(
    private readonly o: RunOptions,
    private readonly store: Store,
    private readonly qemu: string,
    private readonly guest: Guest,
    private readonly accel: AccelDecision,
    private readonly runDir: string,
    private readonly log: (line: string) => void,
  ) {
    this.manager = new ManagerRecorder(store, o.labels, this.time);
  }

  async run(): Promise<RunSummary> {
    const t0 = Date.now();
    const cpu0 = process.cpuUsage();
    const stopRounds = startRounds(1000, ROUND_OFFSET_MS, (r) => this.round(r));
    const push = this.o.remoteWrite
      ? startPush(this.store, { url: this.o.remoteWrite.url, every: this.o.remoteWrite.every, tier: 0 })
      : null;
    const onAbort = (): void => {
      this.interrupted = true;
      this.wake?.();
    };
    this.o.signal?.addEventListener('abort', onAbort);
    try {
      await this.schedule(t0);
    } finally {
      this.o.signal?.removeEventListener('abort', onAbort);
      await this.stopAll();
      stopRounds();
      this.round(null);
      if (push)
        await push.stop().catch((err: Error) => this.log(`remote write: final push failed: ${err.message}`));
    }
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const info = this.store.info();
    const stats = this.store.stats();
    return {
      accel: this.accel,
      vms: this.results,
      ok: this.results.filter((r) => r.ok).length,
      failed: this.results.filter((r) => !r.ok).length,
      interrupted: this.interrupted,
      wallSeconds: (Date.now() - t0) / 1000,
      manager: {
        cpuSeconds,
        rssBaseBytes: this.rssBase,
        rssPeakBytes: this.rssPeak,
        recordMs: this.time.ms,
        recordCalls: this.time.calls,
        recordShare: cpuSeconds > 0 ? this.time.ms / 1000 / cpuSeconds : 0,
        peakVms: this.peakVms,
        missedSeconds: this.missedSeconds,
      },
      store: {
        dir: this.store.dir,
        bytes: info.totalBytes,
        capacity: this.o.capacity,
        retentionMs: this.o.retentionMs ?? DEFAULT_RETENTION_MS,
        series: info.seriesCount,
        registered: stats.registered,
        retired: stats.retired,
      },
    };
  }

  /** Starts the VMs at their times (and replacements with `forever`) until done or interrupted. */
  private async schedule(t0: number): Promise<void> {
    const queue = [...this.o.specs];
    while (!this.interrupted) {
      const next = queue[0];
      if (next === undefined && this.live.size === 0) return;
      const due = next === undefined ? Number.POSITIVE_INFINITY : t0 + next.atMs - Date.now();
      if (next !== undefined && due <= 0) {
        queue.shift();
        const launched = this.launch(next, () => {
          // forever: a VM that ends is replaced at once by one of the same lifetime.
          if (this.o.forever && !this.interrupted)
            queue.push({ atMs: Date.now() - t0, lifetimeMs: next.lifetimeMs });
        });
        // The store is full (forever): try again once older VMs' series may have aged out.
        if (!launched)
          queue.unshift({ atMs: Date.now() - t0 + STORE_FULL_RETRY_MS, lifetimeMs: next.lifetimeMs });
        continue;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        if (Number.isFinite(due) && due > 0) setTimeout(resolve, due);
      });
      this.wake = null;
    }
  }

  /**
   * Boots one VM; `ended` runs after it exited and its series were retired. False when the store
   * has no room for its series and the run goes on forever (then the VM should wait); in a
   * finite run such a VM fails at once.
   */
  private launch(spec: VmSpec, ended: () => void): boolean {
    const id = `vm-${this.started + 1}`;
    const config: VmConfig = {
      id,
      qemu: this.qemu,
      guest: this.guest,
      accel: this.accel.accel,
      machine: this.o.machine,
      memoryMb: this.o.memoryMb,
      vcpus: this.o.vcpus,
      lifetimeMs: spec.lifetimeMs,
      diskMb: this.o.diskMb,
      runDir: this.runDir,
      bootTimeoutMs: this.o.bootTimeoutMs,
      graceMs: this.o.graceMs,
      tscKhz: this.tscKhz,
      kernelArgs: this.o.kernelArgs ?? [],
    };
    let recorder: VmRecorder;
    try {
      recorder = new VmRecorder(this.store, id, this.o.vcpus, this.o.diskMb > 0, this.o.labels, this.time);
    } catch (err) {
      if (this.o.forever && isRondoError(err, 'ERR_RONDO_MAX_SERIES')) {
        if (!this.waitingForRoom)
          this.log(
            `store full: the next VM waits until the series of VMs that ended have aged out of the store (raise --capacity to keep more): ${err.message}`,
          );
        this.waitingForRoom = true;
        return false;
      }
      this.started++;
      this.notStarted(id, spec, err);
      ended();
      return true;
    }
    this.started++;
    this.waitingForRoom = false;
    const vm = new Vm(config, {
      spawned: (v) => this.log(`${id} started (pid ${v.pid}, lifetime ${spec.lifetimeMs / 1000} s)`),
      hello: (v, at) => {
        const boot = (at - v.startedAt) / 1000;
        recorder.booted(at, boot);
        this.log(`${id} booted in ${boot.toFixed(1)} s`);
      },
      tick: (_v, tick, at) => recorder.guest(at, tick),
      problem: (_v, err) => this.log(`${id}: ${err.message}`),
    });
    const entry: Entry = { vm, recorder, spec };
    this.live.add(entry);
    this.peakVms = Math.max(this.peakVms, this.live.size);
    void vm.start();
    void vm.done.then((result) => this.ended(entry, result, ended));
    return true;
  }

  /** A VM that could not even be set up (its series could not be registered). */
  private notStarted(id: string, spec: VmSpec, err: unknown): void {
    const e = err as { code?: string; message?: string };
    const now = Date.now();
    this.failed++;
    this.log(`${id} not started: ${e.code ?? 'ERR_VMM_INTERNAL'}: ${e.message ?? String(err)}`);
    this.results.push({
      ...{ id, ok: false, exitStatus: 255, guestStatus: null, shutdownReason: null, pid: null, ticks: 0 },
      ...{ startedAt: now, helloAt: null, byeAt: null, exitedAt: now, lifetimeMs: spec.lifetimeMs },
      error: { code: e.code ?? 'ERR_VMM_INTERNAL', message: e.message ?? String(err) },
    });
  }

  private ended(entry: Entry, result: VmResult, ended: () => void): void {
    const { recorder, spec } = entry;
    recorder.exited(result.exitedAt, result.exitStatus);
    recorder.retire();
    this.live.delete(entry);
    if (!result.ok) this.failed++;
    const life = ((result.exitedAt - result.startedAt) / 1000).toFixed(1);
    const boot =
      result.helloAt === null
        ? 'never booted'
        : `boot ${((result.helloAt - result.startedAt) / 1000).toFixed(1)} s`;
    this.log(
      result.ok
        ? `${result.id} exited 0 after ${life} s (${boot}, ${result.ticks} guest reports)`
        : `${result.id} failed after ${life} s (${boot}, exit status ${result.exitStatus}): ${result.error?.code}: ${result.error?.message}`,
    );
    const { error, ...rest } = result;
    this.results.push({
      ...rest,
      lifetimeMs: spec.lifetimeMs,
      error: error === null ? null : { code: error.code, message: error.message },
    });
    ended();
    this.wake?.();
  }

  /** Stops every VM still running (SIGTERM, then SIGKILL) and waits for them. */
  private async stopAll(): Promise<void> {
    const why = new VmmError('ERR_VMM_INTERRUPTED', 'stopped: the manager was interrupted');
    await Promise.all([...this.live].map((e) => e.vm.stop(why)));
  }

  /**
   * One sampling round: every live VM with its own clock reading, then the manager itself. The
   * last one, after the VMs ended (r null), records the manager only.
   */
  private round(r: Round | null): void {
    if (r !== null && r.skipped > 0) {
      this.missedSeconds += r.skipped;
      // Nothing can be done about seconds gone by; say so, since they are gaps in every VM.
      this.log(
        `sampling: ${r.skipped} s without a round (the manager was held up for ${((r.lateMs + r.skipped * 1000) / 1000).toFixed(1)} s)`,
      );
    }
    for (const e of this.live) {
      try {
        this.sample(e, r?.n ?? null);
      } catch (err) {
        this.log(`${e.vm.id}: sampling failed: ${(err as Error).message}`);
      }
    }
    const rss = process.memoryUsage.rss();
    this.rssPeak = Math.max(this.rssPeak, rss);
    this.manager.round(Date.now(), rss, this.live.size, this.started, this.failed);
  }

  private sample(e: Entry, n: number | null): void {
    const { vm, recorder } = e;
    const pid = vm.pid;
    if (pid === null || vm.state === 'exited') return;
    const t = Date.now();
    const p = sampleProcess(pid);
    const vcpus = vm.vcpuThreads.map((tid) => threadCpuSeconds(pid, tid));
    recorder.host(t, p, openFds(pid), vcpus);
    if (n === null) return;
    vm.poll(n);
    if (vm.hasDisk) void vm.blockStats().then((s) => s && recorder.block(t, s));
  }
}
