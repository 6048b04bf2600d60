/**
 * serve(): an HTTP server over an open store, in the writer's own process or in a reader beside
 * it. Requests are answered on the event loop between records, never inside record(). Binds to
 * loopback unless given a token; bounded bodies, ranges and responses; timeouts for slow
 * clients; JSON errors everywhere.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { type Duration, parseTimerDuration, RondoError, type Store } from '../index.js';
import { loadAssets, sendAsset } from './assets.js';
import type { Context, Limits } from './context.js';
import { HttpError, sendError, toHttpError } from './http.js';
import { metricsEndpoint } from './metrics.js';
import {
  labelsEndpoint,
  labelValuesEndpoint,
  queryEndpoint,
  queryRangeEndpoint,
  seriesEndpoint,
} from './prom-api.js';
import { remoteReadEndpoint } from './remote-read.js';
import { infoEndpoint, rondoQueryEndpoint, seriesListEndpoint } from './rondo-api.js';

/** Options of {@link serve}. */
export interface ServeOptions {
  /** `HOST:PORT` to listen on (`[::1]:9464` for IPv6; port 0 picks a free one). Default `127.0.0.1:9464`. */
  listen?: string;
  /**
   * Bearer token every API request must carry (`Authorization: Bearer <token>`); required to
   * listen on anything but loopback. The dashboard's own files are served without it.
   */
  token?: string;
  /** Serve the dashboard at `/` (default true). */
  dashboard?: boolean;
  /** Longest a request may take to arrive, and a connection may stay idle (default `'30s'`). */
  requestTimeout?: Duration;
  /** Bounds; see {@link DEFAULT_LIMITS}. */
  limits?: Partial<Limits>;
}

/** A running server. */
export interface RondoServer {
  /** Base URL, e.g. `http://127.0.0.1:9464/`. */
  readonly url: string;
  /** Address listened on. */
  readonly host: string;
  /** Port listened on (the chosen one when `listen` gave port 0). */
  readonly port: number;
  /** Stops listening, ends open connections; resolves when closed. The store stays open. */
  close(): Promise<void>;
}

/** The bounds a server enforces unless `limits` says otherwise. */
export const DEFAULT_LIMITS: Readonly<Limits> = {
  maxFormBytes: 64 * 1024,
  maxReadBytes: 1024 * 1024,
  maxReadDecodedBytes: 16 * 1024 * 1024,
  defaultPointsPerSeries: 11_000,
  maxPointsPerSeries: 1_000_000,
  maxPointsPerResponse: 2_000_000,
};

/** Parses `HOST:PORT`, `[V6]:PORT` or `:PORT` (loopback). */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new RondoError(
      'ERR_RONDO_CONFIG',
      `serve: listen must be HOST:PORT (e.g. 127.0.0.1:9464, [::1]:9464, 0.0.0.0:9464), got ${JSON.stringify(text)}`,
    );
  }
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function checkLimits(given: Partial<Limits> | undefined): Limits {
  const limits = { ...DEFAULT_LIMITS, ...given };
  for (const [k, v] of Object.entries(limits)) {
    if (!Number.isSafeInteger(v) || v <= 0)
      throw new RondoError(
        'ERR_RONDO_CONFIG',
        `serve: limits.${k} must be a positive whole number, got ${v}`,
      );
  }
  if (limits.defaultPointsPerSeries > limits.maxPointsPerSeries) {
    throw new RondoError(
      'ERR_RONDO_CONFIG',
      'serve: limits.defaultPointsPerSeries exceeds maxPointsPerSeries',
    );
  }
  return limits;
}

/** A constant-time comparison of the Authorization header with the token. */
function tokenChecker(token: string | undefined): (header: string | undefined) => boolean {
  if (token === undefined) return () => true;
  const want = createHash('sha256').update(`Bearer ${token}`).digest();
  return (header) =>
    timingSafeEqual(
      createHash('sha256')
        .update(header ?? '')
        .digest(),
      want,
    );
}

type Route = (ctx: Context) => Promise<void> | void;

/** API routes by exact path; `/api/v1/label/<name>/values` is matched apart. */
const ROUTES: Record<string, Route> = {
  '/api/v1/series': seriesEndpoint,
  '/api/v1/labels': labelsEndpoint,
  '/api/v1/query': queryEndpoint,
  '/api/v1/query_range': queryRangeEndpoint,
  '/api/v1/read': remoteReadEndpoint,
  '/metrics': metricsEndpoint,
  '/api/rondo/info': infoEndpoint,
  '/api/rondo/series': seriesListEndpoint,
  '/api/rondo/query': rondoQueryEndpoint,
};

