/**
 * `npm run bench`: runs every rondo benchmark and prints a report, or one JSON document with
 * `--json`. Options: `--points=N` (record() calls per pass, default 10 M); `--readme[=PATH]`
 * also writes the figures into the benchmark section of PATH (default ./README.md). Progress
 * goes to stderr, only when stderr is a terminal.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, platform } from 'node:os';
import { type CatalogBenchResult, formatCatalogBench, runCatalogBench } from './catalog.js';
import {
  type ConsolidateBenchResult,
  formatWriteBenchTable,
  type QueryBenchResult,
  runConsolidateBench,
  runQueryBench,
  runWriteBench,
  WRITE_METHOD_NOTES,
  type WriteBenchResult,
} from './index.js';
import { formatInstrumentBench, type InstrumentBenchResult, runInstrumentBench } from './instrument.js';
import { readmeSection, replaceSection } from './readme.js';

/** The document printed by `--json`. */
export interface BenchReport {
  /** process.version. */
  node: string;
  /** os.platform() and the CPU model. */
  host: { platform: string; cpu: string; cpus: number };
  /** record() with one tier, then with three. */
  write: WriteBenchResult[];
  /** query() of one series over a full one-day tier. */
  query: QueryBenchResult;
  /** consolidate() once per simulated second. */
  consolidate: ConsolidateBenchResult;
  /** The series catalogue: register(), registerMany(), reopen, readers. */
  catalog: CatalogBenchResult;
  /** The runtime collector and the prom-client bridge, per sample. */
  instrument: InstrumentBenchResult;
}

function parseArgs(argv: string[]): { json: boolean; points: number | undefined; readme: string | null } {
  let json = false;
  let points: number | undefined;
  let readme: string | null = null;
  for (const arg of argv) {
    if (arg === '--json') json = true;
    else if (arg.startsWith('--points=')) points = Number(arg.slice('--points='.length));
    else if (arg === '--readme' || arg.startsWith('--readme='))
      readme = arg.slice('--readme='.length) || 'README.md';
    else {
      process.stderr.write(
        `usage: bench.js [--json] [--points=N] [--readme[=PATH]]\nunknown argument: ${arg}\n`,
      );
      process.exit(2);
    }
  }
  if (readme !== null && points !== undefined) {
    // The README's prose and table speak of the default 10 M calls per pass.
    process.stderr.write('bench.js: --readme measures with the default number of calls: drop --points\n');
    process.exit(2);
  }
  return { json, points, readme };
}

const tty = process.stderr.isTTY === true;

function status(text: string): void {
  if (tty) process.stderr.write(`\r\x1b[K${text}`);
}

function progress(label: string): (done: number, total: number) => void {
  return (done, total) => status(`${label}: ${Math.floor((100 * done) / total)}%`);
}

async function main(): Promise<void> {
  const { json, points, readme } = parseArgs(process.argv.slice(2));
  // A README without the section is refused before minutes of measuring.
  if (readme !== null) replaceSection(readFileSync(readme, 'utf8'), '');
  const write: WriteBenchResult[] = [];
  for (const tiers of [1, 3] as const) {
    write.push(
      await runWriteBench({ points, tiers, onProgress: progress(`record() with ${tiers} tier(s)`) }),
    );
  }
  status('query() over a full 86,400-slot tier, warm and in fresh processes…');
  const query = await runQueryBench();
  status('consolidate() once per simulated second…');
  const consolidate = await runConsolidateBench();
  const catalog = await runCatalogBench({ onProgress: progress('register() 100,000 series') });
  status('runtime collector and prom-client bridge…');
  const instrument = await runInstrumentBench();
  status('');
  const cpu = cpus();
  const report: BenchReport = {
    node: process.version,
    host: { platform: platform(), cpu: cpu[0]?.model ?? 'unknown', cpus: cpu.length },
    write,
    query,
    consolidate,
    catalog,
    instrument,
  };
  if (readme !== null) {
    // Read again: an edit made while the bench ran is kept.
    writeFileSync(readme, replaceSection(readFileSync(readme, 'utf8'), readmeSection(report)));
    status('');
    process.stderr.write(`wrote the benchmark table into ${readme}\n`);
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const pct = (p: { p50: number; p99: number; p999: number }, digits: number, unit: string): string =>
    `p50 ${p.p50.toFixed(digits)} ${unit}, p99 ${p.p99.toFixed(digits)} ${unit}, p999 ${p.p999.toFixed(digits)} ${unit}`;
  const out = [
    `host: ${report.host.platform}, ${report.host.cpu} (${report.host.cpus} logical CPUs; the bench uses one)`,
    '',
    formatWriteBenchTable(write[0]!),
    '',
    formatWriteBenchTable(write[1]!),
    '',
    `query() of one series over ${query.slots.toLocaleString('en-US')} filled 1 s slots (30-series schema):`,
    `  warm: ${pct(query.msPerQuery, 3, 'ms')} per query (each of 300 queries timed on its own)`,
    `    floor, same run: ${pct(query.floorMs, 3, 'ms')} (two fresh result arrays filled by native copies of the bytes read)`,
    `  first query in a fresh process (reader beside the writer): ${query.firstMs.toFixed(3)} ms, median of ${query.processes}`,
    `    floor, same run: ${query.firstFloorMs.toFixed(3)} ms (a fresh process allocating and writing the result's arrays)`,
    '',
    `consolidate() once per simulated second, ${consolidate.series} series, 3 tiers (1s/10m, 10s/6h avg, 5m/7d avg):`,
    `  ${pct(consolidate.usPerCall, 1, 'µs')} per call (each call timed on its own, after 20 simulated minutes)`,
    '',
    ...formatCatalogBench(catalog),
    '',
    ...formatInstrumentBench(instrument),
    '',
    WRITE_METHOD_NOTES,
    '  query(), consolidate(), samples: each call timed on its own with performance.now() (~0.05 µs overhead).',
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((err: unknown) => {
  status('');
  process.stderr.write(`bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exitCode = 1;
});
