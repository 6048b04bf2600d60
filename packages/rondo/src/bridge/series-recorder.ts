// The series a collector or bridge writes, and one sampling round of their values: registered in
// one journal write as they appear, recorded with one recordBatch() at one timestamp, and
// registered again when the store retired them meanwhile.
import { isRondoError, type Labels, RondoError, type SeriesHandle, type Store } from '../index.js';

/** Series type, as Store.register takes it. */
export type SeriesType = 'gauge' | 'counter';

/** One series known to the recorder. */
interface Entry {
  name: string;
  labels: Labels;
  type: SeriesType;
  /** Its handle, or -1 while it is not registered. */
  handle: SeriesHandle;
  /** When the store last refused to register it (ms, the round's time), or -Infinity. */
  refusedAt: number;
}

/** How long a series the store refused (full schema, no matching schema) waits before the next try. */
const RETRY_REFUSED_MS = 60_000;

/**
 * The series of one collector and the values of the current round. `slot()` names a series (no
 * store call), `set()` gives it a value for this round, and `record(t)` registers the series that
 * are new (one registerMany) and records the round with one recordBatch() at `t`.
 */
export class SeriesRecorder {
  private readonly entries: Entry[] = [];
  private readonly byKey = new Map<string, number>();
  private readonly slots: number[] = [];
  private readonly values: number[] = [];
  private readonly handles: number[] = [];
  private readonly batch: number[] = [];

  /** `onError` hears of series the store refuses to register (each at most once a minute). */
  constructor(
    private readonly store: Store,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** The slot of a series (the same for the same name and labels), made on first use. */
  slot(name: string, labels: Labels, type: SeriesType): number {
    const keys = Object.keys(labels).sort();
    let key = name;
    for (const k of keys) key += `\u0000${k}\u0000${labels[k]}`;
    const known = this.byKey.get(key);
    if (known !== undefined) return known;
    const slot = this.entries.length;
    this.entries.push({ name, labels, type, handle: -1, refusedAt: Number.NEGATIVE_INFINITY });
    this.byKey.set(key, slot);
    return slot;
  }

  /** Gives the series in `slot` a value for this round (a value that is not finite records nothing). */
  set(slot: number, value: number): void {
    this.slots.push(slot);
    this.values.push(Number.isFinite(value) ? value : Number.NaN);
  }

  /**
   * Registers the series not registered yet, all in one journal write; throws what the store
   * throws when it refuses them (a collector that knows its series up front calls this first).
   */
  registerAll(): void {
    const fresh = this.entries.filter((e) => e.handle < 0);
    if (fresh.length > 0) this.registerMany(fresh);
  }

  /** Registers `list` in one journal write and gives each entry its handle; throws what the store throws. */
  private registerMany(list: Entry[]): void {
    const handles = this.store.registerMany(
      list.map((e) => ({ name: e.name, labels: e.labels, type: e.type })),
    );
    list.forEach((e, i) => {
      e.handle = handles[i]!;
    });
  }

  /**
   * Records this round's values at `t` (ms) and starts a new round; returns the points recorded
   * (values that are not finite record none and are not counted).
   */
  record(t: number): number {
    try {
      this.registerNew(t);
      this.collect();
      try {
        this.store.recordBatch(this.handles, this.batch, t);
      } catch (err) {
        if (!isRondoError(err, 'ERR_RONDO_INVALID_HANDLE')) throw err;
        // The store retired some of the series (retire(), retireAfter): register them again.
        this.renewRetired();
        this.registerNew(t);
        this.collect();
        this.store.recordBatch(this.handles, this.batch, t);
      }
      let points = 0;
      for (const v of this.batch) if (!Number.isNaN(v)) points++;
      return points;
    } finally {
      this.slots.length = 0;
      this.values.length = 0;
    }
  }

  /** This round's handles and values, in `handles` and `batch`, leaving out unregistered series. */
  private collect(): void {
    this.handles.length = 0;
    this.batch.length = 0;
    for (let i = 0; i < this.slots.length; i++) {
      const e = this.entries[this.slots[i]!]!;
      if (e.handle < 0) continue;
      this.handles.push(e.handle);
      this.batch.push(this.values[i]!);
    }
  }

  /**
   * Registers the series of this round that have no handle, together; when the store refuses
   * that, one by one, so that one refused series (a full schema, say) does not hold the others
   * back. Refused series are tried again a minute later; `onError` hears of them once per round.
   */
  private registerNew(t: number): void {
    const fresh = new Set<Entry>();
    for (const s of this.slots) {
      const e = this.entries[s]!;
      if (e.handle < 0 && t - e.refusedAt >= RETRY_REFUSED_MS) fresh.add(e);
    }
    if (fresh.size === 0) return;
    const list = [...fresh];
    try {
      this.registerMany(list);
      return;
    } catch (err) {
      if (!refusal(err)) throw err;
    }
    let refused: RondoError | undefined;
    let count = 0;
    for (const e of list) {
      try {
        e.handle = this.store.register(e.name, e.labels, { type: e.type });
      } catch (err) {
        if (!refusal(err)) throw err;
        e.refusedAt = t;
        refused ??= err;
        count++;
      }
    }
    if (refused !== undefined) {
      const more = count > 1 ? ` (and ${count - 1} more series)` : '';
      this.onError(
        new RondoError(refused.code, `${refused.message}${more}; not recorded, tried again in a minute`, {
          cause: refused,
        }),
      );
    }
  }

  /** Forgets the handles of series the store no longer has live (they are registered anew). */
  private renewRetired(): void {
    for (const e of this.entries) {
      if (e.handle >= 0 && this.store.lookup(e.name, e.labels) !== e.handle) e.handle = -1;
    }
  }
}

/** Errors of register() that concern one series, not the store: the others can still be registered. */
function refusal(err: unknown): err is RondoError {
  return (
    err instanceof RondoError &&
    (err.code === 'ERR_RONDO_MAX_SERIES' ||
      err.code === 'ERR_RONDO_NO_MATCHING_SCHEMA' ||
      err.code === 'ERR_RONDO_INVALID_LABEL')
  );
}
