#!/usr/bin/env node
// Measures `rondo query` on a large store: rows per second and peak RSS of the CLI process for
// each output format, next to a baseline measured in the same run (a Node process that only
// reads the same points with store.query(), printing nothing). Output goes to /dev/null.
//
//   node packages/rondo-cli/scripts/query-bench.mjs [--series 200] [--slots 86400] [--formats csv,json,table]
//                                                   [--bin path/to/rondo.js]
//
// The default store holds 200 series × 86,400 one-second slots: 17.28 M rows. --bin runs another
// build of the CLI (e.g. an older checkout) against the same store, for a before/after figure.
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Store } from 'rondo';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    series: { type: 'string', default: '200' },
    slots: { type: 'string', default: '86400' },
    bin: { type: 'string', default: resolve(here, '../bin/rondo.js') },
    formats: { type: 'string', default: 'csv,json,table' },
  },
});
const SERIES = Number(values.series);
const SLOTS = Number(values.slots);
const ROWS = SERIES * SLOTS;
const T0 = Date.UTC(2025, 0, 1);

/** A store of SERIES series, each with a value in every one of SLOTS one-second slots. */
function makeStore(dir) {
  const store = Store.open(dir, {
    schemas: [{ name: 'b', maxSeries: SERIES, tiers: [{ interval: '1s', retention: SLOTS * 1000 }] }],
  });
  const handles = Array.from({ length: SERIES }, (_, i) => store.register('bench_value', { i: String(i) }));
  for (let s = 0; s < SLOTS; s++) {
    const t = T0 + s * 1000;
    for (let k = 0; k < SERIES; k++) store.record(handles[k], s * 0.25 + k, t);
  }
  store.close();
}

/** Fields of /proc/<pid>/status in KiB (VmHWM: peak RSS; RssAnon: memory of its own, not the mapped store). */
function procStatus(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    // utime and stime, in clock ticks (100 a second), are fields 14 and 15 (after the ")").
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { hwm: kib('VmHWM'), anon: kib('RssAnon'), cpu: ticks / 100 };
  } catch {
    return null; // exited
  }
}

/**
 * Runs `node script ...args` with stdout to /dev/null; resolves with its wall time and CPU time
 * (s), peak RSS and peak anonymous RSS (MiB), sampled from /proc every 10 ms. The store's files are mapped, so
 * RSS counts the pages of them that were read; anonymous RSS is the process's own memory.
 */
function measure(script, args) {
  return new Promise((resolveRun, reject) => {
    const started = process.hrtime.bigint();
    const devnull = openSync('/dev/null', 'w');
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', devnull, 'pipe'] });
    let peak = { hwm: 0, anon: 0, cpu: 0 };
    const sampler = setInterval(() => {
      const s = procStatus(child.pid);
      if (s) peak = { hwm: Math.max(peak.hwm, s.hwm), anon: Math.max(peak.anon, s.anon), cpu: s.cpu };
    }, 10);
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(sampler);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) reject(new Error(`${script} ${args.join(' ')} exited ${code}: ${stderr}`));
      else resolveRun({ seconds, cpu: peak.cpu, rssMiB: peak.hwm / 1024, anonMiB: peak.anon / 1024 });
    });
  });
}

const fmt = (n, digits = 2) => n.toLocaleString('en-US', { maximumFractionDigits: digits });

const work = mkdtempSync(join(tmpdir(), 'rondo-query-bench-'));
try {
  const dir = join(work, 'store');
  const t = performance.now();
  makeStore(dir);
  console.log(
    `store: ${SERIES} series × ${fmt(SLOTS, 0)} slots = ${fmt(ROWS, 0)} rows (made in ${fmt((performance.now() - t) / 1000)} s); node ${process.version}`,
  );
  // The baseline: read every point with store.query(), series by series, and print nothing.
  const reader = join(work, 'read-only.mjs');
  writeFileSync(
    reader,
    `import { Store } from ${JSON.stringify(import.meta.resolve('rondo'))};
const store = Store.open(process.argv[2], { readOnly: true });
let n = 0;
for (const s of store.series()) n += store.query(s.handle).values.length;
store.close();
if (n !== ${ROWS}) throw new Error('read ' + n + ' points');
`,
  );
  const runs = [{ name: 'baseline: query() only', script: reader, args: [dir] }];
  for (const format of values.formats.split(','))
    runs.push({
      name: `rondo query --format ${format}`,
      script: values.bin,
      args: ['query', dir, '{}', '--range', 'all', '--format', format],
    });
  console.log(
    `${'what'.padEnd(32)}${'wall s'.padStart(8)}${'rows/s'.padStart(10)}${'CPU s'.padStart(8)}${'rows/CPU-s'.padStart(12)}${'peak RSS MiB'.padStart(14)}${'anon MiB'.padStart(10)}${'× base CPU'.padStart(12)}`,
  );
  let base = 0;
  for (const run of runs) {
    const r = await measure(run.script, run.args);
    if (base === 0) base = r.cpu;
    console.log(
      `${run.name.padEnd(32)}${fmt(r.seconds).padStart(8)}${fmt(ROWS / r.seconds / 1e6).padStart(8)} M${fmt(r.cpu).padStart(8)}${fmt(ROWS / r.cpu / 1e6).padStart(10)} M${fmt(r.rssMiB, 0).padStart(14)}${fmt(r.anonMiB, 0).padStart(10)}${`${fmt(r.cpu / base)}×`.padStart(12)}`,
    );
  }
  console.log(
    '\nrows/s counts every row printed (all points of all series), per wall-clock second and per second of CPU\n' +
      'time (user + system, which a loaded machine does not inflate); × base CPU is CPU time ÷ the read-only one.\n' +
      "peak RSS includes the pages of the mapped store files that were read; anon is the process's own memory\n" +
      '(heap, buffers), sampled every 10 ms. Wall times on a shared machine vary 20–40 % from run to run.',
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
