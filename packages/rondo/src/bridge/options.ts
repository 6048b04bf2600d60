// Option checks shared by the runtime collector and the bridges: extra labels, onError and the
// store (option keys are checked by validate.ts's checkOptions, as the store's own options are).
import { type Labels, RondoError, Store } from '../index.js';
import { labelProblem } from '../labels.js';

/**
 * The `labels` option: undefined or an object of non-empty strings whose keys are valid label
 * keys (non-empty, not starting with "__", as Store.register requires) and not in `reserved`
 * (labels the collector sets itself); a copy.
 */
export function labelsOption(what: string, labels: unknown, reserved: readonly string[] = []): Labels {
  if (labels === undefined) return {};
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) {
    throw new RondoError('ERR_RONDO_INVALID_ARGUMENT', `${what}: labels must be an object of strings`);
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) {
    const problem = labelProblem(key, value);
    if (problem !== undefined) throw new RondoError('ERR_RONDO_INVALID_LABEL', `${what}: ${problem}`);
    if (reserved.includes(key)) {
      throw new RondoError(
        'ERR_RONDO_INVALID_LABEL',
        `${what}: label ${JSON.stringify(key)} is set by the collector itself; choose another name`,
      );
    }
    out[key] = value as string;
  }
  return out;
}

/** The default of an `onError` option: a process warning, as store.startMaintenance() does. */
export function warn(err: unknown): void {
  process.emitWarning(err instanceof Error ? err : new Error(String(err)));
}

/** ERR_RONDO_INVALID_ARGUMENT unless `store` is a Store open as a writer. */
export function checkStore(what: string, store: unknown): asserts store is Store {
  if (!(store instanceof Store)) {
    throw new RondoError(
      'ERR_RONDO_INVALID_ARGUMENT',
      `${what}: expected a Store (from Store.open), got ${typeof store}`,
    );
  }
  if (store.readOnly) {
    throw new RondoError(
      'ERR_RONDO_READ_ONLY',
      `${what}: store ${store.dir} is open read-only; it needs the writer`,
    );
  }
}
