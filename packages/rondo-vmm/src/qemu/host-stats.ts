/**
 * What the host sees of a QEMU process, from /proc: CPU time of the process and of single
 * threads (its vCPUs), resident memory, threads and open file descriptors. Every reader
 * returns null once the process (or thread) is gone, never throws for that.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Linux reports CPU times in /proc in USER_HZ ticks, which is 100 on every Linux ABI. */
const TICKS_PER_SECOND = 100;

/** One reading of a process. */
export interface ProcessSample {
  /** User + system CPU time, seconds. */
  cpuSeconds: number;
  /** Resident set size, bytes. */
  rssBytes: number;
  /** Number of threads. */
  threads: number;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return null;
  }
}

/**
 * utime + stime in seconds from the text of a /proc/…/stat file. The command name (field 2)
 * is in parentheses and may itself contain spaces and parentheses, so fields are counted from
 * the last `)`.
 */
export function statCpuSeconds(stat: string): number | null {
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  // After ") " come field 3 (state) onwards; utime and stime are fields 14 and 15.
  const fields = stat.slice(close + 2).split(' ');
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / TICKS_PER_SECOND : null;
}

/** A `Key: value` field of /proc/…/status, as a number (the unit, e.g. kB, is dropped). */
export function statusField(status: string, key: string): number | null {
  const m = new RegExp(`^${key}:\\s*(\\d+)`, 'm').exec(status);
  return m ? Number(m[1]) : null;
}

/** CPU, memory and thread count of process `pid`, or null when it is gone. */
export function sampleProcess(pid: number): ProcessSample | null {
  const stat = read(`/proc/${pid}/stat`);
  const status = read(`/proc/${pid}/status`);
  if (stat === null || status === null) return null;
  const cpuSeconds = statCpuSeconds(stat);
  if (cpuSeconds === null) return null;
  return {
    cpuSeconds,
    // A zombie has no VmRSS line: nothing resident.
    rssBytes: (statusField(status, 'VmRSS') ?? 0) * 1024,
    threads: statusField(status, 'Threads') ?? 0,
  };
}

/** CPU seconds of thread `tid` of process `pid`, or null when it is gone. */
export function threadCpuSeconds(pid: number, tid: number): number | null {
  const stat = read(`/proc/${pid}/task/${tid}/stat`);
  return stat === null ? null : statCpuSeconds(stat);
}

/** Open file descriptors of `pid`, or null when it is gone (or not ours to look at). */
export function openFds(pid: number): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}
