import { type Duration, parseDuration } from './duration.js';
import { RondoError } from './errors.js';
import { fnv1a64 } from './hash.js';
import { type Labels, labelProblem } from './labels.js';
import { checkKeys } from './validate.js';

/** How a coarse tier folds the source points of one window into one value. */
export type Consolidation = 'avg' | 'min' | 'max' | 'last' | 'sum' | 'count';

/** The consolidation functions, in the order their codes are stored. */
export const CONSOLIDATIONS: readonly Consolidation[] = ['avg', 'min', 'max', 'last', 'sum', 'count'];

/** One retention tier as configured by the user. */
export interface TierConfig {
  /** Slot width: ms, or a string like `'1s'`. */
  interval: Duration;
  /** How far back the tier keeps data; a whole multiple of the interval. */
  retention: Duration;
  /** Required on every tier after the first, forbidden on the first. */
  consolidation?: Consolidation;
  /** Fraction (0..1) of a window's source slots that must be known for the window to be known; default 0. */
  xff?: number;
}

/** A schema as configured: which series it takes, how many, and its tiers from fine to coarse. */
export interface SchemaConfig {
  /** Unique name; used in slab file names, so letters, digits, `_`, `-` and `.` only. */
  name: string;
  /** Labels a series must carry (with these values) to use this schema; `{}` or absent = any. */
  match?: Labels;
  /** Series capacity: the number of value columns in each slab. */
  maxSeries: number;
  /** Tiers from the finest to the coarsest. */
  tiers: TierConfig[];
  /**
   * Retire a series that has had no point for this long (store time), freeing its column once
   * its data has aged out; default: never. A policy, not part of the layout: it can change on reopen.
   */
  retireAfter?: Duration | null;
}

/** A validated tier, all durations in ms. */
export interface Tier {
  /** Slot width in ms. */
  readonly interval: number;
  /** Retention in ms (= interval × slots). */
  readonly retention: number;
  /** Number of slots in the ring. */
  readonly slots: number;
  /** Consolidation function; null on tier 0. */
  readonly consolidation: Consolidation | null;
  /** Minimum fraction of known source slots for a known window (0 on tier 0). */
  readonly xff: number;
}

/** A validated schema. */
export interface Schema {
  /** Schema name. */
  readonly name: string;
  /** Required labels, sorted by key. */
  readonly match: Readonly<Record<string, string>>;
  /** Series capacity. */
  readonly maxSeries: number;
  /** Tiers, fine to coarse. */
  readonly tiers: readonly Tier[];
  /** Idle time (ms) after which a series is retired automatically, or null for never. */
  readonly retireAfter: number | null;
}

const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
/** Upper bound on one slab file, so a typo in a retention cannot fill the disk. */
export const MAX_SLAB_BYTES = 2 ** 40;
/** Upper bound on series per schema (a header field is u32; this keeps files sane). */
export const MAX_SERIES_CAPACITY = 1 << 20;

function configError(message: string): RondoError {
  return new RondoError('ERR_RONDO_CONFIG', message);
}

/** The keys a schema configuration may have. */
const SCHEMA_KEYS = ['name', 'match', 'maxSeries', 'tiers', 'retireAfter'] as const;
/** The keys a tier configuration may have. */
const TIER_KEYS = ['interval', 'retention', 'consolidation', 'xff'] as const;