function route(path: string): Route | undefined {
  const exact = ROUTES[path];
  if (exact) return exact;
  const m = /^\/api\/v1\/label\/([^/]+)\/values$/.exec(path);
  if (!m) return undefined;
  let name: string;
  try {
    name = decodeURIComponent(m[1]!);
  } catch {
    return undefined;
  }
  return (ctx) => labelValuesEndpoint(ctx, name);
}

/** Answers malformed and timed-out requests with a JSON error before closing the connection. */
function onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const big = err.code === 'HPE_HEADER_OVERFLOW';
  const [status, text] = timeout
    ? [408, 'Request Timeout']
    : big
      ? [431, 'Request Header Fields Too Large']
      : [400, 'Bad Request'];
  const body = JSON.stringify({
    status: 'error',
    errorType: timeout ? 'timeout' : 'bad_data',
    error: timeout ? 'the request did not arrive in time' : `malformed request: ${err.code ?? err.message}`,
  });
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Checks `options` as {@link serve} does, without a store or a socket (ERR_RONDO_CONFIG), e.g.
 * so a command line can refuse bad options before it opens anything; returns them resolved.
 */
export function checkServeOptions(options: ServeOptions = {}): {
  host: string;
  port: number;
  timeout: number;
  limits: Limits;
} {
  if (options === null || typeof options !== 'object')
    throw new RondoError(
      'ERR_RONDO_CONFIG',
      "serve: options must be an object like { listen: '127.0.0.1:9464' }",
    );
  const { host, port } = parseListen(options.listen ?? '127.0.0.1:9464');
  const { token } = options;
  if (token !== undefined && (typeof token !== 'string' || !/^[\x21-\x7e]+$/.test(token)))
    throw new RondoError(
      'ERR_RONDO_CONFIG',
      'serve: token must be a non-empty string of printable ASCII without spaces',
    );
  if (token === undefined && !isLoopback(host))
    throw new RondoError(
      'ERR_RONDO_CONFIG',
      `serve: listening on ${host} exposes the store beyond this machine: give a token (--token) or listen on 127.0.0.1`,
    );
  const timeout = parseTimerDuration(options.requestTimeout ?? '30s', 'serve requestTimeout');
  return { host, port, timeout, limits: checkLimits(options.limits) };
}

/**
 * Serves `store` over HTTP: the dashboard at `/`, Prometheus' `/api/v1` for selectors,
 * `/api/v1/read` (remote read), `/metrics`, and `/api/rondo/*`. ERR_RONDO_CONFIG for bad
 * options (a non-loopback address without a token among them), ERR_RONDO_IO when it cannot
 * listen. See docs/serve.md.
 */
export async function serve(store: Store, options: ServeOptions = {}): Promise<RondoServer> {
  const { host, port, timeout, limits } = checkServeOptions(options);
  store.newestEnd(); // ERR_RONDO_CLOSED now rather than on every request
  const handle = handler(
    store,
    limits,
    options.dashboard === false ? new Map() : loadAssets(),
    options.token,
  );
  const server: Server = createServer(
    {
      requestTimeout: timeout,
      headersTimeout: Math.min(timeout, 10_000),
      keepAliveTimeout: Math.min(timeout, 5_000),
      // How often Node checks the two timeouts above (default 30 s would let a slow client linger).
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(timeout / 4))),
    },
    (req, res) => {
      handle(req, res).catch((err: unknown) => sendError(res, toHttpError(err)));
    },
  );
  // Idle sockets, e.g. a client that stops reading a response; later than the request timeout so
  // a slow request gets its 408 rather than a silent close.
  server.timeout = timeout + 1000;
  server.on('clientError', onClientError);
  const actualPort = await listen(server, host, port);
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${urlHost}:${actualPort}/`,
    host,
    port: actualPort,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** The request handler: dashboard files first (no token), then the API routes behind the token. */
function handler(
  store: Store,
  limits: Limits,
  assets: ReturnType<typeof loadAssets>,
  token: string | undefined,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const authorized = tokenChecker(token);
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://rondo.invalid');
    const method = req.method ?? 'GET';
    if (
      (method === 'GET' || method === 'HEAD') &&
      sendAsset(assets, url.pathname, req.headers['if-none-match'], res)
    )
      return;
    const found = route(url.pathname);
    if (!found) throw new HttpError(404, `no such endpoint: ${url.pathname}`);
    if (!authorized(req.headers.authorization))
      throw new HttpError(401, 'missing or wrong bearer token (send Authorization: Bearer <token>)', {
        'WWW-Authenticate': 'Bearer realm="rondo"',
      });
    await found({ req, res, url, store, limits });
  };
}

/** Listens; resolves with the port (the chosen one for port 0), or ERR_RONDO_IO. */
function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException): void =>
      reject(
        new RondoError(
          'ERR_RONDO_IO',
          `serve: cannot listen on ${host}:${port}: ${err.code ?? err.message}`,
          {
            cause: err,
          },
        ),
      );
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}
