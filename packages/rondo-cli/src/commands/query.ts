/** `rondo query`: the points of every series a Prometheus-style selector matches, or a chart of them. */
import {
  formatDuration,
  formatSeries,
  isRondoError,
  type Matcher,
  parseSelector,
  type QueryFn,
  type SeriesInfo,
  type Store,
  selectorMatches,
} from 'rondo';
import {
  CliError,
  EXIT_FAILURE,
  execute,
  openStore,
  parseCommandArgs,
  parseCount,
  positionals,
  usageError,
  useColour,
} from '../cli.js';
import type { Command } from '../command.js';
import { plot } from '../plot.js';
import { fnLabel, printCsv, printJson, printTable } from '../query-output.js';
import { RowBuffer } from '../row-buffer.js';
import { type PlannedSeries, planSeries, readAll, type TimeWindow } from '../series-reader.js';
import { formatTime, plural } from '../text.js';
import { rangeOption, timeOption } from '../time.js';

const help = `Usage: rondo query <store> <selector> [options]

Prints the points of every series the selector matches, each with its name and labels.
The store is opened read-only, so this is safe while a program writes it.

Selector (Prometheus style; quote it for the shell):
  cpu_usage                      every series named cpu_usage
  'cpu_usage{host="web1"}'       ... whose label host is web1
  '{host="web1"}'                any name; also !=, =~ and !~ (regexes are anchored)
  '{__name__=~"cpu_.*", dc!="eu"}'
  '{host=~"(?i)WEB.*"}'          RE2 flags: (?i) ignores case, (?s), (?m), (?i:...) groups
  '{"http-requests"}'            a quoted name (for names with characters other than letters,
                                 digits, _, : and .)
  '{}'                           every series
  A label a series does not have matches "" (so {dc!="eu"} includes series without dc).

Time window (start inclusive, end exclusive; only known points are printed):
  --range D      how far back from the newest point of the selected series (not the wall clock):
                 90s, 10m, 1h, 7d, 1h30m, or 'all' for everything kept (default 1h)
  --start T      start: RFC 3339 (2024-05-01T12:00:00Z, any offset; 2024-05-01 is midnight UTC),
                 epoch milliseconds (1714564800000), or epoch seconds with an s (1714564800s);
                 overrides --range
  --end T        end (exclusive), same forms; alone, --range counts back from it
  --tier N|auto  tier to read (0 is the finest); auto (default) picks the finest tier whose
                 retention reaches the start, or the coarsest when none does (so with
                 --range all, the coarsest tier: the longest history)

Counters (series registered with type counter, or any series read as one):
  --rate         each point's per-second rate instead of its value: what the counter gained
                 since the tier's previous point (a drop is a reset: the new value counts from
                 0, as in Prometheus), divided by the seconds between the two; a series' first
                 point has no predecessor and no rate
  --increase     what the counter gained since the previous point, not divided

Output:
  --format F     table (default on a terminal), csv (default when piped) or json
                   csv:   header time,name,<one column per label key>,value; one row per point,
                          series after series; time is RFC 3339 UTC; a label a series lacks is
                          empty; a label named time, name or value gets the column label_<key>
                   json:  {"series":[{"name":..,"labels":{..},"tier":N,"points":[[t_ms,value],..]}]};
                          with --rate or --increase each series also has "fn":"rate" or
                          "fn":"increase" after "tier"
  --plot         draw a chart instead (y-axis, UTC time axis, one glyph per series, legend;
                 colour on a terminal unless NO_COLOR is set); without --range, --start or
                 --end the time axis fits the points shown
  --verbose      print the stack trace of an error
  -h, --help     show this help

Examples:
  rondo query ./metrics cpu_usage
  rondo query ./metrics 'cpu_usage{host=~"web.*"}' --range 6h --plot
  rondo query ./metrics '{host="web1"}' --start 2024-05-01T12:00:00Z --end 2024-05-01T13:00:00Z --format csv
  rondo query ./metrics cpu_usage --range all --tier 2 --format json
  rondo query ./metrics http_requests_total --range 10m --rate --plot
`;

type Format = 'table' | 'csv' | 'json';

/** Everything the command line asks for, checked before the store is opened. */
interface Request {
  dir: string;
  selector: string;
  matchers: Matcher[];
  /** --range in ms, null for `all`. */
  range: number | null;
  /** Whether --range, --start or --end was given (the chart fits the data otherwise). */
  windowGiven: boolean;
  start: number | undefined;
  end: number | undefined;
  tier: number | 'auto';
  format: Format;
  plot: boolean;
  /** --rate or --increase. */
  fn: QueryFn | undefined;
}

const OPTIONS = {
  range: { type: 'string' },
  start: { type: 'string' },
  end: { type: 'string' },
  tier: { type: 'string' },
  format: { type: 'string' },
  plot: { type: 'boolean' },
  rate: { type: 'boolean' },
  increase: { type: 'boolean' },
} as const;

