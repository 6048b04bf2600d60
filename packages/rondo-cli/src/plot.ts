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

/** The data's extent: value range, first and last time, and the end of the last slot. */
interface Extent {
  lo: number;
  hi: number;
  first: number;
  last: number;
  lastEnd: number;
}

function extentOf(series: readonly PlotSeries[]): Extent {
  const e = {
    lo: Number.POSITIVE_INFINITY,
    hi: Number.NEGATIVE_INFINITY,
    first: Number.POSITIVE_INFINITY,
    last: Number.NEGATIVE_INFINITY,
    lastEnd: Number.NEGATIVE_INFINITY,
  };
  for (const s of series) {
    for (const v of s.values) {
      e.lo = Math.min(e.lo, v);
      e.hi = Math.max(e.hi, v);
    }
    const n = s.timestamps.length;
    if (n > 0) {
      const newest = s.timestamps[n - 1] ?? 0;
      e.first = Math.min(e.first, s.timestamps[0] ?? 0);
      e.last = Math.max(e.last, newest);
      e.lastEnd = Math.max(e.lastEnd, newest + s.interval);
    }
  }
  return e;
}

/** The y-axis: round ticks around the data (a flat series gets a band around its value). */
interface YAxis {
  /** Row (0 at the top) of a value. */
  rowOf(v: number): number;
  /** Tick labels by row. */
  ticks: Map<number, string>;
  /** Width of the widest tick label. */
  labelWidth: number;
}

function yAxis(lo: number, hi: number, height: number): YAxis {
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
  return { rowOf, ticks, labelWidth };
}

/** The time axis: its span and the column of a time. */
interface XAxis {
  t0: number;
  t1: number;
  width: number;
  colOf(t: number): number;
}

/** The requested window when given (widened to hold every point), else the data's extent. */
function xAxis(e: Extent, options: PlotOptions, labelWidth: number): XAxis {
  const t0 = Math.min(options.start ?? e.first, e.first);
  const t1 = Math.max(options.end ?? e.lastEnd, e.last + 1);
  const width = Math.max(20, (options.width ?? 80) - labelWidth - 2);
  const colOf = (t: number): number => Math.min(width - 1, Math.floor(((t - t0) / (t1 - t0)) * width));
  return { t0, t1, width, colOf };
}

/** The plotting area: per cell, the index of the series drawn there, or -1. */
function drawCells(series: readonly PlotSeries[], y: YAxis, x: XAxis, height: number): Int32Array[] {
  const cells = Array.from({ length: height }, () => new Int32Array(x.width).fill(-1));
  const set = (r: number, c: number, si: number): void => {
    const row = cells[r];
    if (row !== undefined) row[c] = si;
  };
  series.forEach((s, si) => {
    let pc = -1;
    let pr = -1;
    let pt = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < s.timestamps.length; k++) {
      const t = s.timestamps[k] ?? 0;
      const c = x.colOf(t);
      const r = y.rowOf(s.values[k] ?? 0);
      if (t - pt <= s.interval) {
        // Join the previous point: step along the longer axis so no cell is skipped.
        const steps = Math.max(Math.abs(c - pc), Math.abs(r - pr), 1);
        for (let j = 1; j <= steps; j++)
          set(Math.round(pr + ((r - pr) * j) / steps), Math.round(pc + ((c - pc) * j) / steps), si);
      } else set(r, c, si);
      pc = c;
      pr = r;
      pt = t;
    }
  });
  return cells;
}

/** The glyph of series `si`, coloured when `colour`, repeated `n` times. */
function glyphs(si: number, n: number, colour: boolean): string {
  const glyph = GLYPHS[si % GLYPHS.length] ?? '*';
  return paint(glyph.repeat(n), COLOURS[si % COLOURS.length] ?? '0', colour);
}

/** The rows of the chart, each with its y tick or axis line. */
function renderRows(cells: readonly Int32Array[], y: YAxis, colour: boolean): string[] {
  return cells.map((line, r) => {
    const tick = y.ticks.get(r);
    let row = `${(tick ?? '').padStart(y.labelWidth)} ${tick === undefined ? '│' : '┤'}`;
    for (let c = 0; c < line.length; ) {
      // One colour code per run of cells of the same series keeps the output small.
      const si = line[c] ?? -1;
      let e = c + 1;
      while (e < line.length && line[e] === si) e++;
      row += si < 0 ? ' '.repeat(e - c) : glyphs(si, e - c, colour);
      c = e;
    }
    return row.trimEnd();
  });
}

/** The time axis: ticks on round UTC times, about one per 10 columns, labels centred where they fit. */
function timeAxis(x: XAxis, labelWidth: number): string[] {
  const span = x.t1 - x.t0;
  const target = Math.max(2, Math.floor(x.width / 10));
  const tStep = TIME_STEPS.find((st) => span / st <= target) ?? Math.ceil(span / target);
  const axis = new Array<string>(x.width).fill('─');
  let under = '';
  let free = 0;
  for (let t = Math.ceil(x.t0 / tStep) * tStep; t < x.t1; t += tStep) {
    const c = x.colOf(t);
    axis[c] = '┬';
    const label = timeLabel(t, tStep, span);
    const at = labelWidth + 2 + c - Math.floor(label.length / 2);
    if (at >= free && at + label.length <= labelWidth + 2 + x.width) {
      under = under.padEnd(at) + label;
      free = at + label.length + 2;
    }
  }
  return [
    `${' '.repeat(labelWidth)} └${axis.join('')}`,
    under.trimEnd(),
    `${' '.repeat(labelWidth + 2)}${formatTime(x.t0)} → ${formatTime(x.t1)} (UTC)`,
  ];
}

/** Draws the chart; returns its lines (without newlines). */
export function plot(series: readonly PlotSeries[], options: PlotOptions = {}): string[] {
  const colour = options.colour === true;
  const height = Math.max(4, options.height ?? 16);
  const legend = series.map((s, i) => {
    const note = s.timestamps.length === 0 ? 'no points' : s.note;
    return `  ${glyphs(i, 1, colour)} ${s.label}${note ? `  (${note})` : ''}`;
  });
  const e = extentOf(series);
  if (!Number.isFinite(e.lo)) return ['(no points to plot)', ...legend];
  const y = yAxis(e.lo, e.hi, height);
  const x = xAxis(e, options, y.labelWidth);
  const rows = renderRows(drawCells(series, y, x, height), y, colour);
  return [...rows, ...timeAxis(x, y.labelWidth), '', ...legend];
}
