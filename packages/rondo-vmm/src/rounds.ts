/**
 * The sampling clock: one round per 1 s slot of the store, each at the same offset into its
 * slot, so every round lands in a slot of its own (a drifting setInterval would now and then put
 * two rounds in one slot and none in the next). A round that comes late stays in its slot as long
 * as it is less than `everyMs - offsetMs` late; later than that it counts the slots it skipped,
 * and the next round aims at the next slot: never two rounds in one slot.
 */

/** What a round knows about itself. */
export interface Round {
  /** Rounds before this one. */
  n: number;
  /** The slot (time / everyMs) it samples. */
  slot: number;
  /** Slots since the previous round that got no round (the process had no CPU, or was blocked). */
  skipped: number;
  /** How late it came after its slot's start + offset, ms. */
  lateMs: number;
}

/** Starts rounds every `everyMs` at `offsetMs` past each multiple of `everyMs`; returns stop(). */
export function startRounds(everyMs: number, offsetMs: number, round: (r: Round) => void): () => void {
  let timer: NodeJS.Timeout | null = null;
  let n = 0;
  let lastSlot: number | null = null;
  let stopped = false;
  const schedule = (slot: number): void => {
    timer = setTimeout(tick, Math.max(0, slot * everyMs + offsetMs - Date.now()));
    timer.unref();
  };
  const tick = (): void => {
    if (stopped) return;
    const now = Date.now();
    const slot = Math.floor(now / everyMs);
    // Early (the wall clock and the timer's monotonic clock disagree a little), or this slot has
    // had its round already: wait for the next slot's turn.
    if (slot === lastSlot || now - slot * everyMs < offsetMs) {
      schedule(slot === lastSlot ? slot + 1 : slot);
      return;
    }
    const skipped = lastSlot === null ? 0 : slot - lastSlot - 1;
    lastSlot = slot;
    try {
      round({ n: n++, slot, skipped, lateMs: now - slot * everyMs - offsetMs });
    } finally {
      if (!stopped) schedule(slot + 1);
    }
  };
  schedule(Math.floor(Date.now() / everyMs) + 1);
  return () => {
    stopped = true;
    if (timer !== null) clearTimeout(timer);
  };
}
