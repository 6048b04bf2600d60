// rondo-testkit/fake-receiver (a subpath, so tests that do not need it never load protobufjs):
// a loopback remote-write receiver that decodes requests with independent decoders and
// answers from a script, or like Prometheus refuses a whole request holding a sample too old.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

const require = createRequire(import.meta.url);
const protobuf = require('protobufjs') as typeof import('protobufjs');
const snappyjs = require('snappyjs') as { uncompress(input: Uint8Array): Uint8Array };

const WriteRequest = protobuf
  .parse(
    `syntax = "proto3"; package prometheus;
     message WriteRequest { repeated TimeSeries timeseries = 1; }
     message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
     message Label { string name = 1; string value = 2; }
     message Sample { double value = 1; int64 timestamp = 2; }`,
  )
  .root.lookupType('prometheus.WriteRequest');

/** How the receiver answers one request. */
export type Reply =
  | 'ok'
  | { status: number; body?: string; headers?: Record<string, string> }
  | 'stall'
  | 'accept-hang'
  | { delayMs: number }
  | { until: Promise<unknown> };

/** A decoded sample: `series` is the labels as `a="x",b="y"`. */
export interface ReceivedSample {
  /** Labels, formatted and sorted as sent. */
  series: string;
  /** Timestamp, ms. */
  t: number;
  /** Value. */
  v: number;
}

/** One request as received. */
export interface ReceivedRequest {
  /** Request headers. */
  headers: IncomingMessage['headers'];
  /** Compressed body size. */
  bytes: number;
  /** Samples in the request. */
  samples: ReceivedSample[];
  /** Status answered (null: stalled). */
  status: number | null;
}

/** The receiver: a script of replies (consumed in order, then 'ok'), and everything it received. */
export class FakeReceiver {
  /** Replies for the next requests, in order. */
  script: Reply[] = [];
  /** When set, requests with a larger body get 413. */
  maxBytes = Number.POSITIVE_INFINITY;
  /**
   * When set, a request holding a sample older than this (ms) gets 400 `out of bounds` as a
   * whole, the way Prometheus treats samples before its head window.
   */
  rejectBefore = Number.NEGATIVE_INFINITY;
  /** Every request received. */
  readonly requests: ReceivedRequest[] = [];
  /** Samples of the accepted (2xx) requests, in arrival order. */
  readonly accepted: ReceivedSample[] = [];
  private server: Server | null = null;
  private readonly stalled = new Set<() => void>();

  /** URL of the write endpoint. */
  url = '';

  /** Starts listening on a free loopback port. */
  async start(): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const samples = decodeRequest(body);
        const entry: ReceivedRequest = { headers: req.headers, bytes: body.length, samples, status: null };
        this.requests.push(entry);
        let reply: Reply = this.script.shift() ?? 'ok';
        if (reply === 'ok' && body.length > this.maxBytes) reply = { status: 413, body: 'too large' };
        if (reply === 'ok' && samples.some((s) => s.t < this.rejectBefore))
          reply = { status: 400, body: 'out of bounds' };
        const answer = (r: 'ok' | { status: number; body?: string; headers?: Record<string, string> }) => {
          const status = r === 'ok' ? 204 : r.status;
          entry.status = status;
          if (status >= 200 && status < 300) this.accepted.push(...samples);
          res.writeHead(status, r === 'ok' ? {} : (r.headers ?? {}));
          res.end(r === 'ok' ? '' : (r.body ?? ''));
        };
        if (reply === 'accept-hang') {
          // The data counts as delivered, but the client never hears so (it is killed meanwhile).
          this.accepted.push(...samples);
          this.stalled.add(() => res.destroy());
          return;
        }
        if (reply === 'stall') {
          // Never answer; the client times out. Released at close().
          this.stalled.add(() => res.destroy());
          return;
        }
        if (typeof reply === 'object' && 'delayMs' in reply) {
          setTimeout(() => answer('ok'), reply.delayMs);
          return;
        }
        if (typeof reply === 'object' && 'until' in reply) {
          // Held until the test releases it: no timing to race on a loaded machine.
          void reply.until.then(() => answer('ok'));
          return;
        }
        answer(reply);
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}/api/v1/write`;
    return this;
  }

  /** Accepted samples grouped by `series@t` → values received (more than one: resent). */
  bySample(): Map<string, number[]> {
    const m = new Map<string, number[]>();
    for (const s of this.accepted) {
      const k = `${s.series}@${s.t}`;
      const list = m.get(k);
      if (list) list.push(s.v);
      else m.set(k, [s.v]);
    }
    return m;
  }

  /** Stops the server, dropping stalled requests. */
  async close(): Promise<void> {
    for (const release of this.stalled) release();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

interface Decoded {
  timeseries?: {
    labels?: { name: string; value: string }[];
    samples?: { value?: number; timestamp?: string }[];
  }[];
}

/** Decodes a snappy-compressed WriteRequest into samples. */
export function decodeRequest(body: Uint8Array): ReceivedSample[] {
  const raw = snappyjs.uncompress(body);
  const obj = WriteRequest.toObject(WriteRequest.decode(raw), { longs: String, defaults: true }) as Decoded;
  const out: ReceivedSample[] = [];
  for (const ts of obj.timeseries ?? []) {
    const series = (ts.labels ?? []).map((l) => `${l.name}=${JSON.stringify(l.value)}`).join(',');
    for (const s of ts.samples ?? []) out.push({ series, t: Number(s.timestamp), v: s.value ?? 0 });
  }
  return out;
}
