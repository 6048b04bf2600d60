/** A one-line progress bar on stderr, redrawn in place, drawn only when stderr is a terminal. */
import { useColour } from './cli.js';

/** The bar's callback and the clean-up that erases it. */
export interface ProgressBar {
  /** Redraws the bar for `done` of `total`. */
  onProgress: (done: number, total: number) => void;
  /** Erases the bar (before anything else is printed). */
  clear: () => void;
}

/** A bar labelled `label`, counting `unit`s (e.g. 'calls', 'steps'). */
export function progressBar(label: string, unit: string): ProgressBar {
  const stream = process.stderr;
  if (!stream.isTTY) return { onProgress: () => {}, clear: () => {} };
  const started = Date.now();
  const colour = useColour(stream);
  let drawn = false;
  return {
    onProgress(done, total) {
      const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - 50));
      const frac = total > 0 ? Math.min(1, done / total) : 0;
      const full = Math.round(frac * width);
      const bar = '█'.repeat(full) + '░'.repeat(width - full);
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      const count = `${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${unit}`;
      stream.write(
        `\r\x1b[2K${label} ${colour ? `\x1b[36m${bar}\x1b[0m` : bar} ${(frac * 100).toFixed(0).padStart(3)}%  ${count}  ${secs}s`,
      );
      drawn = true;
    },
    clear() {
      if (drawn) stream.write('\r\x1b[2K');
    },
  };
}
