/** `rondo info`: what a store holds — schemas, tiers, series, bytes, and whether a writer is active. */
import {
  formatDuration,
  formatSeries,
  type Labels,
  type SchemaInfo,
  type SeriesInfo,
  type StoreInfo,
} from 'rondo';
import { execute, Output, openStore, parseCommandArgs, parseCount, positionals, usageError } from '../cli.js';
import type { Command } from '../command.js';
import { formatBytes, formatTime, plural, table, truncate } from '../text.js';

/** Series listed by default; the rest are counted. */
const DEFAULT_SERIES_LIMIT = 100;
/** Longest label value (and metric name) shown in the table; longer ones end in an ellipsis. */
const MAX_VALUE_CHARS = 40;
/** Longest series cell of the table. */
const MAX_SERIES_CHARS = 120;

const help = `Usage: rondo info <store> [--json] [--no-series | --series-limit N|all]

Shows a store: its schemas (name, match, series capacity), every tier (interval, retention,
consolidation, xff, slots, file size, slots in use, oldest and newest point), the registered
series with their labels and schema, the bytes on disk, and whether a writer holds the store now.
The store is opened read-only, so this is safe while a program writes it.

In the table, a label value (or name) longer than ${MAX_VALUE_CHARS} characters, and a series longer
than ${MAX_SERIES_CHARS}, is cut short with "…" (--json has them whole).

Options:
  --json              print one JSON document (times in ms since the epoch, sizes in bytes);
                      it lists every series unless --series-limit or --no-series says otherwise
  --no-series         leave the series list out (the count stays)
  --series-limit N    list at most N series, then say how many more there are (default
                      ${DEFAULT_SERIES_LIMIT} in the table; 'all' lists every one)
  --verbose           print the stack trace of an error
  -h, --help          show this help

Example:
  rondo info ./metrics
  rondo info ./metrics --no-series
  rondo info ./metrics --json | jq '.schemas[0].tiers[0].newest'
`;

/** Labels with long values cut short, for the table. */
function shortLabels(labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels))
    out[truncate(k, MAX_VALUE_CHARS)] = truncate(v, MAX_VALUE_CHARS);
  return out;
}

/** A series (or a match) as the table shows it: long names and values cut with an ellipsis. */
function shortSeries(name: string, labels: Labels): string {
  return truncate(formatSeries(truncate(name, MAX_VALUE_CHARS), shortLabels(labels)), MAX_SERIES_CHARS);
}

/** The --json document: StoreInfo plus the series list. */
export interface InfoDocument extends StoreInfo {
  /** Registered series in handle order (absent with --no-series; the first N with --series-limit N). */
  series?: SeriesInfo[];
}

/** The series section of the table: at most `limit` rows, then a count of the rest. */
function seriesLines(series: readonly SeriesInfo[], limit: number): string[] {
  const out = [`series (${series.length})`];
  if (series.length === 0) return [...out, '  (none registered yet)'];
  const shown = series.slice(0, limit);
  // The column appears only when it says something: most stores have no retired series.
  const anyRetired = shown.some((s) => s.retired !== undefined);
  out.push(
    ...table(
      [
        ['handle', 'series', 'schema', ...(anyRetired ? ['retired'] : [])],
        ...shown.map((s) => [
          String(s.handle),
          shortSeries(s.name, s.labels),
          s.schema,
          ...(anyRetired ? [s.retired === undefined ? '-' : formatTime(s.retired)] : []),
        ]),
      ],
      ['right'],
      '  ',
    ),
  );
  const more = series.length - shown.length;
  if (more > 0)
    out.push(`  … and ${plural(more, 'more series', 'more series')} (--series-limit all lists every one)`);
  return out;
}

