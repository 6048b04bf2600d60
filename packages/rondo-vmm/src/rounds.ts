/**
 * The sampling clock: one round per second, each at the same offset into its second, so every
 * round lands in its own 1 s slot of the store (a drifting setInterval would now and then put
 * two rounds in one slot and none in the next). A late round is not repeated: the next one
 * aims at the next boundary.
 */

/** Starts rounds every `everyMs` at `offsetMs` past each multiple of `everyMs`; returns stop(). */
export function startRounds(everyMs: number, offsetMs: number, round: (n: number) => void): () => void {
  let timer: NodeJS.Timeout | null = null;
  let n = 0;
  let lastSlot = Number.NEGATIVE_INFINITY;
  let stopped = false;
  const slotOf = (t: number): number => Math.floor((t - offsetMs) / everyMs);
  const schedule = (): void => {
    const now = Date.now();
    timer = setTimeout(tick, (slotOf(now) + 1) * everyMs + offsetMs - now);
    timer.unref();
  };
  const tick = (): void => {
    if (stopped) return;
    const slot = slotOf(Date.now());
    // The wall clock may disagree a little with the timer's monotonic clock: one round per slot.
    if (slot !== lastSlot) {
      lastSlot = slot;
      try {
        round(n++);
      } finally {
        if (!stopped) schedule();
      }
    } else schedule();
  };
  schedule();
  return () => {
    stopped = true;
    if (timer !== null) clearTimeout(timer);
  };
}
