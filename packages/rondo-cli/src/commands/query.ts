/** `rondo query`: the points of every series a Prometheus-style selector matches, or a chart of them. */
import {
  formatDuration,
  formatSeries,
  isRondoError,
  type Matcher,
  parseSelector,
  type QueryResult,
  type SeriesInfo,
  type Store,
  selectorMatches,
} from 'rondo';
import {
  CliError,
  EXIT_FAILURE,
  execute,
  Output,
  openStore,
  parseCommandArgs,
  parseCount,
  positionals,
  usageError,
  useColour,
} from '../cli.js';
import type { Command } from '../main.js';
import { plot } from '../plot.js';
import { csvField, formatTime, formatValue, table } from '../text.js';
import { parseRange, parseTime } from '../time.js';

const help = `Usage: rondo query <store> <selector> [options]

Prints the points of every series the selector matches, each with its name and labels.
The store is opened read-only, so this is safe while a program writes it.

Selector (Prometheus style; quote it for the shell):
  cpu_usage                      every series named cpu_usage
  'cpu_usage{host="web1"}'       ... whose label host is web1
  '{host="web1"}'                any name; also !=, =~ and !~ (regexes are anchored)
  '{__name__=~"cpu_.*", dc!="eu"}'
  '{"http.requests"}'            a quoted name (for names that are not identifiers)
  '{}'                           every series
  A label a series does not have matches "" (so {dc!="eu"} includes series without dc).

Time window (start inclusive, end exclusive; only known points are printed):
  --range D      how far back from the store's newest point (not the wall clock): 90s, 10m,
                 1h, 7d, 1h30m, or 'all' for everything kept (default 1h)
  --start T      start, RFC 3339 (2024-05-01T12:00:00Z, any offset; 2024-05-01 is midnight UTC)
                 or epoch milliseconds; overrides --range
  --end T        end (exclusive), same forms; alone, --range counts back from it
  --tier N|auto  tier to read (0 is the finest); auto (default) picks the finest tier whose
                 retention reaches the start, or the coarsest when none does (so with
                 --range all, the coarsest tier: the longest history)

Output:
  --format F     table (default on a terminal), csv (default when piped) or json
                   csv:   header time,name,<one column per label key>,value; one row per point,
                          series after series; time is RFC 3339 UTC; a label a series lacks is
                          empty; a label named time, name or value gets the column label_<key>
                   json:  {"series":[{"name":..,"labels":{..},"tier":N,"points":[[t_ms,value],..]}]}
  --plot         draw a chart instead (y-axis, UTC time axis, one glyph per series, legend;
                 colour on a terminal unless NO_COLOR is set)
  --verbose      print the stack trace of an error
  -h, --help     show this help

Examples:
  rondo query ./metrics cpu_usage
  rondo query ./metrics 'cpu_usage{host=~"web.*"}' --range 6h --plot
  rondo query ./metrics '{host="web1"}' --start 2024-05-01T12:00:00Z --end 2024-05-01T13:00:00Z --format csv
  rondo query ./metrics cpu_usage --range all --tier 2 --format json
`;

type Format = 'table' | 'csv' | 'json';

/** Everything the command line asks for, checked before the store is opened. */
interface Request {
  dir: string;
  selector: string;
  matchers: Matcher[];
  range: number | null;
  start: number | undefined;
  end: number | undefined;
  tier: number | 'auto';
  format: Format;
  plot: boolean;
}

interface Found {
  series: SeriesInfo;
  result: QueryResult;
  interval: number;
}

function parseRequest(args: string[]): Request {
  const parsed = parseCommandArgs('query', args, {
    range: { type: 'string' },
    start: { type: 'string' },
    end: { type: 'string' },
    tier: { type: 'string' },
    format: { type: 'string' },
    plot: { type: 'boolean' },
  });
  const [dir, selector] = positionals('query', parsed, ['<store>', '<selector>']);
  const v = parsed.values as Record<string, string | undefined>;
  let matchers: Matcher[];
  try {
    matchers = parseSelector(selector!);
  } catch (err) {
    if (isRondoError(err, 'ERR_RONDO_INVALID_SELECTOR')) throw usageError('query', err.message);
    throw err;
  }
  let range: number | null;
  try {
    range = parseRange(v['range'] ?? '1h');
  } catch (err) {
    if (!isRondoError(err)) throw err;
    const text = v['range'] ?? '';
    throw usageError(
      'query',
      /^\s*-[\d.]/.test(text)
        ? `--range ${text}: a negative duration is not allowed (--range counts back from the newest point: use e.g. --range ${text.trim().slice(1)})`
        : `cannot parse --range ${JSON.stringify(text)} (use e.g. 90s, 10m, 1h, 7d or all)`,
    );
  }
  const time = (name: 'start' | 'end'): number | undefined => {
    const text = v[name];
    if (text === undefined) return undefined;
    const ms = parseTime(text);
    if (ms === null)
      throw usageError(
        'query',
        /^\s*-\d+\s*$/.test(text)
          ? `--${name} ${text.trim()} is not a valid time: epoch milliseconds cannot be negative (use RFC 3339 like 2024-05-01T12:00:00Z, or epoch milliseconds ≥ 0)`
          : `cannot parse --${name} ${JSON.stringify(text)} (use RFC 3339 like 2024-05-01T12:00:00Z, or epoch milliseconds)`,
      );
    return ms;
  };
  const start = time('start');
  const end = time('end');
  if (start !== undefined && end !== undefined && start >= end)
    throw usageError('query', `--start (${formatTime(start)}) must be before --end (${formatTime(end)})`);
  const tierText = v['tier'] ?? 'auto';
  const tier = tierText === 'auto' ? 'auto' : parseCount(tierText);
  if (tier === null)
    throw usageError(
      'query',
      `--tier must be auto or a tier number (0, 1, …), got ${JSON.stringify(tierText)}`,
    );
  const plotting = parsed.values['plot'] === true;
  const formatText = v['format'];
  if (formatText !== undefined && !['table', 'csv', 'json'].includes(formatText))
    throw usageError('query', `--format must be table, csv or json, got ${JSON.stringify(formatText)}`);
  if (plotting && formatText !== undefined)
    throw usageError('query', '--plot draws a chart; it does not combine with --format');
  const format = (formatText ?? (process.stdout.isTTY ? 'table' : 'csv')) as Format;
  return { dir: dir!, selector: selector!, matchers, range, start, end, tier, format, plot: plotting };
}

