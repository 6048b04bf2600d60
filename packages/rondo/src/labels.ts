import { RondoError } from './errors.js';

/** A series' labels: non-empty string keys (not starting with `__`) to non-empty string values. */
export type Labels = Readonly<Record<string, string>>;

/**
 * What is wrong with one label (key and value), or undefined: keys and values must be non-empty
 * strings, and keys starting with `__` are reserved. Shared by series labels and schema matchers.
 */
export function labelProblem(key: string, value: unknown): string | undefined {
  if (key.length === 0) return 'a label key is empty';
  if (key.startsWith('__')) return `label key ${JSON.stringify(key)} starts with "__", which is reserved`;
  if (typeof value !== 'string' || value.length === 0) {
    return `label ${JSON.stringify(key)} must have a non-empty string value, got ${JSON.stringify(value)}`;
  }
  return undefined;
}

/** Checks a metric name and its labels; returns the labels as a new object sorted by key. */
export function normalizeSeries(
  name: unknown,
  labels: unknown,
): { name: string; labels: Record<string, string> } {
  if (typeof name !== 'string' || name.length === 0) {
    throw new RondoError(
      'ERR_RONDO_INVALID_LABEL',
      `series name must be a non-empty string, got ${JSON.stringify(name)}`,
    );
  }
  if (labels === undefined || labels === null) return { name, labels: {} };
  if (typeof labels !== 'object' || Array.isArray(labels)) {
    throw new RondoError('ERR_RONDO_INVALID_LABEL', `labels of ${name} must be an object of strings`);
  }
  const sorted: Record<string, string> = {};
  for (const key of Object.keys(labels).sort()) {
    const value = (labels as Record<string, unknown>)[key];
    const problem = labelProblem(key, value);
    if (problem) throw new RondoError('ERR_RONDO_INVALID_LABEL', `${name}: ${problem}`);
    sorted[key] = value as string;
  }
  return { name, labels: sorted };
}

/** The identity of a series: its name and sorted labels, as one string. */
export function seriesKey(name: string, sortedLabels: Labels): string {
  return JSON.stringify([name, Object.entries(sortedLabels)]);
}

/** Formats a series Prometheus-style: `cpu_usage{host="web1"}`. */
export function formatSeries(name: string, labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return parts.length ? `${name}{${parts.join(',')}}` : name;
}
