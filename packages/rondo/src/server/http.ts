/**
 * The HTTP plumbing every endpoint shares: JSON error bodies (Prometheus' error shape), bounded
 * request bodies, and the parameters of a request (URL query plus a form body, as Prometheus
 * merges them).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isRondoError } from '../index.js';

/** Prometheus' `errorType` for each status this server answers with. */
const ERROR_TYPES: Record<number, string> = {
  400: 'bad_data',
  401: 'unauthorized',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'timeout',
  413: 'too_large',
  415: 'unsupported_media_type',
  500: 'internal',
  503: 'unavailable',
};

/** An error answered as `status` with `{"status":"error","errorType":…,"error":message}`. */
export class HttpError extends Error {
  /** HTTP status. */
  readonly status: number;
  /** Extra response headers (e.g. `Allow`, `WWW-Authenticate`). */
  readonly headers: Record<string, string>;
  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.headers = headers;
  }
}

/** The HttpError for anything thrown by a handler: RondoErrors about the request are 400s. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (isRondoError(err)) {
    switch (err.code) {
      case 'ERR_RONDO_INVALID_SELECTOR':
      case 'ERR_RONDO_INVALID_RANGE':
      case 'ERR_RONDO_INVALID_TIER':
      case 'ERR_RONDO_INVALID_ARGUMENT':
      case 'ERR_RONDO_CONFIG':
        return new HttpError(400, err.message);
      case 'ERR_RONDO_CLOSED':
        return new HttpError(503, `the store is closed: ${err.message}`);
      default:
        return new HttpError(500, `${err.code}: ${err.message}`);
    }
  }
  return new HttpError(500, `internal error: ${err instanceof Error ? err.message : String(err)}`);
}

/** Sends a JSON body (already serialised) with status 200 unless given. */
export function sendJson(res: ServerResponse, body: string, status = 200): void {
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(body);
}

/** Sends the JSON error body of `err`. */
export function sendError(res: ServerResponse, err: HttpError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
  const body = JSON.stringify({
    status: 'error',
    errorType: ERROR_TYPES[err.status] ?? 'internal',
    error: err.message,
  });
  sendJson(res, body, err.status);
}

/**
 * Reads the whole request body, at most `limit` bytes: 413 as soon as Content-Length or the bytes
 * received exceed it (the connection is then closed rather than drained).
 */
export async function readBody(req: IncomingMessage, res: ServerResponse, limit: number): Promise<Buffer> {
  const tooLarge = (): HttpError => {
    res.setHeader('Connection', 'close');
    return new HttpError(413, `request body larger than ${limit} bytes`);
  };
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** The parameters of a request: the URL's query, plus a urlencoded form body for POST. */
export async function requestParams(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  limit: number,
): Promise<URLSearchParams> {
  const params = new URLSearchParams(url.search);
  if (req.method !== 'POST') return params;
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const body = await readBody(req, res, limit);
  if (body.length === 0) return params;
  if (type !== 'application/x-www-form-urlencoded') {
    throw new HttpError(415, `POST bodies must be application/x-www-form-urlencoded, got ${type || 'none'}`);
  }
  for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.append(k, v);
  return params;
}

/** 405 unless the method is one of `allowed` (HEAD counts as GET). */
export function checkMethod(req: IncomingMessage, allowed: readonly string[]): void {
  const method = req.method === 'HEAD' ? 'GET' : (req.method ?? '');
  if (!allowed.includes(method)) {
    throw new HttpError(405, `${req.method} is not allowed here (use ${allowed.join(' or ')})`, {
      Allow: allowed.join(', '),
    });
  }
}
