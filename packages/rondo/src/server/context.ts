/** What a request handler gets: the request, the response, the store and the server's limits. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Store } from '../index.js';

/** The bounds a server enforces (see ServeOptions). */
export interface Limits {
  /** Largest form body of a GET/POST API request, bytes. */
  maxFormBytes: number;
  /** Largest compressed remote-read request, bytes. */
  maxReadBytes: number;
  /** Largest remote-read request once decompressed, bytes. */
  maxReadDecodedBytes: number;
  /** Points per series a range query returns unless it passes `max_points` (Prometheus' 11,000). */
  defaultPointsPerSeries: number;
  /** Most `max_points` may ask for. */
  maxPointsPerSeries: number;
  /** Most points (or remote-read samples) one response holds. */
  maxPointsPerResponse: number;
}

/** One request being answered. */
export interface Context {
  /** The request. */
  req: IncomingMessage;
  /** The response. */
  res: ServerResponse;
  /** The request URL, parsed. */
  url: URL;
  /** The store served. */
  store: Store;
  /** The server's bounds. */
  limits: Limits;
}

/** An endpoint. */
export type Handler = (ctx: Context) => Promise<void> | void;
