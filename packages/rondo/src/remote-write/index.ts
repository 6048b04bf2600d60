/**
 * Prometheus remote-write export: `import { RemoteWriter, startPush } from 'rondo/remote-write'`.
 * See docs/export.md.
 */

export { validateCursorName } from '../cursors.js';
export { promLabels, sanitizeLabelName, sanitizeMetricName } from './labels.js';
export { encodeWriteRequest, type PromLabel, type PromSeries } from './protobuf.js';
export { Pusher, type PushOptions, type PushStats, startPush } from './push.js';
export { snappyCompress } from './snappy.js';
export {
  type PushBatch,
  type PushCallOptions,
  PushError,
  type PushEvent,
  type PushSeries,
  parseRetryAfter,
  RemoteWriter,
  type RemoteWriterOptions,
  USER_AGENT,
  type WriterStats,
} from './writer.js';
