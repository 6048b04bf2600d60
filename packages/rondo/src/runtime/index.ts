/**
 * The process's runtime metrics, recorded every second into a store:
 * `import { recordRuntimeMetrics } from 'rondo/runtime'`. See docs/instrument.md.
 */
import { checkStore, warn } from '../bridge/options.js';
import { startSampling } from '../bridge/timer.js';
import { type Duration, parseTimerDuration, type Store } from '../index.js';
import { checkOptions } from '../validate.js';
import { RuntimeMetrics, type RuntimeMetricsOptions } from './sampler.js';

export { RUNTIME_METRICS, type RuntimeMetric } from './list.js';
export { RuntimeMetrics, type RuntimeMetricsOptions } from './sampler.js';

/** Options of {@link recordRuntimeMetrics}. */
export interface RecordRuntimeOptions extends RuntimeMetricsOptions {
  /** How often to sample; default '1s'. */
  every?: Duration;
}

/**
 * Records the process's runtime metrics (CPU, memory, heap spaces, event-loop delay and
 * utilization, GC, handles, file descriptors: see RUNTIME_METRICS) into `store` now and then
 * every `every`, on an unreferenced timer; returns stop(). The series are registered at once
 * (about 60, one journal write), so a store without room fails here, not later. Errors of a
 * sample go to `onError` (default: process.emitWarning); sampling stops by itself when the store
 * is closed.
 */
export function recordRuntimeMetrics(store: Store, options: RecordRuntimeOptions = {}): () => void {
  checkStore('recordRuntimeMetrics', store);
  checkOptions('recordRuntimeMetrics', options, ['every', 'labels', 'onError', 'eventLoopResolution']);
  const every = parseTimerDuration(options.every ?? '1s', 'recordRuntimeMetrics every');
  const onError = options.onError ?? warn;
  const { every: _every, ...rest } = options;
  const sampler = new RuntimeMetrics(store, rest);
  return startSampling(
    store,
    every,
    {
      sample: () => {
        sampler.sample(Date.now());
        return undefined;
      },
      stopped: () => sampler.close(),
    },
    onError,
  );
}