function humanInfo(info: StoreInfo, series: readonly SeriesInfo[] | null, limit: number): string[] {
  const out: string[] = [];
  const pid = info.writerPid;
  const writer = info.writerActive ? `active${pid !== null ? ` (pid ${pid})` : ''}` : 'none';
  out.push(
    ...table([
      ['store', info.dir],
      ['writer', writer],
      [
        'series',
        `${info.seriesCount}${info.retiredCount > 0 ? ` (and ${info.retiredCount} retired, until their data ages out)` : ''}`,
      ],
      ['on disk', formatBytes(info.totalBytes)],
    ]),
  );
  for (const s of info.schemas) out.push('', ...schemaLines(s));
  if (series !== null) out.push('', ...seriesLines(series, limit));
  return out;
}

/** One schema of the table: its line, then a row per tier. */
function schemaLines(s: SchemaInfo): string[] {
  const match = Object.keys(s.match).length ? shortSeries('', s.match) : '{} (any series)';
  const retired = s.retired > 0 ? ` (+${s.retired} retired)` : '';
  const after = s.retireAfter === null ? '' : `   retireAfter ${formatDuration(s.retireAfter)}`;
  const rows = [
    ['tier', 'interval', 'retention', 'consolidate', 'xff', 'slots', 'used', 'size', 'oldest', 'newest'],
  ];
  for (const t of s.tiers) {
    rows.push([
      String(t.index),
      formatDuration(t.interval),
      formatDuration(t.retention),
      t.consolidation ?? '-',
      t.index === 0 ? '-' : String(t.xff),
      String(t.slots),
      String(t.slotsUsed),
      formatBytes(t.bytes),
      t.oldest === null ? '-' : formatTime(t.oldest),
      t.newest === null ? '-' : formatTime(t.newest),
    ]);
  }
  return [
    `schema ${s.name}   match ${match}   series ${s.series}${retired} of ${s.maxSeries}${after}`,
    ...table(rows, ['right', 'left', 'left', 'left', 'right', 'right', 'right', 'right'], '  '),
  ];
}

/** What the command line asks for. */
interface Request {
  dir: string;
  json: boolean;
  /** False with --no-series. */
  listSeries: boolean;
  /** Series to list at most. */
  limit: number;
}

function parseRequest(args: string[]): Request {
  const parsed = parseCommandArgs('info', args, {
    json: { type: 'boolean' },
    'no-series': { type: 'boolean' },
    'series-limit': { type: 'string' },
  });
  const [dir = ''] = positionals('info', parsed, ['<store>']);
  const json = parsed.values['json'] === true;
  const listSeries = parsed.values['no-series'] !== true;
  const limitText = parsed.values['series-limit'];
  if (!listSeries && limitText !== undefined)
    throw usageError('info', '--no-series and --series-limit exclude each other');
  let limit = json ? Number.POSITIVE_INFINITY : DEFAULT_SERIES_LIMIT;
  if (typeof limitText === 'string') {
    const n = limitText === 'all' ? Number.POSITIVE_INFINITY : parseCount(limitText);
    if (n === null || n < 1)
      throw usageError(
        'info',
        `--series-limit must be a whole number ≥ 1 or all, got ${JSON.stringify(limitText)}`,
      );
    limit = n;
  }
  return { dir, json, listSeries, limit };
}

async function run(args: string[]): Promise<number> {
  const req = parseRequest(args);
  const store = openStore(req.dir);
  let info: StoreInfo;
  let series: SeriesInfo[] | null;
  try {
    info = store.info();
    series = req.listSeries ? store.series() : null;
  } finally {
    store.close();
  }
  const out = new Output();
  if (req.json) {
    const doc: InfoDocument = { ...info, ...(series === null ? {} : { series: series.slice(0, req.limit) }) };
    await out.line(JSON.stringify(doc, null, 2));
  } else {
    for (const line of humanInfo(info, series, req.limit)) await out.line(line);
  }
  await out.flush();
  return 0;
}

/** The `info` command. */
export const command: Command = {
  summary: 'show a store: schemas, tiers, series, bytes on disk, writer',
  help,
  run: (args) => execute(help, args, () => run(args)),
};