/** Validates one schema configuration; throws ERR_RONDO_CONFIG naming the rule it breaks. */
export function normalizeSchema(config: SchemaConfig, headerBytes: number): Schema {
  if (config === null || typeof config !== 'object' || Array.isArray(config))
    throw configError('a schema must be an object');
  const { name } = config;
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw configError(
      `schema name ${JSON.stringify(name)} must be 1-64 characters of letters, digits, "_", "-" or "." (it names files)`,
    );
  }
  checkKeys('ERR_RONDO_CONFIG', `schema ${name}`, config, SCHEMA_KEYS, {
    retention: 'retention belongs to each tier: tiers: [{ interval, retention }]',
    interval: 'interval belongs to each tier: tiers: [{ interval, retention }]',
  });
  const match = normalizeMatch(name, config.match);
  const { maxSeries } = config;
  if (!Number.isInteger(maxSeries) || maxSeries < 1 || maxSeries > MAX_SERIES_CAPACITY) {
    throw configError(`schema ${name}: maxSeries must be a whole number from 1 to ${MAX_SERIES_CAPACITY}`);
  }
  if (!Array.isArray(config.tiers) || config.tiers.length === 0) {
    throw configError(`schema ${name}: tiers must be a non-empty array`);
  }
  const tiers = config.tiers.map((t, i) =>
    normalizeTier(`schema ${name} tier ${i}`, t, i, maxSeries, headerBytes),
  );
  checkTierChain(name, tiers);
  const retireAfter =
    config.retireAfter === undefined || config.retireAfter === null
      ? null
      : parseDuration(config.retireAfter, `schema ${name} retireAfter`);
  return { name, match, maxSeries, tiers, retireAfter };
}

/** The schema's `match` labels, sorted by key; each must be a label a series could carry. */
function normalizeMatch(schema: string, config: unknown): Record<string, string> {
  const match: Record<string, string> = {};
  if (config === undefined) return match;
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw configError(`schema ${schema}: match must be an object of label values`);
  }
  for (const key of Object.keys(config).sort()) {
    const value = (config as Record<string, unknown>)[key];
    // A matcher no series label could satisfy would make the schema unreachable.
    const problem = labelProblem(key, value);
    if (problem) throw configError(`schema ${schema}: match: ${problem}`);
    match[key] = value as string;
  }
  return match;
}

/** Validates tier `i` of a schema (`where` names it in messages). */
function normalizeTier(
  where: string,
  t: TierConfig,
  i: number,
  maxSeries: number,
  headerBytes: number,
): Tier {
  if (t === null || typeof t !== 'object' || Array.isArray(t))
    throw configError(`${where}: a tier must be an object`);
  checkKeys('ERR_RONDO_CONFIG', where, t, TIER_KEYS, {
    consolidate: 'the option is named consolidation',
    fn: 'the option is named consolidation',
  });
  const interval = parseDuration(t.interval, `${where} interval`);
  const retention = parseDuration(t.retention, `${where} retention`);
  if (retention % interval !== 0) {
    throw configError(
      `${where}: retention (${retention} ms) must be a whole multiple of the interval (${interval} ms)`,
    );
  }
  const slots = retention / interval;
  if (slots < 2) throw configError(`${where}: retention must hold at least 2 intervals`);
  if (headerBytes + slots * (1 + maxSeries) * 8 > MAX_SLAB_BYTES) {
    throw configError(`${where}: ${slots} slots × ${maxSeries} series makes a slab larger than 1 TiB`);
  }
  const consolidation = tierConsolidation(where, t, i);
  const xff = t.xff ?? 0;
  if (typeof xff !== 'number' || !(xff >= 0 && xff <= 1))
    throw configError(`${where}: xff must be a number from 0 to 1`);
  return { interval, retention, slots, consolidation, xff };
}

/** Tier 0 takes no consolidation (nor xff); every later tier needs one of CONSOLIDATIONS. */
function tierConsolidation(where: string, t: TierConfig, i: number): Consolidation | null {
  if (i === 0) {
    if (t.consolidation !== undefined) {
      throw configError(`${where}: the first tier holds raw points and takes no consolidation`);
    }
    if (t.xff !== undefined) throw configError(`${where}: the first tier takes no xff`);
    return null;
  }
  if (t.consolidation === undefined) {
    throw configError(`${where}: consolidation is required (one of ${CONSOLIDATIONS.join(', ')})`);
  }
  if (!CONSOLIDATIONS.includes(t.consolidation)) {
    throw configError(
      `${where}: consolidation ${JSON.stringify(t.consolidation)} is not one of ${CONSOLIDATIONS.join(', ')}`,
    );
  }
  return t.consolidation;
}

