#!/usr/bin/env node
// Measures the manager at scale: `rondo-vmm run --vms N` for each N given (default 1 4 8), and
// prints, per N, the manager's own CPU and RSS per VM, the store's size, record()'s share of the
// manager's CPU time, and the most processes the manager had below it (N QEMUs means no extra
// processes). Then record() alone on the same store shape, one round per second with no VMs
// running: the wall-clock timing inside the manager also counts moments the manager was
// preempted by the VMs, so it is an upper bound. Needs a built guest (rondo-vmm build-guest).
//
//   node packages/rondo-vmm/scripts/scale.mjs [--lifetime 30s] [--stagger 3s] [--repeat 3] [N ...]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Store } from 'rondo';
import { ManagerRecorder, VmRecorder, vmmSchema } from '../dist/metrics.js';

const BIN = fileURLToPath(new URL('../bin/rondo-vmm.js', import.meta.url));
const { values, positionals } = parseArgs({
  options: {
    lifetime: { type: 'string', default: '30s' },
    stagger: { type: 'string', default: '3s' },
    repeat: { type: 'string', default: '1' },
  },
  allowPositionals: true,
});
const counts = positionals.length ? positionals.map(Number) : [1, 4, 8];
const repeat = Number(values.repeat);

// Child pids of `pid`, from /proc/<pid>/task/<tid>/children.
function children(pid) {
  const out = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`))
      out.push(
        ...readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
      );
  } catch {
    // gone
  }
  return out;
}

/** All descendants of `pid`. */
function descendants(pid) {
  const all = [];
  for (let queue = children(pid); queue.length > 0; ) {
    const p = queue.shift();
    all.push(p);
    queue.push(...children(p));
  }
  return all;
}

async function measure(n) {
  const dir = mkdtempSync(join(tmpdir(), 'rondo-vmm-scale-'));
  const args = ['run', '--vms', String(n), '--lifetime', values.lifetime, '--stagger', values.stagger];
  const child = spawn(process.execPath, [BIN, ...args, '--store', join(dir, 'store'), '--json'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  let maxBelow = 0;
  const watch = setInterval(() => {
    maxBelow = Math.max(maxBelow, descendants(child.pid).length);
  }, 250);
  const code = await new Promise((resolve) => child.on('close', resolve));
  clearInterval(watch);
  rmSync(dir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`rondo-vmm run --vms ${n} exited ${code}`);
  return { n, summary: JSON.parse(out), maxBelow };
}

/** record() alone: `vms` VMs' worth of series, `rounds` rounds one second apart, as the manager records them. */
async function recordAlone(vms, rounds) {
  const dir = mkdtempSync(join(tmpdir(), 'rondo-vmm-record-'));
  const store = Store.open(join(dir, 'store'), { schemas: [vmmSchema(16)] });
  const time = { ms: 0, calls: 0 };
  const manager = new ManagerRecorder(store, {}, time);
  const recs = Array.from({ length: vms }, (_, i) => new VmRecorder(store, `vm-${i}`, 1, true, {}, time));
  const cpu = { user: 1, nice: 0, system: 1, idle: 1, iowait: 0, irq: 0, softirq: 0, steal: 0 };
  const tick = {
    type: 'tick',
    seq: 1,
    up: 1,
    phase: 1,
    cpu,
    memTotal: 1,
    memFree: 1,
    memAvailable: 1,
    load1: 0,
    load5: 0,
    load15: 0,
  };
  const block = [{ device: 'disk0', readBytes: 1, writtenBytes: 1, readOps: 1, writeOps: 1 }];
  const perRound = [];
  for (let r = 0; r < rounds; r++) {
    const before = time.ms;
    const t = Date.now();
    for (const v of recs) {
      v.host(t, { cpuSeconds: r, rssBytes: 1e8, threads: 5 }, 20, [r]);
      v.block(t, block);
      v.guest(t, tick);
    }
    manager.round(t, vms, vms, 0);
    perRound.push(time.ms - before);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  store.close();
  rmSync(dir, { recursive: true, force: true });
  const sorted = [...perRound].sort((a, b) => a - b);
  return {
    calls: time.calls,
    ms: time.ms,
    first: perRound[0],
    median: sorted[Math.floor(sorted.length / 2)],
    perRoundCalls: time.calls / rounds,
  };
}

const MiB = 1024 * 1024;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// Interleaved (1, 4, 8, 1, 4, 8, …) so that a busier spell of the machine spreads over all N.
const runs = new Map(counts.map((n) => [n, []]));
for (let r = 0; r < repeat; r++)
  for (const n of counts) {
    process.stderr.write(`== ${n} VMs, run ${r + 1} of ${repeat}\n`);
    runs.get(n).push(await measure(n));
  }

/** One figure of the runs of N: the median, with the range when there are several runs. */
function fig(list, f, digits) {
  const xs = list.map(f);
  const m = median(xs).toFixed(digits);
  return xs.length < 2 ? m : `${m} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;
}

const first = runs.get(counts[0])[0].summary;
console.log(
  `rondo-vmm run --vms N --lifetime ${values.lifetime} --stagger ${values.stagger} (${first.accel.accel}), ` +
    `${repeat} run${repeat > 1 ? 's' : ''} each: median${repeat > 1 ? ' (range)' : ''}`,
);
console.log(
  '| VMs | wall s | boot s | manager CPU s | CPU per VM s | manager RSS peak MiB | RSS per running VM MiB | store MiB | store per VM MiB | record() calls | record() ms (wall) | record() share of CPU (at most) | processes below the manager |',
);
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const n of counts) {
  const list = runs.get(n);
  const m = (r) => r.summary.manager;
  const boot = (r) => median(r.summary.vms.map((v) => (v.helloAt - v.startedAt) / 1000));
  const rssPerVm = (r) => (m(r).rssPeakBytes - m(r).rssBaseBytes) / Math.max(1, m(r).peakVms) / MiB;
  const cells = [
    n,
    fig(list, (r) => r.summary.wallSeconds, 1),
    fig(list, boot, 1),
    fig(list, (r) => m(r).cpuSeconds, 2),
    fig(list, (r) => m(r).cpuSeconds / n, 3),
    fig(list, (r) => m(r).rssPeakBytes / MiB, 1),
    fig(list, rssPerVm, 2),
    fig(list, (r) => r.summary.store.bytes / MiB, 1),
    fig(list, (r) => r.summary.store.bytes / r.summary.store.capacity / MiB, 2),
    fig(list, (r) => m(r).recordCalls, 0),
    fig(list, (r) => m(r).recordMs, 1),
    `${fig(list, (r) => m(r).recordShare * 100, 2)} %`,
    Math.max(...list.map((r) => r.maxBelow)),
  ];
  console.log(`| ${cells.join(' | ')} |`);
}
const most = Math.max(...counts);
const alone = await recordAlone(most, 20);
console.log(
  `\nrecord() alone, ${most} VMs' series (${alone.perRoundCalls} calls a round), 20 rounds one second apart, no VMs running: ` +
    `first round ${(alone.first * 1000).toFixed(0)} µs (a fresh store's pages), then a median of ${(alone.median * 1000).toFixed(0)} µs a round ` +
    `(${((alone.median * 1000) / alone.perRoundCalls).toFixed(2)} µs per call)`,
);
