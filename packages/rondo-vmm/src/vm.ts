/**
 * One microVM from spawn to exit: its sockets and disk, its QEMU process, the QMP session, the
 * guest's serial protocol, and the deadlines (a guest that does not report within the boot
 * timeout, or runs past its lifetime plus grace, is killed). `done` resolves only after QEMU
 * has exited, whatever happened, so no VM is ever left behind.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, ftruncateSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { constants } from 'node:os';
import { join } from 'node:path';
import { spawnGuarded } from './children.js';
import { VmmError } from './errors.js';
import type { Guest } from './guest/build.js';
import { encodePlan, planWorkload } from './guest/plan.js';
import { type GuestMessage, LineParser, pollLine } from './guest/protocol.js';
import { type Accel, type Machine, qemuArgs } from './qemu/command.js';
import { type BlockStats, parseBlockStats, parseCpuThreads, QmpClient } from './qemu/qmp.js';

/** How one VM is run. */
export interface VmConfig {
  /** Its id, the `vm` label of its series (letters, digits, `-`, `_`, `.`). */
  id: string;
  /** The QEMU binary (a path, see findQemu). */
  qemu: string;
  guest: Guest;
  accel: Accel;
  machine: Machine;
  memoryMb: number;
  vcpus: number;
  /** How long the guest's workload runs, from its init's start. */
  lifetimeMs: number;
  /** Size of the virtio-blk scratch disk in MiB; 0 for none. */
  diskMb: number;
  /** A private directory for the VM's sockets and disk (removed with them). */
  runDir: string;
  /** Longest time from spawn to the guest's hello. */
  bootTimeoutMs: number;
  /** How long past its lifetime (after hello) the guest may take to power off. */
  graceMs: number;
  /** The host's TSC rate in kHz for a TCG guest (tsc_early_khz), or null when unknown. */
  tscKhz: number | null;
  /** Extra kernel arguments (e.g. the guest's fault injection `rondo.hang=1` in tests). */
  kernelArgs?: readonly string[];
}

/** A tick from the guest. */
export type GuestTick = Extract<GuestMessage, { type: 'tick' }>;

/** What a VM reports while it runs. */
export interface VmHooks {
  /** QEMU was spawned (`vm.pid` is set). */
  spawned?(vm: Vm): void;
  /** The guest's init said hello at host time `at` (ms). */
  hello?(vm: Vm, at: number): void;
  /** A tick arrived at host time `at` (ms). */
  tick?(vm: Vm, tick: GuestTick, at: number): void;
  /** A malformed line from the guest (the VM goes on). */
  problem?(vm: Vm, err: VmmError): void;
}

/** Where a VM is in its life. */
export type VmState = 'starting' | 'booting' | 'running' | 'stopping' | 'exited';

/** How a VM ended. */
export interface VmResult {
  id: string;
  /** True when the guest finished its workload with status 0 and QEMU exited 0. */
  ok: boolean;
  /** Why not, or null. */
  error: VmmError | null;
  /** What `vm_exit_status` records: the guest's status, QEMU's exit code, or 128 + signal. */
  exitStatus: number;
  /** The workload status the guest reported in its bye, or null. */
  guestStatus: number | null;
  /** QMP SHUTDOWN reason (guest-shutdown, guest-panic, host-signal, …), or null. */
  shutdownReason: string | null;
  /** Host times (ms): QEMU spawned, hello, bye, QEMU exited. */
  startedAt: number;
  helloAt: number | null;
  byeAt: number | null;
  exitedAt: number;
  /** Ticks received from the guest. */
  ticks: number;
  pid: number | null;
}

const TAIL = 4096;
/** Longest path of a Unix socket on Linux (108 bytes with the terminating NUL). */
const MAX_SOCKET_PATH = 107;

