import { readFileSync } from 'node:fs';
import { promLabels, sanitizeLabelName } from '../codec/labels.js';
import { encodeWriteRequest, type PromLabel, type PromSeries } from '../codec/protobuf.js';
import { snappyCompress } from '../codec/snappy.js';
import { type Duration, parseTimerDuration, RondoError } from '../index.js';

/** rondo's version, from its own package.json (two levels above dist/remote-write/ and src/remote-write/). */
const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** The User-Agent sent with every request: `rondo-remote-write/<version of the rondo package>`. */
export const USER_AGENT = `rondo-remote-write/${VERSION}`;

/** A series to push: what `Store.drain` returns in `batch.series` fits. */
export interface PushSeries {
  /** Metric name (sanitized on the way out). */
  name: string;
  /** Labels (names sanitized on the way out). */
  labels: Readonly<Record<string, string>>;
  /** Sample times, ms. */
  timestamps: ArrayLike<number>;
  /** Sample values. */
  values: ArrayLike<number>;
}

/** What {@link RemoteWriter.push} takes: a drained batch, or anything with `series`. */
export interface PushBatch {
  /** Series to push. */
  series: readonly PushSeries[];
}

/**
 * Something that happened during a push, for logs and metrics. From startPush only: `pushed`
 * ends a push that drained something (`series` counts distinct series over its batches),
 * `nothing` one that found nothing new, `gap`, and `error`/`fatal` for a failed push.
 */
export type PushEvent =
  | { type: 'sent'; status: number; samples: number; series: number; bytes: number }
  | { type: 'retry'; attempt: number; delayMs: number; status: number | null; message: string }
  | { type: 'split'; status: 413 | 400; samples: number }
  | { type: 'dropped'; status: number; samples: number; message: string }
  | { type: 'pushed'; samples: number; series: number; batches: number; durationMs: number; final: boolean }
  | { type: 'nothing'; durationMs: number; final: boolean }
  | { type: 'gap'; slots: number; series: number }
  | { type: 'error'; error: Error }
  | { type: 'fatal'; error: Error };

/** Options of one {@link RemoteWriter.push} call. */
export interface PushCallOptions {
  /**
   * Aborts the push: a backoff or Retry-After wait ends at once, a request in flight is cancelled,
   * and push() rejects with a retryable {@link PushError}. What was not accepted stays the caller's.
   */
  signal?: AbortSignal;
}

/** Options of {@link RemoteWriter}. */
export interface RemoteWriterOptions {
  /** Remote-write endpoint, e.g. http://127.0.0.1:9090/api/v1/write. */
  url: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Labels added to every series that does not carry a label of the same name. */
  externalLabels?: Record<string, string>;
  /** Sent as `Authorization: Bearer <token>`. */
  bearerToken?: string;
  /** Sent as `Authorization: Basic …`. */
  basicAuth?: { username: string; password: string };
  /** Per-request timeout; default '30s'. */
  timeout?: Duration;
  /** Retries of one request after a 5xx, 429, timeout or network error; default 10. */
  maxRetries?: number;
  /** First backoff delay, ms or duration; default '30ms'; 0 retries at once (tests). */
  minBackoff?: Duration;
  /** Longest backoff delay; default '5s'. */
  maxBackoff?: Duration;
  /** Longest Retry-After honoured (longer ones are cut to this); default '1m'. */
  maxRetryAfter?: Duration;
  /** Samples per request; larger batches are sent as several requests; default 5000. */
  maxSamplesPerRequest?: number;
  /** Called with every {@link PushEvent}; default: nothing. */
  onEvent?: (event: PushEvent) => void;
}

/** Counters of a {@link RemoteWriter} since it was made. */
export interface WriterStats {
  /** HTTP requests sent (attempts included). */
  requests: number;
  /** Samples the receiver accepted. */
  samples: number;
  /** Retries after 5xx, 429, timeouts and network errors. */
  retries: number;
  /** Requests answered with 413 and split. */
  splits: number;
  /** Requests answered with 400 and split to find the samples the receiver refuses. */
  bisections: number;
  /** Samples dropped because the receiver answered 400 (after bisecting). */
  dropped400: number;
  /** Samples dropped because a single sample was still too large (413). */
  droppedTooLarge: number;
  /** Compressed bytes the receiver accepted. */
  bytes: number;
}

/** A failed push: the data was not (all) delivered and must be kept. */
export class PushError extends RondoError {
  /** HTTP status, or null for a network error or timeout. */
  readonly status: number | null;
  /** True when retrying later may succeed (5xx, 429, network); false for 401, 403, 404 and other 4xx. */
  readonly retryable: boolean;