/** The window to query: explicit bounds win; --range counts back from --end or the newest point. */
function timeWindow(store: Store, req: Request): { start?: number; end?: number } {
  if (req.start !== undefined) return { start: req.start, end: req.end };
  let end = req.end;
  if (end === undefined) {
    if (req.range === null) return {};
    // The store's newest point: the end of the newest tier-0 slot over all schemas.
    const newestEnd = store.newestEnd(0);
    if (newestEnd === null) return {};
    end = newestEnd;
  }
  return req.range === null ? { end } : { start: end - req.range, end };
}

function noMatch(req: Request, all: SeriesInfo[]): CliError {
  const names = [...new Set(all.map((s) => s.name))];
  const some = names.slice(0, 5).join(', ') + (names.length > 5 ? `, … (${names.length} names)` : '');
  return new CliError(
    'ERR_RONDO_NO_MATCH',
    `no series matches ${req.selector} in ${req.dir}`,
    EXIT_FAILURE,
    all.length === 0
      ? 'the store has no series registered yet'
      : `the store's ${all.length} series are named ${some}; \`rondo info ${req.dir}\` lists them`,
  );
}

async function printTable(out: Output, found: Found[], start: number | undefined): Promise<void> {
  for (const [i, f] of found.entries()) {
    if (i > 0) await out.line('');
    const { result } = f;
    const n = result.timestamps.length;
    await out.line(
      `${formatSeries(f.series.name, f.series.labels)}   tier ${result.tier} (${formatDuration(f.interval)})   ${n} point${n === 1 ? '' : 's'}`,
    );
    if (!result.covered && start !== undefined)
      await out.line(
        `  (tier ${result.tier} does not reach back to ${formatTime(start)}: older points have left its retention)`,
      );
    if (n === 0) continue;
    const rows = [['time', 'value']];
    for (let k = 0; k < n; k++)
      rows.push([formatTime(result.timestamps[k]!), formatValue(result.values[k]!)]);
    for (const line of table(rows, ['left', 'right'], '  ')) await out.line(line);
  }
}

async function printCsv(out: Output, found: Found[]): Promise<void> {
  const keys = [...new Set(found.flatMap((f) => Object.keys(f.series.labels)))].sort();
  const column = (k: string): string => (['time', 'name', 'value'].includes(k) ? `label_${k}` : k);
  await out.line(['time', 'name', ...keys.map(column), 'value'].map(csvField).join(','));
  for (const f of found) {
    // Everything but time and value is the same on every row of a series.
    const middle = [f.series.name, ...keys.map((k) => f.series.labels[k] ?? '')].map(csvField).join(',');
    const { timestamps, values } = f.result;
    for (let k = 0; k < timestamps.length; k++)
      await out.line(`${formatTime(timestamps[k]!)},${middle},${String(values[k])}`);
  }
}

async function printJson(out: Output, found: Found[]): Promise<void> {
  await out.line('{"series":[');
  for (const [i, f] of found.entries()) {
    const { timestamps, values } = f.result;
    const head = JSON.stringify({ name: f.series.name, labels: f.series.labels, tier: f.result.tier });
    const points: string[] = [];
    for (let k = 0; k < timestamps.length; k++) points.push(`[${timestamps[k]},${String(values[k])}]`);
    await out.line(`${head.slice(0, -1)},"points":[${points.join(',')}]}${i < found.length - 1 ? ',' : ''}`);
  }
  await out.line(']}');
}

/** The `query` command. */
export const command: Command = {
  summary: 'print or plot the points of the series a selector matches',
  help,
  run: (args) =>
    execute(help, args, async () => {
      const req = parseRequest(args);
      const store = openStore(req.dir);
      let found: Found[];
      let win: { start?: number; end?: number };
      try {
        const all = store.series();
        const selected = all.filter((s) => selectorMatches(req.matchers, s.name, s.labels));
        if (selected.length === 0) throw noMatch(req, all);
        win = timeWindow(store, req);
        // Query everything before printing, so an error (a tier one schema lacks) prints alone.
        found = selected.map((series) => {
          const result = store.query(series.handle, { start: win.start, end: win.end, tier: req.tier });
          return { series, result, interval: result.interval };
        });
      } finally {
        store.close();
      }
      const out = new Output();
      if (req.plot) {
        const lines = plot(
          found.map((f) => ({
            label: formatSeries(f.series.name, f.series.labels),
            interval: f.interval,
            timestamps: f.result.timestamps,
            values: f.result.values,
            note: `tier ${f.result.tier}, ${formatDuration(f.interval)}, ${f.result.timestamps.length} points`,
          })),
          {
            width: process.stdout.isTTY ? process.stdout.columns : 80,
            colour: useColour(process.stdout),
            start: win.start,
            end: win.end,
          },
        );
        for (const line of lines) await out.line(line);
      } else if (req.format === 'json') await printJson(out, found);
      else if (req.format === 'csv') await printCsv(out, found);
      else await printTable(out, found, win.start);
      await out.flush();
      return 0;
    }),
};
