/**
 * Prometheus' `/api/v1` JSON, written as strings directly: a day of 1 s points is 86,400
 * `[seconds,"value"]` pairs, and building them as objects first would double the work.
 * Timestamps are float seconds, values strings formatted like Go's `FormatFloat(v, 'f', -1)`.
 */
import type { SeriesInfo } from '../index.js';
import type { SeriesPoints } from './select.js';

/** A value as Prometheus' JSON spells it: shortest round-trip decimal, never an exponent. */
export function formatPromValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  const s = String(v);
  const e = s.indexOf('e');
  if (e < 0) return s;
  // Rewrite d.ddde±x without the exponent: the digits are exact, only the point moves.
  const sign = s[0] === '-' ? '-' : '';
  const mantissa = s.slice(sign.length, e);
  const exp = Number(s.slice(e + 1));
  const point = mantissa.indexOf('.');
  const digits = mantissa.replace('.', '');
  const intLen = (point < 0 ? mantissa.length : point) + exp;
  if (intLen <= 0) return `${sign}0.${'0'.repeat(-intLen)}${digits}`;
  if (intLen >= digits.length) return `${sign}${digits}${'0'.repeat(intLen - digits.length)}`;
  return `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
}

/** `{"status":"success","data":…}` around an already serialised `data`. */
export function success(data: string, warnings: readonly string[] = []): string {
  const w = warnings.length > 0 ? `,"warnings":${JSON.stringify(warnings)}` : '';
  return `{"status":"success","data":${data}${w}}`;
}

/** The label set of a series as Prometheus shows it: `__name__` first, then the labels. */
export function metricJson(s: SeriesInfo): string {
  return JSON.stringify({ __name__: s.name, ...s.labels });
}

/** True when JSON.stringify spells `v` as Prometheus does: finite, and without an exponent. */
function plainDecimal(v: number): boolean {
  const a = Math.abs(v);
  return a < 1e21 && (a >= 1e-6 || a === 0);
}

/**
 * `[[t,"v"],…]` of one series. The fast path lets JSON.stringify write the numbers (V8's native
 * double-to-string, about twice as fast as building each pair), then quotes each value.
 */
function pointsJson(timestamps: Float64Array, values: Float64Array): string {
  const n = timestamps.length;
  if (values.every(plainDecimal)) {
    const pairs = new Array<[number, number]>(n);
    for (let i = 0; i < n; i++) pairs[i] = [timestamps[i]! / 1000, values[i]!];
    // Every pair is [number,number]: quote the second number of each.
    return JSON.stringify(pairs).replace(/,([^,\]]+)\]/g, ',"$1"]');
  }
  const points = new Array<string>(n);
  for (let i = 0; i < n; i++) points[i] = `[${timestamps[i]! / 1000},"${formatPromValue(values[i]!)}"]`;
  return `[${points.join(',')}]`;
}

/** A matrix: one `{"metric":…,"values":[[t,"v"],…]}` per series. */
export function matrixJson(rows: readonly SeriesPoints[]): string {
  const parts: string[] = [];
  for (const { series, result } of rows) {
    parts.push(`{"metric":${metricJson(series)},"values":${pointsJson(result.timestamps, result.values)}}`);
  }
  return `{"resultType":"matrix","result":[${parts.join(',')}]}`;
}

/** A vector: one `{"metric":…,"value":[t,"v"]}` per series that has a value. */
export function vectorJson(rows: readonly { series: SeriesInfo; value: number }[], timeMs: number): string {
  const t = timeMs / 1000;
  const parts = rows.map(
    ({ series, value }) => `{"metric":${metricJson(series)},"value":[${t},"${formatPromValue(value)}"]}`,
  );
  return `{"resultType":"vector","result":[${parts.join(',')}]}`;
}

/** Warnings for ranges a tier's retention did not reach back to. */
export function coverageWarnings(rows: readonly SeriesPoints[]): string[] {
  const short = rows.filter((r) => !r.result.covered).length;
  if (short === 0) return [];
  return [
    `${short} of ${rows.length} series: no tier's retention reaches back to the start; points begin later`,
  ];
}
