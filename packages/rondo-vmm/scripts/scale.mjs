#!/usr/bin/env node
// Measures the manager at scale: `rondo-vmm run --vms N` for each N given (default 1 4 8), and
// prints, per N, the manager's own CPU and RSS per VM, the store's size, record()'s share of the
// manager's CPU time, and the most processes the manager had below it (N QEMUs means no extra
// processes). Needs a built guest (rondo-vmm build-guest).
//
//   node packages/rondo-vmm/scripts/scale.mjs [--lifetime 30s] [--stagger 3s] [N ...]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const BIN = fileURLToPath(new URL('../bin/rondo-vmm.js', import.meta.url));
const { values, positionals } = parseArgs({
  options: { lifetime: { type: 'string', default: '30s' }, stagger: { type: 'string', default: '3s' } },
  allowPositionals: true,
});
const counts = positionals.length ? positionals.map(Number) : [1, 4, 8];

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

const MiB = 1024 * 1024;
const rows = [];
for (const n of counts) {
  process.stderr.write(`== ${n} VMs\n`);
  rows.push(await measure(n));
}
const boots = (s) => {
  const b = s.vms.map((v) => (v.helloAt - v.startedAt) / 1000).sort((x, y) => x - y);
  return b[Math.floor(b.length / 2)];
};
console.log(
  `rondo-vmm run --vms N --lifetime ${values.lifetime} --stagger ${values.stagger} (${rows[0]?.summary.accel.accel})`,
);
console.log(
  '| VMs | at once | wall s | boot s (median) | manager CPU s | CPU per VM s | manager RSS peak MiB | RSS per running VM MiB | store MiB | store per VM MiB | record() ms | record() share of CPU | processes below the manager |',
);
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const { n, summary: s, maxBelow } of rows) {
  const m = s.manager;
  const perVmRss = (m.rssPeakBytes - m.rssBaseBytes) / Math.max(1, m.peakVms) / MiB;
  console.log(
    `| ${n} | ${m.peakVms} | ${s.wallSeconds.toFixed(1)} | ${boots(s).toFixed(1)} | ${m.cpuSeconds.toFixed(2)} | ${(m.cpuSeconds / n).toFixed(3)} | ${(m.rssPeakBytes / MiB).toFixed(1)} | ${perVmRss.toFixed(2)} | ${(s.store.bytes / MiB).toFixed(1)} | ${(s.store.bytes / s.store.capacity / MiB).toFixed(2)} | ${m.recordMs.toFixed(1)} | ${(m.recordShare * 100).toFixed(2)} % | ${maxBelow} |`,
  );
}