/** Listens on a Unix socket at `path`; resolves once listening. */
function listen(path: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** One microVM. Create it, call start(), then await `done`. */
export class Vm {
  /** Its id. */
  readonly id: string;
  /** Where it is in its life. */
  state: VmState = 'starting';
  /** QEMU's pid once spawned. */
  pid: number | null = null;
  /** vCPU thread ids (from QMP query-cpus-fast), in vCPU order. */
  vcpuThreads: number[] = [];
  /** Host time QEMU was spawned (ms; before that, when start() was called). */
  startedAt = 0;
  /** Host time of the guest's hello (ms), or null. */
  helloAt: number | null = null;
  /** Resolves when QEMU has exited and everything of the VM is cleaned up. */
  readonly done: Promise<VmResult>;
  private resolveDone!: (r: VmResult) => void;
  private child: ChildProcess | null = null;
  private qmp: QmpClient | null = null;
  private serial: Socket | null = null;
  private servers: Server[] = [];
  private timer: NodeJS.Timeout | null = null;
  private failure: VmmError | null = null;
  private guestStatus: number | null = null;
  private byeAt: number | null = null;
  private shutdownReason: string | null = null;
  private ticks = 0;
  private consoleTail = '';
  private stderrTail = '';
  private readonly dir: string;

  constructor(
    private readonly config: VmConfig,
    private readonly hooks: VmHooks = {},
  ) {
    this.id = config.id;
    this.dir = join(config.runDir, config.id);
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
  }

  /** Whether a disk is attached. */
  get hasDisk(): boolean {
    return this.config.diskMb > 0;
  }

  /** Prepares the sockets and disk and spawns QEMU. Never throws: a failure ends the VM (see `done`). */
  async start(): Promise<void> {
    this.startedAt = Date.now(); // moved to the spawn itself once QEMU runs
    try {
      const qmpSocket = join(this.dir, 'qmp.sock');
      const serialSocket = join(this.dir, 'serial.sock');
      if (Buffer.byteLength(serialSocket) > MAX_SOCKET_PATH)
        throw new VmmError('ERR_VMM_BOOT', `socket path ${serialSocket} is too long: use a shorter TMPDIR`);
      mkdirSync(this.dir, { recursive: true });
      const disk = this.hasDisk ? this.makeDisk() : null;
      const [qmpServer, serialServer] = await Promise.all([listen(qmpSocket), listen(serialSocket)]);
      this.servers = [qmpServer, serialServer];
      qmpServer.once('connection', (s) => this.qmpConnected(s));
      serialServer.once('connection', (s) => this.serialConnected(s));
      this.spawn({ qmpSocket, serialSocket, disk });
    } catch (err) {
      this.failure ??=
        err instanceof VmmError
          ? err
          : new VmmError('ERR_VMM_BOOT', `${this.id}: cannot prepare the VM: ${(err as Error).message}`);
      this.finish(null, null);
    }
  }

  private makeDisk(): string {
    const path = join(this.dir, 'disk.img');
    const fd = openSync(path, 'w');
    try {
      ftruncateSync(fd, this.config.diskMb * 1024 * 1024); // sparse: costs nothing until written
    } finally {
      closeSync(fd);
    }
    return path;
  }

  private spawn(files: { qmpSocket: string; serialSocket: string; disk: string | null }): void {
    if (this.failure !== null) {
      this.finish(null, null); // stopped while its sockets were being set up
      return;
    }
    const c = this.config;
    const plan = encodePlan(planWorkload(c.lifetimeMs));
    const args = qemuArgs({
      accel: c.accel,
      machine: c.machine,
      memoryMb: c.memoryMb,
      vcpus: c.vcpus,
      kernel: c.guest.kernel,
      initrd: c.guest.initrd,
      kernelArgs: [`rondo.vm=${c.id}`, `rondo.plan=${plan}`, ...(c.kernelArgs ?? [])],
      ...files,
      tscKhz: c.tscKhz,
    });
    const child = spawnGuarded(c.qemu, args);
    this.startedAt = Date.now();
    this.child = child;
    this.pid = child.pid ?? null;
    this.state = 'booting';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      this.consoleTail = (this.consoleTail + d).slice(-TAIL);
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderrTail = (this.stderrTail + d).slice(-TAIL);
    });
    child.once('error', (err) => {
      this.failure ??= new VmmError('ERR_VMM_BOOT', `${this.id}: QEMU could not be started: ${err.message}`);
      if (child.pid === undefined) this.finish(null, null);
    });
    child.once('close', (code, signal) => this.finish(code, signal));
    this.arm(c.bootTimeoutMs, () =>
      this.abort(
        new VmmError(
          'ERR_VMM_BOOT_TIMEOUT',
          `${this.id}: the guest did not report within ${c.bootTimeoutMs / 1000} s of starting QEMU${this.tails()}`,
        ),
      ),
    );
    if (this.pid !== null) this.hooks.spawned?.(this);
  }

  private arm(ms: number, fire: () => void): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(fire, ms);
  }

  private tails(): string {
    const last = (s: string): string => s.trim().split('\n').slice(-3).join(' | ').slice(-400);
    const parts = [];
    if (this.stderrTail.trim()) parts.push(`QEMU said: ${last(this.stderrTail)}`);
    if (this.consoleTail.trim()) parts.push(`console: ${last(this.consoleTail)}`);
    return parts.length ? ` (${parts.join('; ')})` : '';
  }

  private qmpConnected(socket: Socket): void {
    this.servers[0]?.close();
    const qmp = new QmpClient(socket, `${this.id} QMP`);
    this.qmp = qmp;
    qmp.onEvent((e) => {
      if (e.event === 'SHUTDOWN' && typeof e.data['reason'] === 'string')
        this.shutdownReason = e.data['reason'];
    });
    qmp
      .handshake()
      .then(() => qmp.execute('query-cpus-fast'))
      .then((cpus) => {
        this.vcpuThreads = parseCpuThreads(cpus);
      })
      .catch(() => {
        // QEMU went away (its exit is handled by 'close') or answers nothing: vCPU figures stay absent.
      });
  }

  private serialConnected(socket: Socket): void {
    this.servers[1]?.close();
    this.serial = socket;
    const parser = new LineParser(
      (m) => this.message(m),
      (err) => this.hooks.problem?.(this, err),
    );
    socket.on('data', (d: Buffer) => parser.push(d));
    socket.on('error', () => {
      // QEMU closed its end; the exit is handled by 'close' of the process.
    });
  }

  private message(m: GuestMessage): void {
    const at = Date.now();
    if (m.type === 'tick') {
      this.ticks++;
      this.hooks.tick?.(this, m, at);
    } else if (m.type === 'hello') {
      if (this.state !== 'booting') return;
      if (m.vm !== this.id) {
        this.abort(
          new VmmError('ERR_VMM_PROTOCOL', `${this.id}: the guest says it is ${JSON.stringify(m.vm)}`),
        );
        return;
      }
      this.state = 'running';
      this.helloAt = at;
      const c = this.config;
      this.arm(c.lifetimeMs + c.graceMs, () =>
        this.abort(
          new VmmError(
            'ERR_VMM_HUNG',
            `${this.id}: still running ${(c.lifetimeMs + c.graceMs) / 1000} s after its init started (lifetime ${c.lifetimeMs / 1000} s + grace ${c.graceMs / 1000} s): killed${this.tails()}`,
          ),
        ),
      );
      this.hooks.hello?.(this, at);
    } else {
      this.byeAt = at;
      this.guestStatus = m.status;
      if (this.state === 'running') this.state = 'stopping';
    }
  }

  /** Asks the guest for one tick (only while it runs). */
  poll(seq: number): void {
    if (this.state === 'running' && this.serial !== null && !this.serial.destroyed)
      this.serial.write(pollLine(seq));
  }

  /** Block device counters from QMP, or null when there is no disk or no QMP session. */
  async blockStats(): Promise<BlockStats[] | null> {
    if (!this.hasDisk || this.qmp === null || this.state === 'exited') return null;
    try {
      return parseBlockStats(await this.qmp.execute('query-blockstats', undefined, 2000));
    } catch {
      return null;
    }
  }

  /** Kills QEMU now (SIGKILL), recording `err` as why (unless the VM already failed). */
  abort(err: VmmError | null): void {
    if (err !== null) this.failure ??= err;
    this.child?.kill('SIGKILL');
  }

  /** Stops the VM: SIGTERM, then SIGKILL after `graceMs`; resolves once QEMU has exited. */
  stop(err: VmmError, graceMs = 3000): Promise<VmResult> {
    this.failure ??= err;
    if (this.child !== null && this.state !== 'exited') {
      this.state = 'stopping';
      this.child.kill('SIGTERM');
      const force = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
      void this.done.then(() => clearTimeout(force));
    }
    return this.done;
  }

  /** The error of a VM that exited by itself but not cleanly, or null. */
  private exitError(code: number | null, signal: NodeJS.Signals | null): VmmError | null {
    const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
    if (this.helloAt === null)
      return new VmmError('ERR_VMM_BOOT', `${this.id}: QEMU ${how} before the guest reported${this.tails()}`);
    if (this.guestStatus === null)
      return new VmmError(
        'ERR_VMM_GUEST_FAILED',
        `${this.id}: the guest stopped before finishing its workload (QEMU ${how}, shutdown reason ${this.shutdownReason ?? 'unknown'})${this.tails()}`,
      );
    if (this.guestStatus !== 0)
      return new VmmError(
        'ERR_VMM_GUEST_FAILED',
        `${this.id}: the guest's workload failed with status ${this.guestStatus}`,
      );
    if (signal !== null || code !== 0)
      return new VmmError('ERR_VMM_GUEST_FAILED', `${this.id}: QEMU ${how}${this.tails()}`);
    return null;
  }

  private finish(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.state === 'exited') return;
    this.state = 'exited';
    if (this.timer !== null) clearTimeout(this.timer);
    this.qmp?.close();
    this.serial?.destroy();
    for (const s of this.servers) s.close();
    rmSync(this.dir, { recursive: true, force: true });
    const error = this.failure ?? this.exitError(code, signal);
    const exitStatus =
      signal !== null
        ? 128 + (constants.signals[signal] ?? 0)
        : code !== 0
          ? (code ?? 255)
          : (this.guestStatus ?? 255);
    this.resolveDone({
      id: this.id,
      ok: error === null,
      error,
      exitStatus,
      guestStatus: this.guestStatus,
      shutdownReason: this.shutdownReason,
      startedAt: this.startedAt,
      helloAt: this.helloAt,
      byeAt: this.byeAt,
      exitedAt: Date.now(),
      ticks: this.ticks,
      pid: this.pid,
    });
  }
}
