/**
 * rondo: an embedded round-robin time-series store for Node.js.
 * Public API; see README.md and docs/architecture.md.
 */
export type { DrainBatch, DrainedSeries, DrainGap, DrainOptions } from './drain.js';
export {
  type Duration,
  formatDuration,
  MAX_TIMER_MS,
  parseDuration,
  parseTimerDuration,
} from './duration.js';
export { isRondoError, RondoError, type RondoErrorCode } from './errors.js';
export { formatSeries, type Labels } from './labels.js';
export type { Consolidation, Schema, SchemaConfig, Tier, TierConfig } from './schema.js';
export {
  compileMatcher,
  type Matcher,
  type MatchOp,
  parseSelector,
  selectorMatches,
} from './selector.js';
export {
  type MaintenanceOptions,
  type QueryOptions,
  type QueryResult,
  type SchemaInfo,
  type SeriesHandle,
  type SeriesInfo,
  Store,
  type StoreInfo,
  type StoreOptions,
  type StoreStats,
  storeExists,
  type TierInfo,
  writerActive,
  writerPid,
} from './store.js';
