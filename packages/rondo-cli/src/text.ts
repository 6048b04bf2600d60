/** Formatting for people: sizes, times, numbers, aligned columns, CSV fields and ANSI colour. */

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB'];

/** Bytes as `512 B`, `4.0 KiB`, `28.1 MiB` (binary units, one decimal). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  let v = bytes;
  let unit = '';
  for (const u of UNITS) {
    v /= 1024;
    unit = u;
    if (v < 1024) break;
  }
  return `${v.toFixed(1)} ${unit}`;
}

/** Milliseconds since the epoch as RFC 3339 UTC; the fraction only when there is one. */
export function formatTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

/** `1 sample`, `2 samples`: a count with the word in the right number (`plural` when irregular). */
export function plural(n: number, word: string, pluralWord = `${word}s`): string {
  return `${n} ${n === 1 ? word : pluralWord}`;
}

/**
 * `text` cut to at most `max` characters (code points, so an emoji is never split), the last one
 * an ellipsis when anything was cut.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const points = Array.from(text);
  if (points.length <= max) return text;
  return `${points.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/** A value for people: float noise trimmed to 12 significant digits (CSV and JSON keep it exact). */
export function formatValue(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(12)));
}

/** Which side a column is padded on. */
export type Align = 'left' | 'right';

/** Lays rows out in columns two spaces apart; the last column is not padded. */
export function table(rows: string[][], align: Align[] = [], indent = ''): string[] {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, visibleLength(cell));
    });
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, i) => {
          const pad = ' '.repeat((widths[i] ?? 0) - visibleLength(cell));
          if (align[i] === 'right') return pad + cell;
          return i === row.length - 1 ? cell : cell + pad;
        })
        .join('  '),
  );
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matches ANSI escape sequences
const ANSI = /\x1b\[[0-9;]*m/g;

/** Length as it shows in a terminal: without ANSI colour codes. */
function visibleLength(text: string): number {
  return text.replace(ANSI, '').length;
}

/** One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Wraps text in an ANSI colour (SGR code) when `on`. */
export function paint(text: string, sgr: string, on: boolean): string {
  return on ? `\x1b[${sgr}m${text}\x1b[0m` : text;
}
