// Runs every example of docs/instrument.md and of the README's instrumentation section as
// written (in fresh directories inside the repository, so `rondo`, `prom-client` and the
// OpenTelemetry packages resolve through the workspace), checks what each prints, and checks
// that the page lists exactly the metrics the runtime collector records.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { RUNTIME_METRICS } from './runtime/index.js';
import { scratchDirs } from './test-fixtures/helpers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const scratch = scratchDirs('instrument-docs', root);
const run = promisify(execFile);

/** What each example must print, line by line. */
const EXPECTED: Record<string, RegExp[]> = {
  runtime: [
    /^\d{2} series, [34] samples each$/,
    /^rss \d+\.\d MiB, heap used \d+\.\d MiB$/,
    /^event-loop delay p99 \d+\.\d ms, utilization \d+\.\d %$/,
    /^CPU \d+\.\d % of a core, \d+ minor GCs$/,
  ],
  'prom-client': [
    /^http_requests_total raw: \d+ \d+ \d+( \d+)?$/,
    /^http_requests_total rate: \d+ \d+( \d+)? per second$/,
    /^http_request_duration_seconds: 12 buckets, _sum and _count, all counters$/,
  ],
  otel: [
    /^checkout_duration_seconds_bucket {3}counter, 16 series$/,
    /^checkout_duration_seconds_count {4}counter, 1 series$/,
    /^checkout_duration_seconds_sum {6}counter, 1 series$/,
    /^checkout_orders_total {14}counter, 1 series$/,
    /^checkout_queue_size {16}gauge, 1 series$/,
    /^checkout_orders_total rate: \d+( \d+)* per second$/,
  ],
  'readme-runtime': [/^event-loop delay p99: \d+\.\d ms(, \d+\.\d ms)+$/],
  'readme-prom-client': [/^requests per second: \d+(, \d+)+$/],
  'readme-otel': [/^≤ 0 s: 0, ≤ 5 s: 1, ≤ 10 s: 2, all: 2$/],
};

/** The marked examples of a Markdown file: `<!-- example: NAME -->` then a js block. */
function examples(file: string): Map<string, string> {
  const text = readFileSync(join(root, file), 'utf8');
  const out = new Map<string, string>();
  for (const m of text.matchAll(/<!-- example: ([\w-]+) -->\s*```js\n([\s\S]*?)```/g)) out.set(m[1]!, m[2]!);
  return out;
}

test('every example of docs/instrument.md and the README runs as written and prints what the page says', async () => {
  const all = new Map([...examples('docs/instrument.md'), ...examples('README.md')]);
  assert.deepEqual([...all.keys()].sort(), Object.keys(EXPECTED).sort(), 'the examples the pages mark');
  // Together: each waits a few seconds of wall time for its timers.
  await Promise.all(
    [...all].map(async ([name, code]) => {
      const dir = scratch();
      writeFileSync(join(dir, 'example.mjs'), code);
      const { stdout } = await run(process.execPath, ['example.mjs'], { cwd: dir, timeout: 60_000 });
      const lines = stdout.trimEnd().split('\n');
      const want = EXPECTED[name]!;
      assert.equal(lines.length, want.length, `${name} prints ${want.length} lines: ${stdout}`);
      for (const [i, re] of want.entries()) assert.match(lines[i]!, re, `${name}, line ${i + 1}`);
    }),
  );
});

test('docs/instrument.md lists exactly the metrics the runtime collector records, as RUNTIME_METRICS has them', () => {
  const text = readFileSync(join(root, 'docs/instrument.md'), 'utf8');
  // | `name` `{label}` | type | what | same in prom-client |
  const row =
    /^\| `((?:process|nodejs)_[a-z0-9_]+)`(?: `\{(\w+)\}`)? *\| (counter|gauge) +\| (.+?) +\| (yes|no) +\|$/gm;
  const rows = [...text.matchAll(row)].map((m) => [m[1], m[2] ?? '', m[3], m[4], m[5]].join(' | '));
  assert.deepEqual(
    rows,
    RUNTIME_METRICS.map((m) =>
      [m.name, m.label ?? '', m.type, m.help, m.promClient ? 'yes' : 'no'].join(' | '),
    ),
  );
});
