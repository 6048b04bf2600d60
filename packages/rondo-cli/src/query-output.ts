/**
 * The three text formats of `rondo query` (csv, json, table), written series by series and chunk
 * by chunk: rows are built into large strings and written once per chunk, so the output streams
 * at millions of rows a second with memory that does not grow with the row count.
 */
import { formatDuration, formatSeries, type Store } from 'rondo';
import type { Output } from './cli.js';
import { type PlannedSeries, readChunks } from './series-reader.js';
import { csvField, formatTime, formatValue, plural, TimeFormatter } from './text.js';

/** CSV: a header `time,name,<label keys…>,value`, then one row per point, series after series. */
export async function printCsv(out: Output, store: Store, plans: readonly PlannedSeries[]): Promise<void> {
  const keys = [...new Set(plans.flatMap((p) => Object.keys(p.info.labels)))].sort();
  const column = (k: string): string => (['time', 'name', 'value'].includes(k) ? `label_${k}` : k);
  out.write(`${['time', 'name', ...keys.map(column), 'value'].map(csvField).join(',')}\n`);
  const times = new TimeFormatter();
  for (const plan of plans) {
    const { name, labels } = plan.info;
    // Everything but time and value is the same on every row of a series.
    const middle = `,${[name, ...keys.map((k) => labels[k] ?? '')].map(csvField).join(',')},`;
    for (const { timestamps, values } of readChunks(store, plan)) {
      let text = '';
      for (let k = 0; k < timestamps.length; k++)
        text += `${times.format(timestamps[k] ?? 0)}${middle}${String(values[k])}\n`;
      out.write(text);
      await out.flushIfFull();
    }
  }
}

/** A value as JSON: a number, or Prometheus's "+Inf"/"-Inf" strings (JSON has no infinities). */
function jsonValue(v: number): string {
  if (Number.isFinite(v)) return String(v);
  return v > 0 ? '"+Inf"' : '"-Inf"';
}

/** JSON: `{"series":[…]}` with one series per line, its points as `[t_ms,value]` pairs. */
export async function printJson(out: Output, store: Store, plans: readonly PlannedSeries[]): Promise<void> {
  out.write('{"series":[\n');
  for (const [i, plan] of plans.entries()) {
    const { name, labels } = plan.info;
    const head = JSON.stringify({ name, labels, tier: plan.tier });
    out.write(`${head.slice(0, -1)},"points":[`);
    let first = true;
    for (const { timestamps, values } of readChunks(store, plan)) {
      let text = '';
      for (let k = 0; k < timestamps.length; k++) {
        text += `${first ? '' : ','}[${timestamps[k]},${jsonValue(values[k] ?? 0)}]`;
        first = false;
      }
      out.write(text);
      await out.flushIfFull();
    }
    out.write(`]}${i < plans.length - 1 ? ',' : ''}\n`);
  }
  out.write(']}\n');
}

/** Widths of a series' time and value columns, and its point count: a first pass over its chunks. */
function measure(store: Store, plan: PlannedSeries): { points: number; time: number; value: number } {
  const times = new TimeFormatter();
  const m = { points: 0, time: 'time'.length, value: 'value'.length };
  for (const { timestamps, values } of readChunks(store, plan)) {
    m.points += timestamps.length;
    for (let k = 0; k < timestamps.length; k++) {
      m.time = Math.max(m.time, times.format(timestamps[k] ?? 0).length);
      m.value = Math.max(m.value, formatValue(values[k] ?? 0).length);
    }
  }
  return m;
}

/**
 * Table, for people: per series a heading (series, tier, resolution, points) and aligned time
 * and value columns. Each series is read twice (widths first), so memory stays bounded here too.
 */
export async function printTable(
  out: Output,
  store: Store,
  plans: readonly PlannedSeries[],
  start: number | undefined,
): Promise<void> {
  const times = new TimeFormatter();
  for (const [i, plan] of plans.entries()) {
    if (i > 0) out.write('\n');
    const w = measure(store, plan);
    const series = formatSeries(plan.info.name, plan.info.labels);
    out.write(
      `${series}   tier ${plan.tier} (${formatDuration(plan.interval)})   ${plural(w.points, 'point')}\n`,
    );
    if (!plan.covered && start !== undefined)
      out.write(
        `  (tier ${plan.tier} does not reach back to ${formatTime(start)}: older points have left its retention)\n`,
      );
    if (w.points === 0) continue;
    out.write(`  ${'time'.padEnd(w.time)}  ${'value'.padStart(w.value)}\n`);
    for (const { timestamps, values } of readChunks(store, plan)) {
      let text = '';
      for (let k = 0; k < timestamps.length; k++)
        text += `  ${times.format(timestamps[k] ?? 0).padEnd(w.time)}  ${formatValue(values[k] ?? 0).padStart(w.value)}\n`;
      out.write(text);
      await out.flushIfFull();
    }
  }
}