/** Each tier's interval is a whole multiple of the one before, and each tier keeps two of the next one's windows. */
function checkTierChain(name: string, tiers: readonly Tier[]): void {
  for (let i = 1; i < tiers.length; i++) {
    const prev = tiers[i - 1]!;
    const cur = tiers[i]!;
    if (cur.interval <= prev.interval) {
      throw configError(`schema ${name} tier ${i}: intervals must strictly increase from tier to tier`);
    }
    if (cur.interval % prev.interval !== 0) {
      throw configError(
        `schema ${name} tier ${i}: the interval (${cur.interval} ms) must be a whole multiple of tier ${i - 1}'s (${prev.interval} ms)`,
      );
    }
    if (prev.retention < 2 * cur.interval) {
      throw configError(
        `schema ${name} tier ${i - 1}: retention (${prev.retention} ms) must keep at least two of tier ${i}'s windows (≥ ${2 * cur.interval} ms)`,
      );
    }
  }
}

/** Validates a schema list: at least one schema, unique names. */
export function normalizeSchemas(configs: readonly SchemaConfig[], headerBytes: number): Schema[] {
  if (!Array.isArray(configs) || configs.length === 0) throw configError('schemas must be a non-empty array');
  const schemas = configs.map((c) => normalizeSchema(c, headerBytes));
  const seen = new Set<string>();
  for (const s of schemas) {
    if (seen.has(s.name)) throw configError(`schema name ${s.name} is used twice`);
    seen.add(s.name);
  }
  return schemas;
}

/** The canonical JSON of a schema: the bytes its hash is computed over (see docs/storage-format.md). */
export function canonicalSchemaJson(schema: Schema, legacyOrder = false): string {
  // Sorted explicitly: an object lists integer-like keys ("9", "10") first whatever their order.
  const match = Object.entries(schema.match);
  if (!legacyOrder) match.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify({
    name: schema.name,
    match,
    maxSeries: schema.maxSeries,
    tiers: schema.tiers.map((t) => ({
      interval: t.interval,
      retention: t.retention,
      consolidation: t.consolidation,
      xff: t.xff,
    })),
  });
}

/** FNV-1a 64 of the schema's canonical JSON in UTF-8. */
export function schemaHash(schema: Schema): bigint {
  return fnv1a64(new TextEncoder().encode(canonicalSchemaJson(schema)));
}

/**
 * The hash rondo before 0.2 wrote for `schema`: the same but for `match` keys that look like
 * integers, which it listed first (JavaScript's key order). Slabs with it still open.
 */
export function legacySchemaHash(schema: Schema): bigint {
  return fnv1a64(new TextEncoder().encode(canonicalSchemaJson(schema, true)));
}

/** True when `labels` carry every label of the schema's `match` with the same value. */
export function schemaMatches(schema: Schema, labels: Labels): boolean {
  for (const key in schema.match) if (labels[key] !== schema.match[key]) return false;
  return true;
}

/** Converts a validated schema back to the configuration form (for metadata and display). */
export function schemaToConfig(schema: Schema): SchemaConfig {
  return {
    name: schema.name,
    match: { ...schema.match },
    maxSeries: schema.maxSeries,
    tiers: schema.tiers.map((t, i) =>
      i === 0
        ? { interval: t.interval, retention: t.retention }
        : { interval: t.interval, retention: t.retention, consolidation: t.consolidation!, xff: t.xff },
    ),
    ...(schema.retireAfter === null ? {} : { retireAfter: schema.retireAfter }),
  };
}

/** FNV-1a 64 over the canonical JSON of every schema, one per line: what a journal belongs to. */
export function schemasHash(schemas: readonly Schema[]): bigint {
  return fnv1a64(new TextEncoder().encode(schemas.map((s) => canonicalSchemaJson(s)).join('\n')));
}
