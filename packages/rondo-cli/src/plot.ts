/**
 * A line chart drawn with characters: a y-axis with round tick values, a UTC time axis, one
 * glyph (and, on a terminal, one colour) per series, and a legend. Consecutive slots are joined
 * by a line; a missing slot leaves a gap, so holes in the data show.
 */
import { formatTime, paint } from './text.js';

/** One series to draw. */
export interface PlotSeries {
  /** Legend text, e.g. `cpu_usage{host="web1"}`. */
  label: string;
  /** Slot width of the tier the points come from, ms (points further apart are not joined). */
  interval: number;
  /** Times, ms, ascending. */
  timestamps: Float64Array;
  /** Values. */
  values: Float64Array;
  /** Extra legend text, e.g. `tier 0, 3600 points`. */
  note?: string;
}

/** Chart options. */
export interface PlotOptions {
  /** Total width in characters (default 80). */
  width?: number;
  /** Rows of the plotting area (default 16). */
  height?: number;
  /** ANSI colours. */
  colour?: boolean;
  /** Left edge of the time axis, ms (default: the first point). */
  start?: number;
  /** Right edge of the time axis, exclusive, ms (default: just after the last point). */
  end?: number;
}

/** Glyphs per series, distinct without colour. */
const GLYPHS = ['*', '+', 'o', 'x', '#', '@', '%', '=', '&', '$'];
const COLOURS = ['32', '33', '36', '35', '31', '34', '92', '93', '96', '95'];

/** A "nice" step (1, 2 or 5 × 10^k) near `raw`. */
function niceStep(raw: number): number {
  const pow = 10 ** Math.floor(Math.log10(raw));
  const f = raw / pow;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * pow;
}

function decimalsOf(step: number): number {
  return Math.max(0, Math.min(12, -Math.floor(Math.log10(step) + 1e-9)));
}

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
/** Time-axis steps, so ticks fall on round UTC times. */
const TIME_STEPS = [
  1,
  2,
  5,
  10,
  20,
  50,
  100,
  200,
  500,
  S,
  2 * S,
  5 * S,
  10 * S,
  15 * S,
  30 * S,
  M,
  2 * M,
  5 * M,
  10 * M,
  15 * M,
  30 * M,
  H,
  2 * H,
  3 * H,
  6 * H,
  12 * H,
  D,
  2 * D,
  7 * D,
  14 * D,
  30 * D,
  91 * D,
  182 * D,
  365 * D,
];

/** Tick label for a time, as precise as the step needs. */
function timeLabel(ms: number, step: number, span: number): string {
  const iso = formatTime(ms);
  if (step < S) return `${iso.slice(17, 19)}.${String(ms % 1000).padStart(3, '0')}`;
  if (step < M) return iso.slice(11, 19);
  if (step < D) return span >= D ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 16);
  return span >= 365 * D ? iso.slice(0, 10) : iso.slice(5, 10);
}

/** Draws the chart; returns its lines (without newlines). */
export function plot(series: readonly PlotSeries[], options: PlotOptions = {}): string[] {
  const colour = options.colour === true;
  const height = Math.max(4, options.height ?? 16);
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  let lastEnd = Number.NEGATIVE_INFINITY;
  for (const s of series) {
    for (const v of s.values) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const n = s.timestamps.length;
    if (n > 0) {
      first = Math.min(first, s.timestamps[0]!);
      last = Math.max(last, s.timestamps[n - 1]!);
      lastEnd = Math.max(lastEnd, s.timestamps[n - 1]! + s.interval);
    }
  }
  const legend = series.map((s, i) => {
    const glyph = paint(GLYPHS[i % GLYPHS.length]!, COLOURS[i % COLOURS.length]!, colour);
    const note = s.timestamps.length === 0 ? 'no points' : s.note;
    return `  ${glyph} ${s.label}${note ? `  (${note})` : ''}`;
  });
  if (!Number.isFinite(lo)) return ['(no points to plot)', ...legend];

  // Y: round ticks around the data; a flat series gets a band around its value.
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) / 10;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep((hi - lo) / 4);
  const yLo = Math.floor(lo / step) * step;
  const yHi = Math.ceil(hi / step) * step;
  const decimals = decimalsOf(step);
  const rowOf = (v: number): number => Math.round(((yHi - v) / (yHi - yLo)) * (height - 1));
  const ticks = new Map<number, string>();
  for (let t = yLo; t <= yHi + step / 2; t += step) ticks.set(rowOf(t), t.toFixed(decimals));
  const labelWidth = Math.max(...[...ticks.values()].map((l) => l.length));

  // X: the requested window when given, else the data's extent.
  const t0 = Math.min(options.start ?? first, first);
  const t1 = Math.max(options.end ?? lastEnd, last + 1);
  const width = Math.max(20, (options.width ?? 80) - labelWidth - 2);
  const colOf = (t: number): number => Math.min(width - 1, Math.floor(((t - t0) / (t1 - t0)) * width));

  const cells: number[][] = Array.from({ length: height }, () => new Array<number>(width).fill(-1));
  series.forEach((s, si) => {
    let pc = -1;
    let pr = -1;
    let pt = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < s.timestamps.length; k++) {
      const t = s.timestamps[k]!;
      const c = colOf(t);
      const r = rowOf(s.values[k]!);
      if (t - pt <= s.interval) {
        // Join the previous point: step along the longer axis so no cell is skipped.
        const steps = Math.max(Math.abs(c - pc), Math.abs(r - pr), 1);
        for (let j = 1; j <= steps; j++) {
          cells[Math.round(pr + ((r - pr) * j) / steps)]![Math.round(pc + ((c - pc) * j) / steps)] = si;
        }
      } else cells[r]![c] = si;
      pc = c;
      pr = r;
      pt = t;
    }
  });

  const lines: string[] = [];
  for (let r = 0; r < height; r++) {
    const tick = ticks.get(r);
    let row = `${(tick ?? '').padStart(labelWidth)} ${tick === undefined ? '│' : '┤'}`;
    const line = cells[r]!;
    for (let c = 0; c < width; ) {
      // One colour code per run of cells of the same series keeps the output small.
      const si = line[c]!;
      let e = c + 1;
      while (e < width && line[e] === si) e++;
      row +=
        si < 0
          ? ' '.repeat(e - c)
          : paint(GLYPHS[si % GLYPHS.length]!.repeat(e - c), COLOURS[si % COLOURS.length]!, colour);
      c = e;
    }
    lines.push(row.trimEnd());
  }

  // Time axis: ticks on round UTC times, about one per 10 columns, labels centred where they fit.
  const span = t1 - t0;
  const target = Math.max(2, Math.floor(width / 10));
  const tStep = TIME_STEPS.find((st) => span / st <= target) ?? Math.ceil(span / target);
  const axis = new Array<string>(width).fill('─');
  let under = '';
  let free = 0;
  for (let t = Math.ceil(t0 / tStep) * tStep; t < t1; t += tStep) {
    const c = colOf(t);
    axis[c] = '┬';
    const label = timeLabel(t, tStep, span);
    const at = labelWidth + 2 + c - Math.floor(label.length / 2);
    if (at >= free && at + label.length <= labelWidth + 2 + width) {
      under = under.padEnd(at) + label;
      free = at + label.length + 2;
    }
  }
  const axisLine = `${' '.repeat(labelWidth)} └${axis.join('')}`;
  lines.push(axisLine, under.trimEnd());
  lines.push(`${' '.repeat(labelWidth + 2)}${formatTime(t0)} → ${formatTime(t1)} (UTC)`, '', ...legend);
  return lines;
}