  constructor(message: string, status: number | null, retryable: boolean, options?: { cause?: unknown }) {
    super('ERR_RONDO_PUSH', message, options);
    this.name = 'PushError';
    this.status = status;
    this.retryable = retryable;
  }
}

function durationOrZero(v: Duration | undefined, fallback: number, what: string): number {
  if (v === undefined) return fallback;
  if (v === 0) return 0;
  return parseTimerDuration(v, what);
}

/** The most of an error response's body that is read (the message keeps 512 characters of it). */
const ERROR_BODY_BYTES = 4096;

/** Reads at most `max` bytes of a response body as text, then cancels the rest. */
async function readBodyHead(res: Response, max: number): Promise<string> {
  if (res.body === null) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    // A body longer than `max` (or one that never ends) is not waited for.
    if (size >= max) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
}

/** Parses a Retry-After header (seconds or an HTTP date) into ms; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

interface Attempt {
  status: number | null;
  message: string;
  retryAfter: string | null;
}

/**
 * Requests that bisecting a request of `samples` samples refused with a 400 may send in its exact
 * (oldest first) phase; its narrowing phase sends at most as many again (docs/export.md).
 */
export function bisectBudget(samples: number): number {
  return 2 * Math.ceil(Math.log2(Math.max(samples, 2))) + 8;
}

/** Waits `ms`, or less when `signal` aborts (the caller checks it). */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

function reasonOf(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  return r instanceof Error ? r.message : r === undefined ? 'aborted' : String(r);
}

