import { createSocket, type Socket } from 'node:dgram';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { nextTurn, type Percentiles, percentiles } from './stats.js';

/** Throughput and per-call cost of one baseline operation. */
export interface BaselineResult {
  /** Calls per second. */
  opsPerSec: number;
  /** ns per call: percentiles of per-burst means. */
  nsPerCall: Percentiles;
}

/** Calls timed together: one syscall costs ~1 µs, far above the timer's resolution and overhead. */
const BURST = 64;

/**
 * fs.writeSync of 16 bytes, appended to a file in `dir`: the cheapest "durable-ish" thing a
 * metrics library could do per point instead of writing into a mapped ring.
 */
export function benchFsWriteSync(dir: string, calls: number): BaselineResult {
  const bursts = Math.max(1, Math.ceil(calls / BURST));
  const times = new Float64Array(bursts);
  const buf = Buffer.alloc(16, 0x2a);
  const fd = openSync(join(dir, 'baseline.bin'), 'w');
  try {
    for (let i = 0; i < 256; i++) writeSync(fd, buf, 0, 16);
    const start = performance.now();
    for (let b = 0; b < bursts; b++) {
      const t0 = performance.now();
      for (let i = 0; i < BURST; i++) writeSync(fd, buf, 0, 16);
      times[b] = performance.now() - t0;
    }
    const wall = performance.now() - start;
    return { opsPerSec: (bursts * BURST * 1000) / wall, nsPerCall: percentiles(times, bursts, 1e6 / BURST) };
  } finally {
    closeSync(fd);
  }
}

function once(socket: Socket, event: 'listening' | 'connect'): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once(event, resolve);
    socket.once('error', reject);
  });
}

/**
 * dgram send of 16 bytes to a receiver on 127.0.0.1 (a StatsD-style client).
 * Method: the sender is connected and calls send() without a callback. Node first tries a
 * synchronous sendmsg (uv_udp_try_send) and only queues the datagram when the socket would
 * block, so the cost of a send is paid inside the call. Bursts of 64 sends are timed, then the
 * loop yields one turn so the receiver drains its buffer; that yield is the receiver's work and
 * is not counted. Should a burst leave datagrams queued, the time until the queue drains is
 * added to that burst, so deferred sends are never free.
 */
export async function benchUdpSend(calls: number): Promise<BaselineResult> {
  const receiver = createSocket('udp4');
  const sender = createSocket('udp4');
  try {
    // The receiver only has to exist (so the kernel delivers instead of answering ICMP unreachable).
    receiver.on('message', () => {});
    const listening = once(receiver, 'listening');
    receiver.bind(0, '127.0.0.1');
    await listening;
    const connected = once(sender, 'connect');
    sender.connect(receiver.address().port, '127.0.0.1');
    await connected;
    const buf = Buffer.alloc(16, 0x2a);
    for (let i = 0; i < 256; i++) sender.send(buf);
    await nextTurn();
    const bursts = Math.max(1, Math.ceil(calls / BURST));
    const times = new Float64Array(bursts);
    let busy = 0;
    for (let b = 0; b < bursts; b++) {
      const t0 = performance.now();
      for (let i = 0; i < BURST; i++) sender.send(buf);
      while (sender.getSendQueueCount() > 0) await nextTurn();
      const dt = performance.now() - t0;
      times[b] = dt;
      busy += dt;
      await nextTurn();
    }
    return {
      opsPerSec: (bursts * BURST * 1000) / busy,
      nsPerCall: percentiles(times, bursts, 1e6 / BURST),
    };
  } finally {
    sender.close();
    receiver.close();
  }
}
