/**
 * An OpenTelemetry metrics exporter that records into a store:
 * `import { RondoMetricExporter } from 'rondo/otel'`, used with @opentelemetry/sdk-metrics'
 * PeriodicExportingMetricReader. The SDK is an optional peer dependency: importing this module
 * without it is ERR_RONDO_MISSING_PEER. See docs/instrument.md.
 */
export { type ExportResultLike, RondoMetricExporter, type RondoMetricExporterOptions } from './exporter.js';
export { type PromKind, promLabelName, promLabels, promMetricName, unitSuffix } from './naming.js';
