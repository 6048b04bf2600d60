/**
 * `rondo bench`: the write benchmark of rondo/bench, with a progress bar on a terminal.
 *
 * The benchmark runs synchronously for seconds at a time, so a signal handler in the same process
 * would only run after it. The command therefore runs it in a child process (the same executable,
 * marked by RONDO_BENCH_CHILD) whose temporary directory (TMPDIR) is one this process made: on
 * SIGINT or SIGTERM it stops the child, removes that directory with the store in it, and exits
 * 130 or 143.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatWriteBench, runWriteBench, type WriteBenchResult } from 'rondo/bench';
import { countOption, execute, Output, parseCommandArgs, positionals, usageError } from '../cli.js';
import type { Command } from '../command.js';
import { progressBar } from '../progress.js';

const help = `Usage: rondo bench [--points N] [--series S] [--tiers 1|3] [--json]

Measures record() in a temporary store (removed afterwards) and compares it with two baselines
on this machine: fs.writeSync of 16 bytes and a UDP send of 16 bytes to 127.0.0.1. Prints
throughput, per-call latency percentiles (ns), GC events during the run, and the ratios.
A progress bar is drawn on stderr when it is a terminal.

Options:
  --points N    record() calls per measured pass (default 10000000; 1_000_000 works too),
                rounded to whole batches of about 1024 calls (so at least ~1024); at most 10^10
  --series S    series recorded per timestamp (default 30, at most 1048576)
  --tiers T     1: one 1s/1d tier (default); 3: 1s/10m, 10s/6h avg, 5m/7d avg
  --json        print the result as one JSON document
  --verbose     print the stack trace of an error
  -h, --help    show this help

Example:
  rondo bench --points 1000000 --series 30
  rondo bench --points 200000 --json | jq .record.opsPerSec
`;

/** The most series a schema can hold (the store refuses more). */
const MAX_SERIES = 1_048_576;
/** More calls than this would measure for hours. */
const MAX_POINTS = 10_000_000_000;

/** Set in the child process that runs the benchmark itself. */
const CHILD_ENV = 'RONDO_BENCH_CHILD';
/** The executable, run again for the child. */
const BIN = fileURLToPath(new URL('../../bin/rondo.js', import.meta.url));

/**
 * Runs `rondo bench ...args` in a child process (stdio shared) with a temporary directory of its
 * own, removed when the child ends however it ends. A SIGINT or SIGTERM is passed on to the
 * child and exits 128 + the signal number.
 */
async function supervise(args: string[]): Promise<number> {
  const holder = mkdtempSync(join(tmpdir(), 'rondo-bench-'));
  let caught: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals): void => {
    caught ??= signal;
    child.kill(signal);
  };
  const child = spawn(process.execPath, [...process.execArgv, BIN, 'bench', ...args], {
    stdio: 'inherit',
    env: { ...process.env, [CHILD_ENV]: '1', TMPDIR: holder, TMP: holder, TEMP: holder },
  });
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    const stoppedBy = caught ?? signal;
    if (stoppedBy !== null) {
      // The child's progress bar may be half drawn.
      if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
      return 128 + constants.signals[stoppedBy];
    }
    return code ?? 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    rmSync(holder, { recursive: true, force: true });
  }
}

/** The `bench` command. */
export const command: Command = {
  summary: 'benchmark record() against fs.writeSync and a UDP send on this machine',
  help,
  run: (args) =>
    execute(help, args, async () => {
      const parsed = parseCommandArgs('bench', args, {
        points: { type: 'string' },
        series: { type: 'string' },
        tiers: { type: 'string' },
        json: { type: 'boolean' },
      });
      positionals('bench', parsed, []);
      const v = parsed.values as Record<string, string | undefined>;
      const points = countOption('bench', '--points', v['points'], 10_000_000, 1, MAX_POINTS);
      const series = countOption('bench', '--series', v['series'], 30, 1, MAX_SERIES);
      const tiersText = v['tiers'] ?? '1';
      if (tiersText !== '1' && tiersText !== '3')
        throw usageError('bench', `--tiers must be 1 or 3, got ${JSON.stringify(tiersText)}`);
      if (process.env[CHILD_ENV] !== '1') return supervise(args);
      const bar = progressBar('bench', 'calls');
      let result: WriteBenchResult;
      try {
        result = await runWriteBench({
          points,
          series,
          tiers: Number(tiersText) as 1 | 3,
          onProgress: bar.onProgress,
        });
      } finally {
        bar.clear();
      }
      const out = new Output();
      await out.line(parsed.values['json'] ? JSON.stringify(result, null, 2) : formatWriteBench(result));
      await out.flush();
      return 0;
    }),
};
