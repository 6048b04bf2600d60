/** Time arguments: RFC 3339 instants or epoch milliseconds, and ranges such as `1h` or `all`. */
import { parseDuration } from 'rondo';

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2}))?$/;

/**
 * Parses `2024-05-01T12:00:00Z` (any offset, optional fraction), `2024-05-01` (midnight UTC) or
 * whole epoch milliseconds; null when the text is none of these or names no real date.
 */
export function parseTime(text: string): number | null {
  const t = text.trim();
  if (/^\d+$/.test(t)) {
    const ms = Number(t);
    return Number.isSafeInteger(ms) ? ms : null;
  }
  const m = RFC3339.exec(t);
  if (!m) return null;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m;
  // Date.parse rolls 2024-02-30 over to March; check the fields survive a round trip instead.
  const probe = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
  if (
    probe.getUTCFullYear() !== Number(y) ||
    probe.getUTCMonth() !== Number(mo) - 1 ||
    probe.getUTCDate() !== Number(d) ||
    probe.getUTCHours() !== Number(h) ||
    probe.getUTCMinutes() !== Number(mi) ||
    probe.getUTCSeconds() !== Number(s)
  )
    return null;
  let ms = probe.getTime() + (frac ? Math.floor(Number(`0${frac}`) * 1000) : 0);
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const offH = Number(zone.slice(1, 3));
    const offM = Number(zone.slice(4, 6));
    if (offH > 23 || offM > 59) return null;
    ms -= sign * (offH * 60 + offM) * 60_000;
  }
  return ms;
}

/** Parses a --range value: a duration in ms (`90s`, `1h30m`, `7d`), or null for `all`. */
export function parseRange(text: string): number | null {
  if (text.trim() === 'all') return null;
  return parseDuration(text, '--range');
}
