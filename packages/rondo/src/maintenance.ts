// The maintenance timer: consolidate() on an unreferenced interval, never keeping the process alive.
import type { MaintenanceOptions } from './api.js';
import { parseTimerDuration } from './duration.js';
import { checkOptions } from './validate.js';

/**
 * Runs `consolidate` every `options.every` (default 1 s) on an unreferenced timer and returns
 * stop(). Errors go to `options.onError` (default: process.emitWarning). `running` tracks the
 * stop functions so that closing the store stops them all.
 */
export function startMaintenanceTimer(
  consolidate: () => void,
  options: MaintenanceOptions,
  running: Set<() => void>,
): () => void {
  checkOptions('startMaintenance', options, ['every', 'onError']);
  const every = parseTimerDuration(options.every ?? '1s', 'startMaintenance every');
  const onError = options.onError ?? ((err: unknown) => process.emitWarning(err as Error));
  const timer = setInterval(() => {
    try {
      consolidate();
    } catch (err) {
      onError(err);
    }
  }, every);
  timer.unref();
  const stop = (): void => {
    clearInterval(timer);
    running.delete(stop);
  };
  running.add(stop);
  return stop;
}
