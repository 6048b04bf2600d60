// Helpers of the server tests: a store with known points, a server over it, and small HTTP
// helpers (fetch for the usual requests, raw sockets for the malformed ones fetch cannot send).
import { connect } from 'node:net';
import { T0 } from 'rondo-testkit';
import { type SchemaConfig, Store } from '../index.js';
import { type RondoServer, type ServeOptions, serve } from '../server/index.js';

/** Tiers of the test schema: 1 s for 1 h, 10 s averages for 6 h, 5 min averages for 7 d. */
export const SERVE_SCHEMAS: SchemaConfig[] = [
  {
    name: 'host',
    maxSeries: 16,
    tiers: [
      { interval: '1s', retention: '1h' },
      { interval: '10s', retention: '6h', consolidation: 'avg' },
      { interval: '5m', retention: '7d', consolidation: 'avg' },
    ],
  },
];

/** End (exclusive) of the points {@link fillStore} records: T0 + 2 h. */
export const FILL_END = T0 + 7_200_000;

/** The value {@link fillStore} records for series `k` at time `t` (ms): exact in doubles. */
export function valueAt(k: number, t: number): number {
  return k * 100 + ((t / 1000) % 600) / 4;
}

/**
 * A store with four series and 2 h of 1 s points ending at {@link FILL_END}: cpu_usage for
 * web1 and web2, a counter requests_total (registered as one; one more per second), and mem.used (a dotted name)
 * that misses every 10th second.
 */
export function fillStore(dir: string): Store {
  const store = Store.open(dir, { schemas: SERVE_SCHEMAS });
  const web1 = store.register('cpu_usage', { host: 'web1' });
  const web2 = store.register('cpu_usage', { host: 'web2' });
  const req = store.register('requests_total', { host: 'web1', path: '/a"b\\c' }, { type: 'counter' });
  const mem = store.register('mem.used', { host: 'web1' });
  for (let t = T0; t < FILL_END; t += 1000) {
    store.record(web1, valueAt(0, t), t);
    store.record(web2, valueAt(1, t), t);
    store.record(req, (t - T0) / 1000, t);
    if ((t / 1000) % 10 !== 0) store.record(mem, valueAt(3, t), t);
  }
  store.consolidate();
  return store;
}

/** A server on a free loopback port. */
export function serveOn(store: Store, options: ServeOptions = {}): Promise<RondoServer> {
  return serve(store, { listen: '127.0.0.1:0', ...options });
}

/** A response read as JSON, with its status and headers. */
export interface JsonResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test bodies are checked field by field
  body: any;
}

/** GET (or `init`) `path` on `server` and parse the body as JSON. */
export async function getJson(
  server: RondoServer,
  path: string,
  init: RequestInit = {},
): Promise<JsonResponse> {
  const res = await fetch(new URL(path, server.url), init);
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${path}: HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`);
  }
  return { status: res.status, headers: res.headers, body };
}

/** Sends raw bytes on a new connection; resolves with everything the server wrote before closing. */
export function rawRequest(server: RondoServer, bytes: string, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, server.host);
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${timeoutMs} ms; got ${JSON.stringify(data)}`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      data += d;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(data);
    });
    socket.write(bytes);
  });
}

/** The JSON body of a raw HTTP response. */
export function rawJson(response: string): { status: number; body: Record<string, unknown> } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);
  const body = response.slice(response.indexOf('\r\n\r\n') + 4);
  return { status, body: JSON.parse(body) as Record<string, unknown> };
}
