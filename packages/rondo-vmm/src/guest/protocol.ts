/**
 * The serial protocol between the host and the guest's init, over the virtio-serial port
 * `rondo.metrics`: one line of ASCII per message, `@rondo 1 <type> key=value …`.
 *
 * guest → host:
 *   `@rondo 1 hello vm=<id> up=<s> disk=<0|1>`            init is running
 *   `@rondo 1 tick seq=<n> up=<s> phase=<name> cpu=<8 counters> mem=<3 kB> load=<3>`
 *   `@rondo 1 bye status=<n> up=<s>`                      the workload ended; powering off
 * host → guest:
 *   `@rondo 1 poll seq=<n>`                               answer with one tick now
 *
 * `cpu` is the first line of the guest's /proc/stat (user, nice, system, idle, iowait, irq,
 * softirq, steal, in USER_HZ ticks), `mem` is MemTotal, MemFree, MemAvailable of
 * /proc/meminfo (kB), `load` the three averages of /proc/loadavg. The host polls once per
 * sampling round, so guest samples are paced by the host's clock (the guest's clock is not
 * reliable under TCG) and land in the same second as the host's own samples.
 * Unknown keys are ignored, so the guest may send more than this host understands.
 */
import { VmmError } from '../errors.js';
import { PHASE_CODES } from './plan.js';

/** The protocol version in every line. */
export const PROTOCOL_VERSION = 1;
/** Every protocol line starts with this. */
export const PREFIX = '@rondo';
/** Longest line accepted; longer ones are discarded up to their newline. */
export const MAX_LINE = 4096;
/** USER_HZ of Linux: the unit of /proc/stat times. */
export const USER_HZ = 100;

/** CPU time of the guest by mode, in seconds since its boot. */
export interface GuestCpu {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

/** The CPU modes in /proc/stat order. */
export const CPU_MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;

/** A message from the guest. */
export type GuestMessage =
  | { type: 'hello'; vm: string; up: number; disk: boolean }
  | {
      type: 'tick';
      seq: number;
      up: number;
      /** Phase code, see PHASE_CODES. */
      phase: number;
      cpu: GuestCpu;
      /** Bytes. */
      memTotal: number;
      memFree: number;
      memAvailable: number;
      load1: number;
      load5: number;
      load15: number;
    }
  | { type: 'bye'; status: number; up: number };

function bad(line: string, why: string): VmmError {
  return new VmmError('ERR_VMM_PROTOCOL', `guest line ${JSON.stringify(line.slice(0, 200))}: ${why}`);
}

function num(fields: Map<string, string>, key: string, line: string): number {
  const text = fields.get(key);
  const n = text === undefined || text === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(n)) throw bad(line, `${key} must be a number, got ${JSON.stringify(text)}`);
  return n;
}

function list(fields: Map<string, string>, key: string, count: number, line: string): number[] {
  const parts = (fields.get(key) ?? '').split(',');
  const nums = parts.map((p) => (p === '' ? Number.NaN : Number(p)));
  if (parts.length < count || nums.slice(0, count).some((n) => !Number.isFinite(n)))
    throw bad(
      line,
      `${key} must be ${count} comma-separated numbers, got ${JSON.stringify(fields.get(key))}`,
    );
  return nums;
}

function tick(fields: Map<string, string>, line: string): GuestMessage {
  const ticks = list(fields, 'cpu', CPU_MODES.length, line);
  const cpu = {} as GuestCpu;
  CPU_MODES.forEach((mode, i) => {
    cpu[mode] = ticks[i]! / USER_HZ;
  });
  const [total, free, avail] = list(fields, 'mem', 3, line);
  const [l1, l5, l15] = list(fields, 'load', 3, line);
  const phaseName = fields.get('phase') ?? '';
  const phase = PHASE_CODES[phaseName as keyof typeof PHASE_CODES];
  if (phase === undefined) throw bad(line, `unknown phase ${JSON.stringify(phaseName)}`);
  return {
    type: 'tick',
    seq: num(fields, 'seq', line),
    up: num(fields, 'up', line),
    phase,
    cpu,
    memTotal: total! * 1024,
    memFree: free! * 1024,
    memAvailable: avail! * 1024,
    load1: l1!,
    load5: l5!,
    load15: l15!,
  };
}

/**
 * Parses one line (without its newline): a message, or null when the line is not a protocol
 * line (console noise). Throws ERR_VMM_PROTOCOL for a protocol line that is malformed, of
 * another version or of an unknown type.
 */
export function parseLine(line: string): GuestMessage | null {
  const words = line.trim().split(/\s+/);
  if (words[0] !== PREFIX) return null;
  if (words[1] !== String(PROTOCOL_VERSION))
    throw bad(line, `protocol version ${words[1]} is not ${PROTOCOL_VERSION}: rebuild the guest`);
  const fields = new Map<string, string>();
  for (const w of words.slice(3)) {
    const eq = w.indexOf('=');
    if (eq > 0) fields.set(w.slice(0, eq), w.slice(eq + 1));
  }
  switch (words[2]) {
    case 'hello':
      return {
        type: 'hello',
        vm: fields.get('vm') ?? '',
        up: num(fields, 'up', line),
        disk: fields.get('disk') === '1',
      };
    case 'tick':
      return tick(fields, line);
    case 'bye':
      return { type: 'bye', status: num(fields, 'status', line), up: num(fields, 'up', line) };
    default:
      throw bad(line, `unknown message type ${JSON.stringify(words[2])}`);
  }
}

/** The host's request for one tick. */
export function pollLine(seq: number): string {
  return `${PREFIX} ${PROTOCOL_VERSION} poll seq=${seq}\n`;
}

/** Counters of a {@link LineParser}. */
export interface ParserStats {
  /** Messages parsed. */
  messages: number;
  /** Lines that were not protocol lines. */
  noise: number;
  /** Protocol lines that were malformed (or too long). */
  malformed: number;
}

/**
 * Splits a byte stream into lines and parses them: `onMessage` gets every message,
 * `onProblem` every malformed line (the stream goes on). Carriage returns are ignored.
 */
export class LineParser {
  /** Counters, live. */
  readonly stats: ParserStats = { messages: 0, noise: 0, malformed: 0 };
  private partial = '';
  private discarding = false;

  constructor(
    private readonly onMessage: (m: GuestMessage) => void,
    private readonly onProblem: (err: VmmError) => void = () => {},
  ) {}

  /** Feeds the next chunk of the stream. */
  push(chunk: Buffer | string): void {
    // latin1 maps bytes 1:1, so a chunk boundary inside a (non-ASCII) byte sequence is harmless.
    const text = this.partial + (typeof chunk === 'string' ? chunk : chunk.toString('latin1'));
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      if (this.discarding) {
        this.discarding = false;
        continue;
      }
      this.line(line.replaceAll('\r', ''));
    }
    if (this.partial.length > MAX_LINE) {
      if (!this.discarding) {
        this.stats.malformed++;
        this.onProblem(bad(this.partial, `longer than ${MAX_LINE} bytes; discarded`));
      }
      this.partial = '';
      this.discarding = true;
    }
  }

  private line(line: string): void {
    if (line.trim() === '') return;
    let message: GuestMessage | null;
    try {
      message = parseLine(line);
    } catch (err) {
      this.stats.malformed++;
      this.onProblem(err as VmmError);
      return;
    }
    if (message === null) this.stats.noise++;
    else {
      this.stats.messages++;
      this.onMessage(message);
    }
  }
}
