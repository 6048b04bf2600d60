// @opentelemetry/sdk-metrics, an optional peer dependency, loaded once: without it, importing
// rondo/otel is ERR_RONDO_MISSING_PEER.
import { importPeer } from '../bridge/peer.js';

/** The SDK's enums the exporter needs (AggregationTemporality, DataPointType). */
export const sdk = await importPeer(
  () => import('@opentelemetry/sdk-metrics'),
  '@opentelemetry/sdk-metrics',
  'rondo/otel',
);
