// OpenTelemetry names as Prometheus names, by the OpenTelemetry specification's Prometheus
// compatibility rules: invalid characters to `_`, the unit as a suffix (`s` → `_seconds`,
// `By` → `_bytes`, `1` → `_ratio` for gauges), `_total` for monotonic sums.

/** The kind of Prometheus series a metric becomes. */
export type PromKind = 'counter' | 'gauge' | 'histogram';

/** UCUM units as Prometheus spells them in a suffix. */
const UNITS: Readonly<Record<string, string>> = {
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  TiBy: 'tebibytes',
  KBy: 'kilobytes',
  MBy: 'megabytes',
  GBy: 'gigabytes',
  TBy: 'terabytes',
  m: 'meters',
  V: 'volts',
  A: 'amperes',
  J: 'joules',
  W: 'watts',
  g: 'grams',
  Cel: 'celsius',
  Hz: 'hertz',
  '%': 'percent',
};

/** The denominators of `x/y` units. */
const PER: Readonly<Record<string, string>> = {
  s: 'second',
  m: 'minute',
  h: 'hour',
  d: 'day',
  w: 'week',
  mo: 'month',
  y: 'year',
};

/** `s` in the Prometheus metric-name charset: other characters to `_`, runs of `_` as one. */
function clean(s: string): string {
  return s.replace(/[^a-zA-Z0-9_:]+/g, '_').replace(/_{2,}/g, '_');
}

/**
 * The suffix a unit gives a metric name ('' for none): annotations in braces (`{request}`) say
 * nothing Prometheus keeps; `1` is a ratio for gauges and nothing otherwise.
 */
export function unitSuffix(unit: string, kind: PromKind): string {
  const u = unit.replace(/\{[^}]*\}/g, '').trim();
  if (u === '') return '';
  if (u === '1') return kind === 'gauge' ? 'ratio' : '';
  const slash = u.indexOf('/');
  if (slash >= 0) {
    const top = u.slice(0, slash);
    const bottom = u.slice(slash + 1);
    const head = top === '' || top === '1' ? '' : `${UNITS[top] ?? top}_`;
    return clean(`${head}per_${PER[bottom] ?? UNITS[bottom] ?? bottom}`).replace(/^_|_$/g, '');
  }
  return clean(UNITS[u] ?? u).replace(/^_|_$/g, '');
}

/**
 * The Prometheus name of an OpenTelemetry metric: `http.server.duration` with unit `s` is
 * `http_server_duration_seconds`; a monotonic sum `http.requests` with unit `{request}` is
 * `http_requests_total`. A histogram's series add `_bucket`, `_sum` and `_count` to it.
 */
export function promMetricName(name: string, unit: string, kind: PromKind): string {
  let n = clean(name);
  if (/^[0-9]/.test(n)) n = `_${n}`;
  if (kind === 'counter') n = n.replace(/_total$/, '');
  const suffix = unitSuffix(unit, kind);
  if (suffix !== '' && !n.endsWith(`_${suffix}`)) n = `${n}_${suffix}`;
  return kind === 'counter' ? `${n}_total` : n;
}

/** A Prometheus label name for an attribute key: `http.route` → `http_route`, `2xx` → `key_2xx`. */
export function promLabelName(key: string): string {
  const n = key.replace(/[^a-zA-Z0-9_]/g, '_');
  if (/^[0-9]/.test(n)) return `key_${n}`;
  // Names starting with `__` are reserved in Prometheus (and in rondo).
  if (n.startsWith('__')) return `key${n}`;
  return n;
}

/** An attribute value as a label value: strings as they are, numbers and booleans as text, arrays as JSON. */
export function promLabelValue(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/**
 * Attributes as labels: names made valid, values as text; keys that become the same name have
 * their values joined with `;` in the order of the original keys (the specification's rule).
 * Empty values are left out (an empty label is no label).
 */
export function promLabels(attributes: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(attributes).sort()) {
    const value = promLabelValue(attributes[key]);
    if (key === '' || value === undefined || value === '') continue;
    const name = promLabelName(key);
    out[name] = out[name] === undefined ? value : `${out[name]};${value}`;
  }
  return out;
}
