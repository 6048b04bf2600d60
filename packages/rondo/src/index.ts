/**
 * rondo: an embedded round-robin time-series store for Node.js.
 * Public API; see README.md and docs/architecture.md.
 */

export type {
  MaintenanceOptions,
  QueryOptions,
  QueryResult,
  SchemaInfo,
  SeriesHandle,
  SeriesInfo,
  StoreInfo,
  StoreOptions,
  StoreStats,
  TierInfo,
} from './api.js';
export type { RegisterOptions, SeriesSpec } from './catalog/registry.js';
export type { DrainBatch, DrainedSeries, DrainGap, DrainOptions } from './drain.js';
export {
  DURATION_UNITS,
  type Duration,
  formatDuration,
  MAX_TIMER_MS,
  parseDuration,
  parseTimerDuration,
} from './duration.js';
export { isRondoError, RondoError, type RondoErrorCode } from './errors.js';
export { formatSeries, type Labels } from './labels.js';
export { writerActive, writerPid } from './lock.js';
export { metadataExists as storeExists } from './metadata.js';
export type { DroppedSeries, MigrateOptions, MigrateProgress, MigrationResult } from './migrate.js';
export type { CursorNote } from './migrate-cursors.js';
export type { QueryFn } from './rate.js';
export type { Consolidation, Schema, SchemaConfig, Tier, TierConfig } from './schema.js';
export {
  compileMatcher,
  type Matcher,
  type MatchOp,
  parseSelector,
  selectorMatches,
} from './selector.js';
export { Store } from './store.js';
