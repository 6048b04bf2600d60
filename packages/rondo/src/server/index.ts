/**
 * rondo's HTTP server: `import { serve } from 'rondo/server'`. A dashboard, Prometheus' query
 * API for selectors, Prometheus remote read (full PromQL through a real Prometheus) and a
 * `/metrics` exposition, over an open store. See docs/serve.md.
 */
export type { Limits } from './context.js';
export {
  checkServeOptions,
  DEFAULT_LIMITS,
  type RondoServer,
  type ServeOptions,
  serve,
} from './serve.js';
