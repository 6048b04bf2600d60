/**
 * The three text formats of `rondo query` (csv, json, table), written series by series and chunk
 * by chunk straight into a {@link RowBuffer}: millions of rows a second, with memory that does
 * not grow with the row count.
 */
import { formatDuration, formatSeries, type QueryFn, type Store } from 'rondo';
import { MAX_ATOM_BYTES, plainLength, type RowBuffer } from './row-buffer.js';
import { type PlannedSeries, readChunks } from './series-reader.js';
import { csvField, formatTime, formatValue, plural } from './text.js';

/** CSV: a header `time,name,<label keys…>,value`, then one row per point, series after series. */
export async function printCsv(out: RowBuffer, store: Store, plans: readonly PlannedSeries[]): Promise<void> {
  const keys = [...new Set(plans.flatMap((p) => Object.keys(p.info.labels)))].sort();
  const column = (k: string): string => (['time', 'name', 'value'].includes(k) ? `label_${k}` : k);
  await out.write(`${['time', 'name', ...keys.map(column), 'value'].map(csvField).join(',')}\n`);
  for (const plan of plans) {
    const { name, labels } = plan.info;
    // Everything but time and value is the same on every row of a series.
    const middle = Buffer.from(`,${[name, ...keys.map((k) => labels[k] ?? '')].map(csvField).join(',')},`);
    const rowBytes = middle.length + 2 * MAX_ATOM_BYTES + 1;
    for (const { timestamps, values } of readChunks(store, plan)) {
      for (let k = 0; k < timestamps.length; k++) {
        if (out.full(rowBytes)) await out.flush(rowBytes);
        out.time(timestamps[k] ?? 0);
        out.bytes(middle);
        out.number(values[k] ?? 0);
        out.newline();
      }
    }
  }
}

/** A value as JSON: a number, or Prometheus's "+Inf"/"-Inf" strings (JSON has no infinities). */
function jsonValue(out: RowBuffer, v: number): void {
  if (Number.isFinite(v)) out.number(v);
  else out.ascii(v > 0 ? '"+Inf"' : '"-Inf"');
}

/** JSON: `{"series":[…]}` with one series per line, its points as `[t_ms,value]` pairs. */
export async function printJson(
  out: RowBuffer,
  store: Store,
  plans: readonly PlannedSeries[],
): Promise<void> {
  await out.write('{"series":[\n');
  for (const [i, plan] of plans.entries()) {
    const { name, labels } = plan.info;
    const head = JSON.stringify({
      name,
      labels,
      tier: plan.tier,
      ...(plan.fn === undefined ? {} : { fn: plan.fn }),
    });
    await out.write(`${head.slice(0, -1)},"points":[`);
    let first = true;
    for (const { timestamps, values } of readChunks(store, plan)) {
      for (let k = 0; k < timestamps.length; k++) {
        if (out.full(2 * MAX_ATOM_BYTES + 4)) await out.flush();
        if (!first) out.byte(44); // ','
        out.byte(91); // '['
        out.integer(timestamps[k] ?? 0);
        out.byte(44);
        jsonValue(out, values[k] ?? 0);
        out.byte(93); // ']'
        first = false;
      }
    }
    await out.write(`]}${i < plans.length - 1 ? ',' : ''}\n`);
  }
  await out.write(']}\n');
}

/** Characters of a time as formatTime() writes it, without formatting it in the common cases. */
function timeWidth(ms: number): number {
  // Years 1970–9999 (all a store can hold) take 20 characters, 24 with a fraction.
  if (ms >= 0 && ms < 253_402_300_800_000 && Number.isInteger(ms)) return ms % 1000 === 0 ? 20 : 24;
  return formatTime(ms).length;
}

/** Widths of a series' time and value columns, and its point count: a first pass over its chunks. */
function measure(store: Store, plan: PlannedSeries): { points: number; time: number; value: number } {
  const m = { points: 0, time: 'time'.length, value: 'value'.length };
  for (const { timestamps, values } of readChunks(store, plan)) {
    m.points += timestamps.length;
    for (let k = 0; k < timestamps.length; k++) {
      m.time = Math.max(m.time, timeWidth(timestamps[k] ?? 0));
      const v = values[k] ?? 0;
      const plain = plainLength(v);
      m.value = Math.max(m.value, plain >= 0 ? plain : formatValue(v).length);
    }
  }
  return m;
}

/**
 * Table, for people: per series a heading (series, tier, resolution, points) and aligned time
 * and value columns. Each series is read twice (widths first), so memory stays bounded here too.
 */
export async function printTable(
  out: RowBuffer,
  store: Store,
  plans: readonly PlannedSeries[],
  start: number | undefined,
): Promise<void> {
  for (const [i, plan] of plans.entries()) {
    if (i > 0) await out.write('\n');
    const w = measure(store, plan);
    await out.write(tableHeading(plan, w.points, start));
    if (w.points === 0) continue;
    await out.write(`  ${'time'.padEnd(w.time)}  ${'value'.padStart(w.value)}\n`);
    const rowBytes = 2 + w.time + 2 + w.value + 1;
    for (const { timestamps, values } of readChunks(store, plan)) {
      for (let k = 0; k < timestamps.length; k++) {
        if (out.full(rowBytes)) await out.flush(rowBytes);
        tableRow(out, w, timestamps[k] ?? 0, values[k] ?? 0);
      }
    }
  }
}

/** What a series' points are under a query function: `rate per second` or `increase per point`. */
export function fnLabel(fn: QueryFn): string {
  return fn === 'rate' ? 'rate per second' : 'increase per point';
}

/** The heading of one series' table: the series, its tier, points and function, and a note when the tier falls short. */
function tableHeading(plan: PlannedSeries, points: number, start: number | undefined): string {
  const series = formatSeries(plan.info.name, plan.info.labels);
  const fn = plan.fn === undefined ? '' : `   ${fnLabel(plan.fn)}`;
  let text = `${series}   tier ${plan.tier} (${formatDuration(plan.interval)})   ${plural(points, 'point')}${fn}\n`;
  if (!plan.covered && start !== undefined)
    text += `  (tier ${plan.tier} does not reach back to ${formatTime(start)}: older points have left its retention)\n`;
  return text;
}

/** One row of the table: the time, then the value aligned right in its column. */
function tableRow(out: RowBuffer, w: { time: number; value: number }, t: number, v: number): void {
  out.spaces(2);
  out.spaces(w.time - out.time(t) + 2);
  const plain = plainLength(v);
  if (plain >= 0) {
    out.spaces(w.value - plain);
    out.number(v);
  } else {
    const value = formatValue(v);
    out.spaces(w.value - value.length);
    out.ascii(value);
  }
  out.newline();
}
