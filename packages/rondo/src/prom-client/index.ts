/**
 * A prom-client registry recorded into a store every second: `import { recordRegistry } from
 * 'rondo/prom-client'`. prom-client is an optional peer dependency: importing this module without
 * it is ERR_RONDO_MISSING_PEER. See docs/instrument.md.
 */
import { checkStore, warn } from '../bridge/options.js';
import { importPeer } from '../bridge/peer.js';
import { startSampling } from '../bridge/timer.js';
import { type Duration, parseTimerDuration, type Store } from '../index.js';
import { checkOptions } from '../validate.js';
import { type PromRegistry, RegistryRecorder, type RegistryRecorderOptions } from './recorder.js';

export {
  type PromMetricJson,
  type PromRegistry,
  promSeriesType,
  RegistryRecorder,
  type RegistryRecorderOptions,
} from './recorder.js';

const promClient = await importPeer(() => import('prom-client'), 'prom-client', 'rondo/prom-client');

/** Options of {@link recordRegistry}. */
export interface RecordRegistryOptions extends RegistryRecorderOptions {
  /** How often to sample; default '1s'. */
  every?: Duration;
}

/**
 * Records prom-client's `registry` (default: prom-client's global `register`) into `store` now
 * and then every `every`, on an unreferenced timer; returns stop(). New label sets are
 * registered as they appear; those that disappear are left to the store's retirement
 * (`retireAfter`). Errors go to `onError` (default: process.emitWarning); sampling stops by
 * itself when the store is closed.
 */
export function recordRegistry(
  store: Store,
  registry: PromRegistry = promClient.register,
  options: RecordRegistryOptions = {},
): () => void {
  checkStore('recordRegistry', store);
  checkOptions('recordRegistry', options, ['every', 'labels', 'onError']);
  const every = parseTimerDuration(options.every ?? '1s', 'recordRegistry every');
  const onError = options.onError ?? warn;
  const { every: _every, ...rest } = options;
  const recorder = new RegistryRecorder(store, registry, rest);
  return startSampling(
    store,
    every,
    { sample: () => recorder.sample(Date.now()), stopped: () => recorder.close() },
    onError,
  );
}