/** The receiver's URL, checked: http or https. */
function endpoint(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RondoError('ERR_RONDO_CONFIG', `RemoteWriter: url ${JSON.stringify(text)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new RondoError('ERR_RONDO_CONFIG', `RemoteWriter: url must be http(s), got ${url.protocol}`);
  return url.href;
}

/** The headers of every request: the protocol's, then the caller's, then authentication. */
function requestHeaders(options: RemoteWriterOptions): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Encoding': 'snappy',
    'Content-Type': 'application/x-protobuf',
    'X-Prometheus-Remote-Write-Version': '0.1.0',
    'User-Agent': USER_AGENT,
    ...options.headers,
  };
  if (options.bearerToken !== undefined) headers['Authorization'] = `Bearer ${options.bearerToken}`;
  if (options.basicAuth !== undefined) {
    const { username, password } = options.basicAuth;
    headers['Authorization'] = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }
  return headers;
}

/** External labels, sanitized (a label given already sanitized wins over one that maps to it). */
function externalLabels(labels: Record<string, string>): PromLabel[] {
  const ext = new Map<string, string>();
  for (const [k, v] of Object.entries(labels)) {
    if (typeof v !== 'string')
      throw new RondoError('ERR_RONDO_CONFIG', `RemoteWriter: external label ${k} must be a string`);
    const n = sanitizeLabelName(k);
    if (n.startsWith('__'))
      throw new RondoError(
        'ERR_RONDO_CONFIG',
        `RemoteWriter: external label ${k} is reserved (starts with __)`,
      );
    if (!ext.has(n) || k === n) ext.set(n, v);
  }
  return [...ext].map(([name, value]) => ({ name, value }));
}

/**
 * A Prometheus remote-write v1 client: protobuf WriteRequest, snappy block compression, retries
 * with exponential backoff and jitter, 413 splitting, 400 bisecting and dropping. One instance may push many
 * batches; pushes may not overlap (startPush serialises them).
 */
export class RemoteWriter {
  /** Counters since construction. */
  readonly stats: WriterStats = {
    requests: 0,
    samples: 0,
    retries: 0,
    splits: 0,
    bisections: 0,
    dropped400: 0,
    droppedTooLarge: 0,
    bytes: 0,
  };
  private readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly external: PromLabel[];
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly minBackoff: number;
  private readonly maxBackoff: number;
  private readonly maxRetryAfter: number;
  private readonly perRequest: number;
  private readonly onEvent: (event: PushEvent) => void;

  constructor(options: RemoteWriterOptions) {
    if (options === null || typeof options !== 'object')
      throw new RondoError('ERR_RONDO_CONFIG', 'RemoteWriter: options must be an object');
    this.url = endpoint(options.url);
    this.headers = requestHeaders(options);
    this.external = externalLabels(options.externalLabels ?? {});
    this.timeoutMs = parseTimerDuration(options.timeout ?? '30s', 'RemoteWriter timeout');
    this.maxRetries = options.maxRetries ?? 10;
    if (!Number.isInteger(this.maxRetries) || this.maxRetries < 0)
      throw new RondoError('ERR_RONDO_CONFIG', 'RemoteWriter: maxRetries must be a whole number ≥ 0');
    this.minBackoff = durationOrZero(options.minBackoff, 30, 'RemoteWriter minBackoff');
    this.maxBackoff = durationOrZero(options.maxBackoff, 5000, 'RemoteWriter maxBackoff');
    this.maxRetryAfter = durationOrZero(options.maxRetryAfter, 60_000, 'RemoteWriter maxRetryAfter');
    this.perRequest = options.maxSamplesPerRequest ?? 5000;
    if (!Number.isInteger(this.perRequest) || this.perRequest < 1)
      throw new RondoError(
        'ERR_RONDO_CONFIG',
        'RemoteWriter: maxSamplesPerRequest must be a whole number ≥ 1',
      );
    this.onEvent = options.onEvent ?? (() => {});
  }

  /**
   * Sends every point of `batch`; resolves once each was accepted, or refused with a 400 (a
   * refused request is bisected so only the refused samples are dropped, counted and reported as
   * `dropped` events). Rejects with a {@link PushError} when some point could not be delivered,
   * or when `options.signal` aborted: the caller keeps the batch (does not commit) and pushes it
   * again later. A batch the receiver could never take (a timestamp that is not a whole number
   * of ms, or timestamps and values of different lengths) rejects before anything is sent, with a
   * PushError that is not retryable.
   */
  async push(batch: PushBatch, options: PushCallOptions = {}): Promise<void> {
    const { signal } = options;
    for (const s of batch.series) {
      if (s.timestamps.length !== s.values.length)
        throw new PushError(
          `remote write: series ${s.name} has ${s.timestamps.length} timestamps but ${s.values.length} values`,
          null,
          false,
        );
      for (let i = 0; i < s.timestamps.length; i++) {
        const t = s.timestamps[i]!;
        if (!Number.isSafeInteger(t))
          throw new PushError(
            `remote write: timestamp ${t} of series ${s.name} is not a whole number of ms`,
            null,
            false,
          );
      }
    }
    const requests: PromSeries[][] = [];
    let current: PromSeries[] = [];
    let room = this.perRequest;
    for (const s of batch.series) {
      const labels = promLabels(s.name, s.labels, this.external);
      const n = s.timestamps.length;
      for (let i = 0; i < n; ) {
        const take = Math.min(room, n - i);
        current.push({
          labels,
          timestamps: slice(s.timestamps, i, i + take),
          values: slice(s.values, i, i + take),
        });
        i += take;
        room -= take;
        if (room === 0) {
          requests.push(current);
          current = [];
          room = this.perRequest;
        }
      }
    }
    if (current.length > 0) requests.push(current);
    for (const req of requests) await this.send(req, signal);
  }

  private abortError(signal: AbortSignal): PushError {
    return new PushError(`remote write to ${this.url} aborted: ${reasonOf(signal)}`, null, true, {
      cause: signal.reason,
    });
  }

  /** Sends `series`; a 400 is bisected so that only the refused samples are dropped. */
  private async send(series: PromSeries[], signal: AbortSignal | undefined): Promise<void> {
    const refused = await this.request(series, signal);
    if (refused !== null) await this.bisect(series, refused, signal);
  }

  private drop(samples: number, message: string): void {
    this.stats.dropped400 += samples;
    this.onEvent({ type: 'dropped', status: 400, samples, message });
  }

  /**
   * Finds the samples of a request refused with a 400 that the receiver takes. Prometheus refuses
   * a whole request for one sample out of bounds (before its head window) or out of order, and
   * refuses a sample older than one it already has of the series, so the parts go oldest first:
   * sending newer samples first would make the older, acceptable ones out of order. That exact
   * phase costs about two requests per refused sample, so it is bounded ({@link bisectBudget});
   * what is left then is narrowed newest half first, assuming the refused samples are the oldest
   * (a receiver's time window, or samples it already has): at most two requests per halving, at
   * the risk of losing acceptable samples older than an accepted newer half (out of order then).
   */
  private async bisect(
    series: PromSeries[],
    message: string,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    let budget = bisectBudget(countSamples(series));
    // Parts oldest last (popped first); message null: not sent yet.
    const todo: { series: PromSeries[]; message: string | null }[] = [{ series, message }];
    while (todo.length > 0) {
      const item = todo.pop()!;
      let refused = item.message;
      if (refused === null) {
        if (budget <= 0) {
          todo.push(item);
          break;
        }
        budget--;
        refused = await this.request(item.series, signal);
        if (refused === null) continue;
      }
      const samples = countSamples(item.series);
      if (samples <= 1) {
        this.drop(samples, refused);
        continue;
      }
      this.stats.bisections++;
      this.onEvent({ type: 'split', status: 400, samples });
      const [older, newer] = bisect(item.series, samples);
      todo.push({ series: newer, message: null }, { series: older, message: null });
    }
    if (todo.length === 0) return;
    // Narrowing phase, on the parts not sent yet (contiguous in time, the newest of the request).
    let chunk = merge(todo.reverse().map((t) => t.series));
    let refused = await this.request(chunk, signal);
    while (refused !== null) {
      const samples = countSamples(chunk);
      if (samples <= 1) return this.drop(samples, refused);
      this.stats.bisections++;
      this.onEvent({ type: 'split', status: 400, samples });
      const [older, newer] = bisect(chunk, samples);
      const newerRefused = await this.request(newer, signal);
      if (newerRefused !== null) {
        this.drop(countSamples(older), `${refused} (not sent again: older than refused samples)`);
        chunk = newer;
        refused = newerRefused;
      } else {
        // The newer half went in; the older one holds the refused samples, maybe acceptable ones.
        chunk = older;
        refused = await this.request(older, signal);
      }
    }
  }

  /**
   * One request, with retries and 413 halving: null once accepted (or handled in parts), or the
   * receiver's message when it answered 400 (it then stored none of it).
   */
  private async request(series: PromSeries[], signal: AbortSignal | undefined): Promise<string | null> {
    const samples = countSamples(series);
    const body = snappyCompress(encodeWriteRequest(series));
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw this.abortError(signal);
      const res = await this.attempt(body, signal);
      const { status } = res;
      if (status !== null && status >= 200 && status < 300) {
        this.stats.samples += samples;
        this.stats.bytes += body.length;
        this.onEvent({ type: 'sent', status, samples, series: series.length, bytes: body.length });
        return null;
      }
      if (status === 413) {
        await this.tooLarge(series, samples, res, signal);
        return null;
      }
      if (status === 400) return res.message;
      if (status === null && signal?.aborted) throw this.abortError(signal);
      this.checkRetry(res, attempt);
      await this.backOff(res, attempt, signal);
    }
  }

  /** A 413: halves the request and sends each half (a single sample that is still too large is dropped). */
  private async tooLarge(
    series: PromSeries[],
    samples: number,
    res: Attempt,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (samples <= 1) {
      this.stats.droppedTooLarge += samples;
      this.onEvent({ type: 'dropped', status: 413, samples, message: res.message });
      return;
    }
    this.stats.splits++;
    this.onEvent({ type: 'split', status: 413, samples });
    const [a, b] = halve(series, samples);
    await this.send(a, signal);
    await this.send(b, signal);
  }

  /** Throws a PushError unless the answer is worth another attempt and attempts are left. */
  private checkRetry(res: Attempt, attempt: number): void {
    const { status } = res;
    const detail = res.message ? `: ${res.message}` : '';
    const retryable = status === null || status >= 500 || status === 429 || status === 408;
    if (!retryable) {
      const hint =
        status === 401 || status === 403
          ? ' (check the credentials)'
          : status === 404
            ? ' (check the URL path, e.g. /api/v1/write)'
            : '';
      throw new PushError(
        `remote write to ${this.url} failed: HTTP ${status}${detail}${hint}`,
        status,
        false,
      );
    }
    if (attempt >= this.maxRetries) {
      const what = status === null ? res.message : `HTTP ${status}${detail}`;
      throw new PushError(
        `remote write to ${this.url} failed after ${attempt + 1} attempt${attempt === 0 ? '' : 's'}: ${what}`,
        status,
        true,
      );
    }
  }

  /** Waits before the next attempt: exponential backoff with jitter, or the receiver's Retry-After. */
  private async backOff(res: Attempt, attempt: number, signal: AbortSignal | undefined): Promise<void> {
    const base = Math.min(this.maxBackoff, this.minBackoff * 2 ** attempt);
    let delayMs = base / 2 + (Math.random() * base) / 2;
    const after = parseRetryAfter(res.retryAfter);
    if (after !== null) delayMs = Math.min(after, this.maxRetryAfter);
    this.stats.retries++;
    this.onEvent({ type: 'retry', attempt: attempt + 1, delayMs, status: res.status, message: res.message });
    await sleep(delayMs, signal);
  }

  private async attempt(body: Buffer, signal: AbortSignal | undefined): Promise<Attempt> {
    this.stats.requests++;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    const cancel = (): void => controller.abort();
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      const res = await fetch(this.url, {
        method: 'POST',
        headers: this.headers,
        body,
        signal: controller.signal,
      });
      // Read the body, at most ERROR_BODY_BYTES of it, so errors can be reported.
      const text = await readBodyHead(res, ERROR_BODY_BYTES);
      return {
        status: res.status,
        message: text.trim().slice(0, 512),
        retryAfter: res.headers.get('retry-after'),
      };
    } catch (err) {
      const message = signal?.aborted
        ? reasonOf(signal)
        : controller.signal.aborted
          ? `timed out after ${this.timeoutMs} ms`
          : `${(err as Error).message}${(err as { cause?: Error }).cause ? `: ${(err as { cause: Error }).cause.message}` : ''}`;
      return { status: null, message, retryAfter: null };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', cancel);
    }
  }
}

function slice(a: ArrayLike<number>, from: number, to: number): ArrayLike<number> {
  if (from === 0 && to === a.length) return a;
  if (a instanceof Float64Array) return a.subarray(from, to);
  return Array.prototype.slice.call(a, from, to) as number[];
}

function countSamples(series: readonly PromSeries[]): number {
  let n = 0;
  for (const s of series) n += s.timestamps.length;
  return n;
}

/**
 * Splits a request refused with a 400 in two, [older, newer]: at the median timestamp, within
 * each series, so samples outside a receiver's time window separate from the rest; when every
 * sample has the same timestamp, by series (or the one series' samples) as {@link halve} does.
 */
function bisect(series: PromSeries[], samples: number): [PromSeries[], PromSeries[]] {
  const all = new Float64Array(samples);
  let n = 0;
  for (const s of series) for (let i = 0; i < s.timestamps.length; i++) all[n++] = s.timestamps[i]!;
  all.sort();
  const min = all[0]!;
  let cut = all[samples >> 1]!;
  // Many samples at the smallest time: cut just above it, so the older half is not empty.
  if (cut === min) cut = all.find((t) => t > min) ?? min;
  if (cut === min) return halve(series, samples);
  const older: PromSeries[] = [];
  const newer: PromSeries[] = [];
  for (const s of series) {
    const o: PromSeries = { labels: s.labels, timestamps: [] as number[], values: [] as number[] };
    const w: PromSeries = { labels: s.labels, timestamps: [] as number[], values: [] as number[] };
    for (let i = 0; i < s.timestamps.length; i++) {
      const part = s.timestamps[i]! < cut ? o : w;
      (part.timestamps as number[]).push(s.timestamps[i]!);
      (part.values as number[]).push(s.values[i]!);
    }
    if (o.timestamps.length > 0) older.push(o);
    if (w.timestamps.length > 0) newer.push(w);
  }
  return [older, newer];
}

/** Joins parts of a request (oldest first) into one, a series per label set. */
function merge(parts: PromSeries[][]): PromSeries[] {
  const out = new Map<PromLabel[], { labels: PromLabel[]; timestamps: number[]; values: number[] }>();
  for (const part of parts) {
    for (const s of part) {
      let m = out.get(s.labels);
      if (m === undefined) out.set(s.labels, (m = { labels: s.labels, timestamps: [], values: [] }));
      for (let i = 0; i < s.timestamps.length; i++) {
        m.timestamps.push(s.timestamps[i]!);
        m.values.push(s.values[i]!);
      }
    }
  }
  return [...out.values()];
}

/** Splits a request in two: by series when it has several, else the one series' samples. */
function halve(series: PromSeries[], samples: number): [PromSeries[], PromSeries[]] {
  if (series.length > 1) {
    // Cut where the first half reaches half the samples, keeping at least one series each side.
    let acc = 0;
    let cut = 1;
    for (; cut < series.length - 1; cut++) {
      acc += series[cut - 1]!.timestamps.length;
      if (acc >= samples / 2) break;
    }
    return [series.slice(0, cut), series.slice(cut)];
  }
  const s = series[0]!;
  const mid = Math.floor(s.timestamps.length / 2);
  return [
    [{ labels: s.labels, timestamps: slice(s.timestamps, 0, mid), values: slice(s.values, 0, mid) }],
    [
      {
        labels: s.labels,
        timestamps: slice(s.timestamps, mid, s.timestamps.length),
        values: slice(s.values, mid, s.values.length),
      },
    ],
  ];
}
