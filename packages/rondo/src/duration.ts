import { RondoError } from './errors.js';

/** Milliseconds of each duration unit rondo reads: ms, s, m, h, d, w. */
export const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** A duration: whole milliseconds as a number, or a string such as `'500ms'`, `'10s'`, `'6h'`, `'1w'`. */
export type Duration = number | string;

/**
 * Parses a duration into whole milliseconds. Compound strings (`'1h30m'`) are accepted.
 * Throws ERR_RONDO_CONFIG naming `what` when the value is not a positive whole number of ms.
 */
export function parseDuration(value: Duration, what: string): number {
  let ms: number;
  if (typeof value === 'number') {
    ms = value;
  } else if (typeof value === 'string') {
    const text = value.trim();
    const re = /(\d+)(?:\.(\d+))?(ms|s|m|h|d|w)/gy;
    ms = 0;
    let consumed = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const unit = DURATION_UNITS[m[3]!]!;
      // Scale the fraction as an integer: 2.3 * 3600000 is 8279999.999999999 in doubles.
      const frac = m[2] ?? '';
      ms += Number(m[1]) * unit + (Number(frac || '0') * unit) / 10 ** frac.length;
      consumed = re.lastIndex;
    }
    if (text.length === 0 || consumed !== text.length) {
      throw new RondoError(
        'ERR_RONDO_CONFIG',
        `${what}: cannot parse duration ${JSON.stringify(value)} (use e.g. 500ms, 1s, 10m, 6h, 7d, 1w or a number of ms)`,
      );
    }
  } else {
    throw new RondoError(
      'ERR_RONDO_CONFIG',
      `${what}: a duration must be a number of ms or a string like '10s'`,
    );
  }
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    throw new RondoError(
      'ERR_RONDO_CONFIG',
      `${what}: ${String(value)} is not a positive whole number of milliseconds`,
    );
  }
  return ms;
}

/** The longest delay a Node timer keeps: above it, setTimeout/setInterval silently use 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Parses a duration that will be a timer delay or a timeout: like {@link parseDuration}, and
 * ERR_RONDO_CONFIG above {@link MAX_TIMER_MS} (about 24.8 days), which Node would turn into 1 ms.
 */
export function parseTimerDuration(value: Duration, what: string): number {
  const ms = parseDuration(value, what);
  if (ms > MAX_TIMER_MS) {
    throw new RondoError(
      'ERR_RONDO_CONFIG',
      `${what}: ${String(value)} is longer than a timer can wait (at most ${MAX_TIMER_MS} ms, about 24.8 days)`,
    );
  }
  return ms;
}

/** Formats milliseconds as the shortest exact duration string (`600000` → `'10m'`). */
export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    const size = DURATION_UNITS[unit]!;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
