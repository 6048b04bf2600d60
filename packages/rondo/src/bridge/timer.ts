// The sampling loop of the runtime collector and the prom-client bridge: one sample now, then one
// per interval on an unreferenced timer, never two at once, stopping by itself with the store.
import { isRondoError, type Store } from '../index.js';

/** What {@link startSampling} runs. */
export interface SamplingTask {
  /** Takes one sample; a returned promise makes later ticks wait (they are skipped) until it settles. */
  sample(): undefined | Promise<unknown>;
  /** Called once when sampling stops (by stop(), or because the store was closed). */
  stopped(): void;
}

/**
 * Runs `task.sample()` now and then every `every` ms on an unreferenced timer (it never keeps the
 * process alive) and returns stop(). A tick while an asynchronous sample still runs is skipped.
 * Errors go to `onError`, except that of a closed store: sampling then stops quietly, since a
 * program closes its store when it is done with it.
 */
export function startSampling(
  store: Store,
  every: number,
  task: SamplingTask,
  onError: (err: unknown) => void,
): () => void {
  let busy = false;
  let done = false;
  const stop = (): void => {
    if (done) return;
    done = true;
    clearInterval(timer);
    task.stopped();
  };
  const fail = (err: unknown): void => {
    if (store.isClosed || isRondoError(err, 'ERR_RONDO_CLOSED')) stop();
    else if (!done) onError(err);
  };
  const tick = (): void => {
    if (done || busy) return;
    if (store.isClosed) {
      stop();
      return;
    }
    try {
      const pending = task.sample();
      if (pending === undefined) return;
      busy = true;
      pending.then(
        () => {
          busy = false;
        },
        (err: unknown) => {
          busy = false;
          fail(err);
        },
      );
    } catch (err) {
      fail(err);
    }
  };
  const timer = setInterval(tick, every);
  timer.unref();
  tick();
  return stop;
}
