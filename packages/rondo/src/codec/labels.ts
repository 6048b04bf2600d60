import type { PromLabel } from './protobuf.js';

/** A metric name in the Prometheus charset `[a-zA-Z_:][a-zA-Z0-9_:]*`: other characters become `_`. */
export function sanitizeMetricName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_:]/g, '_');
  return s === '' || /^[0-9]/.test(s) ? `_${s}` : s;
}

/** A label name in the Prometheus charset `[a-zA-Z_][a-zA-Z0-9_]*`: other characters become `_`. */
export function sanitizeLabelName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_]/g, '_');
  return s === '' || /^[0-9]/.test(s) ? `_${s}` : s;
}

/**
 * The Prometheus labels of a series: `__name__` from the sanitized name, the series' labels with
 * sanitized names, then the external labels the series does not carry; sorted by name, no
 * duplicates. When two series labels sanitize to the same name, the one already spelled that
 * way wins, else the first by original name; `__name__` always wins.
 */
export function promLabels(
  name: string,
  labels: Readonly<Record<string, string>>,
  external: readonly PromLabel[] = [],
): PromLabel[] {
  const map = new Map<string, string>([['__name__', sanitizeMetricName(name)]]);
  const keys = Object.keys(labels).sort();
  const mapped = keys.map((k) => ({ key: k, name: sanitizeLabelName(k) }));
  // Names that need no sanitizing first, so `a_b` beats `a.b`.
  mapped.sort((a, b) => Number(a.key !== a.name) - Number(b.key !== b.name));
  for (const { key, name: n } of mapped) {
    const v = labels[key]!;
    if (v !== '' && !map.has(n)) map.set(n, v);
  }
  for (const l of external) if (l.value !== '' && !map.has(l.name)) map.set(l.name, l.value);
  return [...map]
    .map(([n, value]) => ({ name: n, value }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
