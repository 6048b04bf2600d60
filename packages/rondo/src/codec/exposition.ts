/**
 * The Prometheus text exposition format (version 0.0.4), the writer side: one line per sample,
 * `name{label="value",…} value [timestamp]`, grouped by metric name, each group after one
 * `# TYPE` line: `counter` or `gauge` when all its samples say so, else `untyped`.
 */
import type { PromLabel } from './protobuf.js';

/** The Content-Type of the format. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** One sample to expose. */
export interface ExposedSample {
  /** Labels with `__name__`, in Prometheus' charset (see sanitizeMetricName), sorted by name. */
  labels: readonly PromLabel[];
  /** The value. */
  value: number;
  /** Sample time, ms; omitted, the scraper stamps it with the scrape time. */
  timestampMs?: number;
  /** What the series is; a family whose samples disagree (or say nothing) is `untyped`. */
  type?: 'counter' | 'gauge';
}

/** A label value with `\`, `"` and line feeds escaped, as the format requires. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** A sample value as the format spells it: `NaN`, `+Inf`, `-Inf` or a float. */
export function formatSampleValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

/** Formats samples as one exposition document; samples sharing a name are grouped, names sorted. */
export function formatExposition(samples: readonly ExposedSample[]): string {
  const byName = new Map<string, string[]>();
  const types = new Map<string, string>();
  for (const s of samples) {
    let name = '';
    const parts: string[] = [];
    for (const l of s.labels) {
      if (l.name === '__name__') name = l.value;
      else parts.push(`${l.name}="${escapeLabelValue(l.value)}"`);
    }
    let line = parts.length > 0 ? `${name}{${parts.join(',')}} ` : `${name} `;
    line += formatSampleValue(s.value);
    if (s.timestampMs !== undefined) line += ` ${Math.round(s.timestampMs)}`;
    const type = s.type ?? 'untyped';
    const known = types.get(name);
    types.set(name, known === undefined || known === type ? type : 'untyped');
    let lines = byName.get(name);
    if (lines === undefined) {
      lines = [];
      byName.set(name, lines);
    }
    lines.push(line);
  }
  const out: string[] = [];
  for (const name of [...byName.keys()].sort()) {
    out.push(`# TYPE ${name} ${types.get(name)}`, ...byName.get(name)!);
  }
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}