function selectorOption(selector: string): Matcher[] {
  try {
    return parseSelector(selector);
  } catch (err) {
    if (isRondoError(err, 'ERR_RONDO_INVALID_SELECTOR')) throw usageError('query', err.message);
    throw err;
  }
}

function tierOption(text: string | undefined): number | 'auto' {
  const tierText = text ?? 'auto';
  const tier = tierText === 'auto' ? 'auto' : parseCount(tierText);
  if (tier === null)
    throw usageError(
      'query',
      `--tier must be auto or a tier number (0, 1, …), got ${JSON.stringify(tierText)}`,
    );
  return tier;
}

function formatOption(text: string | undefined, plotting: boolean): Format {
  if (text !== undefined && text !== 'table' && text !== 'csv' && text !== 'json')
    throw usageError('query', `--format must be table, csv or json, got ${JSON.stringify(text)}`);
  if (plotting && text !== undefined)
    throw usageError('query', '--plot draws a chart; it does not combine with --format');
  return text ?? (process.stdout.isTTY ? 'table' : 'csv');
}

function parseRequest(args: string[]): Request {
  const parsed = parseCommandArgs('query', args, OPTIONS);
  const [dir = '', selector = ''] = positionals('query', parsed, ['<store>', '<selector>']);
  const v = parsed.values as Record<string, string | undefined>;
  const matchers = selectorOption(selector);
  const range = rangeOption('query', v['range'], '1h');
  const start = timeOption('query', 'start', v['start']);
  const end = timeOption('query', 'end', v['end']);
  if (start !== undefined && end !== undefined && start >= end)
    throw usageError('query', `--start (${formatTime(start)}) must be before --end (${formatTime(end)})`);
  const plotting = parsed.values['plot'] === true;
  const rate = parsed.values['rate'] === true;
  const increase = parsed.values['increase'] === true;
  if (rate && increase) throw usageError('query', '--rate and --increase exclude each other: choose one');
  return {
    dir,
    selector,
    matchers,
    range,
    windowGiven: v['range'] !== undefined || start !== undefined || end !== undefined,
    start,
    end,
    tier: tierOption(v['tier']),
    format: formatOption(v['format'], plotting),
    plot: plotting,
    fn: rate ? 'rate' : increase ? 'increase' : undefined,
  };
}

/**
 * The window to query: explicit bounds win; --range counts back from --end or from the newest
 * point of the selected series' schemas (not of the whole store).
 */
function timeWindow(store: Store, req: Request, selected: readonly SeriesInfo[]): TimeWindow {
  if (req.start !== undefined) return { start: req.start, end: req.end };
  let end = req.end;
  if (end === undefined) {
    if (req.range === null) return {};
    const newestEnd = store.newestEnd(0, [...new Set(selected.map((s) => s.schema))]);
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
      : `the store's ${plural(all.length, 'series', 'series')} are named ${some}; \`rondo info ${req.dir}\` lists them`,
  );
}

/** The chart of the planned series; its time axis is the window only when one was asked for. */
function chart(store: Store, plans: readonly PlannedSeries[], req: Request, win: TimeWindow): string[] {
  const series = plans.map((p) => {
    const { timestamps, values } = readAll(store, p);
    return {
      label: formatSeries(p.info.name, p.info.labels),
      interval: p.interval,
      timestamps,
      values,
      note: `tier ${p.tier}, ${formatDuration(p.interval)}, ${plural(timestamps.length, 'point')}${p.fn === undefined ? '' : `, ${fnLabel(p.fn)}`}`,
    };
  });
  return plot(series, {
    width: process.stdout.isTTY ? process.stdout.columns : 80,
    colour: useColour(process.stdout),
    ...(req.windowGiven ? win : {}),
  });
}

async function run(args: string[]): Promise<number> {
  const req = parseRequest(args);
  const store = openStore(req.dir);
  try {
    const all = store.series();
    const selected = all.filter((s) => selectorMatches(req.matchers, s.name, s.labels));
    if (selected.length === 0) throw noMatch(req, all);
    const win = timeWindow(store, req, selected);
    // Plan every series before printing, so an error (a tier one schema lacks) prints alone.
    const plans = selected.map((info) => planSeries(store, info, win, req.tier, req.fn));
    const out = new RowBuffer();
    if (req.plot) await out.write(`${chart(store, plans, req, win).join('\n')}\n`);
    else if (req.format === 'json') await printJson(out, store, plans);
    else if (req.format === 'csv') await printCsv(out, store, plans);
    else await printTable(out, store, plans, win.start);
    await out.end();
    return 0;
  } finally {
    store.close();
  }
}

/** The `query` command. */
export const command: Command = {
  summary: 'print or plot the points of the series a selector matches',
  help,
  run: (args) => execute(help, args, () => run(args)),
};
