/** `rondo info`: what a store holds — schemas, tiers, series, bytes, and whether a writer is active. */
import { formatDuration, formatSeries, type SeriesInfo, type StoreInfo } from 'rondo';
import { execute, Output, openStore, parseCommandArgs, positionals } from '../cli.js';
import type { Command } from '../main.js';
import { formatBytes, formatTime, table } from '../text.js';

const help = `Usage: rondo info <store> [--json]

Shows a store: its schemas (name, match, series capacity), every tier (interval, retention,
consolidation, xff, slots, file size, slots in use, oldest and newest point), the registered
series with their labels and schema, the bytes on disk, and whether a writer holds the store now.
The store is opened read-only, so this is safe while a program writes it.

Options:
  --json       print one JSON document (times in ms since the epoch, sizes in bytes)
  --verbose    print the stack trace of an error
  -h, --help   show this help

Example:
  rondo info ./metrics
  rondo info ./metrics --json | jq '.schemas[0].tiers[0].newest'
`;

/** The --json document: StoreInfo plus the series list. */
export interface InfoDocument extends StoreInfo {
  /** Registered series in handle order. */
  series: SeriesInfo[];
}

function humanInfo(info: StoreInfo, series: SeriesInfo[]): string[] {
  const out: string[] = [];
  const pid = info.writerPid;
  const writer = info.writerActive ? `active${pid !== null ? ` (pid ${pid})` : ''}` : 'none';
  out.push(
    ...table([
      ['store', info.dir],
      ['writer', writer],
      ['series', String(info.seriesCount)],
      ['on disk', formatBytes(info.totalBytes)],
    ]),
  );
  for (const s of info.schemas) {
    const match = Object.keys(s.match).length ? formatSeries('', s.match) : '{} (any series)';
    out.push('', `schema ${s.name}   match ${match}   series ${s.series} of ${s.maxSeries}`);
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
    out.push(...table(rows, ['right', 'left', 'left', 'left', 'right', 'right', 'right', 'right'], '  '));
  }
  out.push('', `series (${series.length})`);
  if (series.length === 0) out.push('  (none registered yet)');
  else
    out.push(
      ...table(
        [
          ['handle', 'series', 'schema'],
          ...series.map((s) => [String(s.handle), formatSeries(s.name, s.labels), s.schema]),
        ],
        ['right'],
        '  ',
      ),
    );
  return out;
}

/** The `info` command. */
export const command: Command = {
  summary: 'show a store: schemas, tiers, series, bytes on disk, writer',
  help,
  run: (args) =>
    execute(help, args, async () => {
      const parsed = parseCommandArgs('info', args, { json: { type: 'boolean' } });
      const [dir] = positionals('info', parsed, ['<store>']);
      const store = openStore(dir!);
      let info: StoreInfo;
      let series: SeriesInfo[];
      try {
        info = store.info();
        series = store.series();
      } finally {
        store.close();
      }
      const out = new Output();
      if (parsed.values['json']) {
        const doc: InfoDocument = { ...info, series };
        await out.line(JSON.stringify(doc, null, 2));
      } else {
        for (const line of humanInfo(info, series)) await out.line(line);
      }
      await out.flush();
      return 0;
    }),
};
