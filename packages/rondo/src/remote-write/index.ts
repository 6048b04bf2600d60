/**
 * Prometheus remote-write export: `import { RemoteWriter, startPush } from 'rondo/remote-write'`.
 * See docs/export.md.
 */

export { promLabels, sanitizeLabelName, sanitizeMetricName } from '../codec/labels.js';
export { encodeWriteRequest, type PromLabel, type PromSeries } from '../codec/protobuf.js';
export { snappyCompress } from '../codec/snappy.js';
export { validateCursorName } from '../cursors.js';
export { Pusher, type PushOptions, type PushStats, startPush } from './push.js';
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
