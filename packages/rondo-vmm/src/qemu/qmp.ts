/**
 * A client of QEMU's machine protocol (QMP) over a connected socket: one JSON object per line;
 * QEMU greets, the client sends `qmp_capabilities`, then commands carry an `id` that QEMU
 * echoes in the answer; events (`SHUTDOWN`, …) arrive between answers.
 */
import type { Socket } from 'node:net';
import { VmmError } from '../errors.js';

/** An asynchronous event from QEMU, e.g. `{ event: 'SHUTDOWN', data: { guest: true, reason: 'guest-shutdown' } }`. */
export interface QmpEvent {
  event: string;
  data: Record<string, unknown>;
}

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (err: VmmError) => void;
  timer: NodeJS.Timeout;
}

/** Longest line accepted from QEMU (query-blockstats of many disks stays far below). */
const MAX_LINE = 1 << 20;

/** A QMP session on a socket that QEMU connected (or that connected to QEMU). */
export class QmpClient {
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private greeting: ((ok: boolean) => void) | null = null;
  private greeted = false;
  private closed: VmmError | null = null;
  private readonly listeners: ((e: QmpEvent) => void)[] = [];

  constructor(
    private readonly socket: Socket,
    private readonly name = 'qemu',
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.data(chunk));
    socket.on('error', (err) => this.fail(`QMP socket error: ${err.message}`));
    socket.on('close', () => this.fail('QMP connection closed (QEMU exited?)'));
  }

  /** Calls `listener` for every event. */
  onEvent(listener: (e: QmpEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Waits for QEMU's greeting and enters command mode; ERR_VMM_QMP on timeout or close. */
  async handshake(timeoutMs = 10_000): Promise<void> {
    if (!this.greeted) {
      const ok = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        this.greeting = (v) => {
          clearTimeout(timer);
          resolve(v);
        };
        if (this.closed !== null) this.greeting(false);
      });
      this.greeting = null;
      if (!ok) throw this.closed ?? this.error(`no QMP greeting within ${timeoutMs} ms`);
    }
    await this.execute('qmp_capabilities', undefined, timeoutMs);
  }

  /** Runs `command`; resolves with its `return` value, rejects with ERR_VMM_QMP on an error answer, close or timeout. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs = 5000): Promise<T> {
    if (this.closed !== null) return Promise.reject(this.closed);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(this.error(`${command}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject, timer });
      this.socket.write(
        `${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id })}\n`,
      );
    });
  }

  /** Closes the session; pending commands reject. */
  close(): void {
    this.fail('QMP session closed');
    this.socket.destroy();
  }

  private error(message: string): VmmError {
    return new VmmError('ERR_VMM_QMP', `${this.name}: ${message}`);
  }

  private fail(message: string): void {
    if (this.closed !== null) return;
    this.closed = this.error(message);
    this.greeting?.(false);
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(this.error(`${p.command}: ${message}`));
    }
  }

  private data(chunk: string): void {
    this.buffer += chunk;
    if (this.buffer.length > MAX_LINE && !this.buffer.includes('\n')) {
      this.fail(`a QMP message longer than ${MAX_LINE} bytes`);
      this.socket.destroy();
      return;
    }
    let nl = this.buffer.indexOf('\n');
    while (nl >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line !== '') this.message(line);
      nl = this.buffer.indexOf('\n');
    }
  }

  private message(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return; // not JSON: QMP never sends that; ignore rather than tear down the VM
    }
    if ('QMP' in msg) {
      this.greeted = true;
      this.greeting?.(true);
    } else if (typeof msg['event'] === 'string') {
      const event: QmpEvent = { event: msg['event'], data: (msg['data'] as Record<string, unknown>) ?? {} };
      for (const l of this.listeners) l(event);
    } else if (typeof msg['id'] === 'number') {
      const p = this.pending.get(msg['id']);
      if (p === undefined) return; // answer after its timeout
      this.pending.delete(msg['id']);
      clearTimeout(p.timer);
      const err = msg['error'] as { class?: string; desc?: string } | undefined;
      if (err) p.reject(this.error(`${p.command}: ${err.class ?? 'Error'}: ${err.desc ?? 'failed'}`));
      else p.resolve(msg['return']);
    }
  }
}

/** One block device's counters from `query-blockstats`. */
export interface BlockStats {
  /** The device (QOM path or qdev id). */
  device: string;
  readBytes: number;
  writtenBytes: number;
  readOps: number;
  writeOps: number;
}

/** Picks the counters out of a `query-blockstats` answer. */
export function parseBlockStats(answer: unknown): BlockStats[] {
  if (!Array.isArray(answer)) return [];
  return answer.map((entry: Record<string, unknown>) => {
    const s = (entry['stats'] ?? {}) as Record<string, unknown>;
    const n = (k: string): number => (typeof s[k] === 'number' ? (s[k] as number) : 0);
    const device = String(entry['device'] || entry['qdev'] || entry['node-name'] || '?');
    return {
      device,
      readBytes: n('rd_bytes'),
      writtenBytes: n('wr_bytes'),
      readOps: n('rd_operations'),
      writeOps: n('wr_operations'),
    };
  });
}

/** The vCPU host thread ids from a `query-cpus-fast` answer, in vCPU order. */
export function parseCpuThreads(answer: unknown): number[] {
  if (!Array.isArray(answer)) return [];
  return answer
    .map((cpu: Record<string, unknown>) => ({
      index: Number(cpu['cpu-index']),
      tid: Number(cpu['thread-id']),
    }))
    .filter((c) => Number.isInteger(c.tid) && c.tid > 0)
    .sort((a, b) => a.index - b.index)
    .map((c) => c.tid);
}
