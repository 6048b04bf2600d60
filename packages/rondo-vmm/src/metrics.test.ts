import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Store } from 'rondo';
import { scratchDirs, T0 } from 'rondo-testkit';
import { PHASE_CODES } from './guest/plan.js';
import {
  findSeries,
  MANAGER_SERIES,
  ManagerRecorder,
  type RecordTime,
  SERIES_PER_VM,
  seriesPerVm,
  VmRecorder,
  vmmSchema,
} from './metrics.js';
import type { GuestTick } from './vm.js';

const scratch = scratchDirs('vmm-metrics');

function open(capacity = 2): Store {
  return Store.open(scratch(), { schemas: [vmmSchema(capacity)] });
}

function at(store: Store, name: string, labels: Record<string, string>, t: number): number | undefined {
  const h = findSeries(store, name, labels);
  assert.ok(h !== undefined, `${name} ${JSON.stringify(labels)} is registered`);
  const r = store.query(h, { start: t, end: t + 1000 });
  return r.values.length === 0 ? undefined : r.values[0];
}

const tick: GuestTick = {
  type: 'tick',
  seq: 3,
  up: 9.5,
  phase: PHASE_CODES.mixed,
  cpu: { user: 1.5, nice: 0, system: 2, idle: 5, iowait: 0.25, irq: 0, softirq: 0.01, steal: 0 },
  memTotal: 84_000_000,
  memFree: 40_000_000,
  memAvailable: 48_000_000,
  load1: 0.7,
  load5: 0.3,
  load15: 0.1,
};

test('the schema: every second for an hour (or as given), 32 series per VM plus the manager', () => {
  const s = vmmSchema(16);
  assert.equal(s.maxSeries, 16 * SERIES_PER_VM + 8);
  assert.deepEqual(s.tiers, [{ interval: 1000, retention: 3_600_000 }]);
  assert.deepEqual(vmmSchema(2, 600_000).tiers, [{ interval: 1000, retention: 600_000 }]);
  assert.equal(seriesPerVm(8, true), SERIES_PER_VM, 'the most vCPUs still fit the budget');
});

test('a VM registers its series up front: host ones without "guest", guest ones with it', () => {
  const store = open();
  const rec = new VmRecorder(store, 'vm-7', 2, true, { site: 'lab' }, { ms: 0, calls: 0 });
  const series = store.series();
  assert.equal(series.length, seriesPerVm(2, true));
  assert.deepEqual(rec.handles.sort(), series.map((s) => s.handle).sort());
  for (const s of series) {
    assert.equal(s.labels['vm'], 'vm-7');
    assert.equal(s.labels['site'], 'lab');
  }
  const names = new Set(series.map((s) => s.name));
  for (const n of [
    'vm_cpu_seconds_total',
    'vm_rss_bytes',
    'vm_open_fds',
    'vm_vcpu_cpu_seconds_total',
    'vm_boot_seconds',
  ])
    assert.ok(names.has(n), n);
  assert.ok(names.has('vm_guest_cpu_seconds_total') && names.has('vm_guest_phase'));
  for (const n of names) if (n.startsWith('vm_guest_')) assert.ok(n.includes('guest'));
  for (const s of series) assert.equal(s.type, s.name.endsWith('_total') ? 'counter' : 'gauge', s.name);
  assert.equal(
    new VmRecorder(store, 'vm-8', 1, false, {}, { ms: 0, calls: 0 }).handles.length,
    seriesPerVm(1, false),
  );
  store.close();
});

test('host, block, guest and lifecycle figures land at the times given', () => {
  const store = open();
  const time: RecordTime = { ms: 0, calls: 0 };
  const rec = new VmRecorder(store, 'vm-1', 2, true, {}, time);
  const vm = { vm: 'vm-1' };
  rec.host(T0, { cpuSeconds: 4.4, rssBytes: 190e6, threads: 5 }, 17, [3.1, null]);
  rec.block(T0, [{ device: 'disk0', readBytes: 4096, writtenBytes: 1 << 20, readOps: 1, writeOps: 16 }]);
  rec.guest(T0 + 1000, tick);
  rec.booted(T0 + 1000, 4.7);
  rec.exited(T0 + 2000, 0);
  assert.equal(at(store, 'vm_cpu_seconds_total', vm, T0), 4.4);
  assert.equal(at(store, 'vm_rss_bytes', vm, T0), 190e6);
  assert.equal(at(store, 'vm_open_fds', vm, T0), 17);
  assert.equal(at(store, 'vm_vcpu_cpu_seconds_total', { ...vm, vcpu: '0' }, T0), 3.1);
  assert.equal(
    at(store, 'vm_vcpu_cpu_seconds_total', { ...vm, vcpu: '1' }, T0),
    undefined,
    'unknown stays absent',
  );
  assert.equal(at(store, 'vm_block_written_bytes_total', { ...vm, device: 'disk0' }, T0), 1 << 20);
  assert.equal(at(store, 'vm_up', vm, T0), 1);
  assert.equal(at(store, 'vm_guest_cpu_seconds_total', { ...vm, mode: 'iowait' }, T0 + 1000), 0.25);
  assert.equal(at(store, 'vm_guest_memory_available_bytes', vm, T0 + 1000), 48_000_000);
  assert.equal(at(store, 'vm_guest_phase', vm, T0 + 1000), PHASE_CODES.mixed);
  assert.equal(at(store, 'vm_boot_seconds', vm, T0 + 1000), 4.7);
  assert.equal(at(store, 'vm_exit_status', vm, T0 + 2000), 0);
  assert.equal(at(store, 'vm_up', vm, T0 + 2000), 0);
  assert.ok(time.ms > 0, 'time inside record() is counted');
  // host: up, cpu, rss, threads, fds, one vCPU known; block 4; guest 13; boot 1; exit + up 2.
  assert.equal(time.calls, 6 + 4 + 13 + 1 + 2);
  store.close();
});

test('a process that is gone records vm_up 0 and nothing else', () => {
  const store = open();
  const rec = new VmRecorder(store, 'vm-1', 1, false, {}, { ms: 0, calls: 0 });
  rec.host(T0, null, null, [null]);
  assert.equal(at(store, 'vm_up', { vm: 'vm-1' }, T0), 0);
  assert.equal(at(store, 'vm_cpu_seconds_total', { vm: 'vm-1' }, T0), undefined);
  store.close();
});

test('retire() retires every series of the VM; late figures are dropped, not thrown', () => {
  const store = open();
  const rec = new VmRecorder(store, 'vm-1', 1, true, {}, { ms: 0, calls: 0 });
  rec.host(T0, { cpuSeconds: 1, rssBytes: 1, threads: 1 }, 1, [1]);
  rec.retire();
  rec.retire(); // idempotent
  for (const s of store.series()) assert.equal(typeof s.retired, 'number', `${s.name} is retired`);
  assert.equal(store.lookup('vm_up', { vm: 'vm-1' }), undefined, 'no live series left');
  assert.equal(at(store, 'vm_cpu_seconds_total', { vm: 'vm-1' }, T0), 1, 'its data stays readable');
  const recorded = store.stats().recorded;
  rec.host(T0 + 1000, { cpuSeconds: 2, rssBytes: 1, threads: 1 }, 1, [1]);
  rec.block(T0 + 1000, [{ device: 'disk0', readBytes: 1, writtenBytes: 1, readOps: 1, writeOps: 1 }]);
  rec.guest(T0 + 1000, tick);
  rec.exited(T0 + 1000, 0);
  assert.equal(store.stats().recorded, recorded);
  store.close();
});

test("a fixed-size store runs VM after VM: an ended VM's columns go to a later one once its data aged out", () => {
  // Room for one VM; every second kept for 10 s.
  const store = Store.open(scratch(), { schemas: [vmmSchema(1, 10_000)] });
  const manager = new ManagerRecorder(store, {}, { ms: 0, calls: 0 });
  let t = T0;
  for (let n = 1; n <= 5; n++) {
    const rec = new VmRecorder(store, `vm-${n}`, 1, true, {}, { ms: 0, calls: 0 });
    for (let i = 0; i < 3; i++, t += 1000) {
      rec.host(t, { cpuSeconds: i, rssBytes: 1, threads: 1 }, 1, [i]);
      manager.round(t, 50e6, 1, n, 0);
    }
    rec.retire();
    // While vm-n's data is still in the store, there is no room for another VM.
    assert.throws(() => new VmRecorder(store, 'early', 1, true, {}, { ms: 0, calls: 0 }), {
      code: 'ERR_RONDO_MAX_SERIES',
    });
    assert.equal(at(store, 'vm_cpu_seconds_total', { vm: `vm-${n}` }, t - 1000), 2);
    // The store's clock moves on (the manager records every second) past the retention.
    for (let i = 0; i < 10; i++, t += 1000) manager.round(t, 50e6, 0, n, 0);
  }
  assert.equal(store.info().schemas[0]!.maxSeries, SERIES_PER_VM + 8, 'the store never grew');
  assert.equal(store.stats().retired, 5 * seriesPerVm(1, true));
  store.close();
});

test('the manager records its own CPU, RSS, VM counts and time in record()', () => {
  const store = open();
  const time: RecordTime = { ms: 12, calls: 0 };
  new ManagerRecorder(store, { site: 'lab' }, time).round(T0, 123_456_789, 3, 5, 1);
  const l = { site: 'lab' };
  assert.equal(at(store, 'vmm_vms_running', l, T0), 3);
  assert.equal(at(store, 'vmm_vms_started_total', l, T0), 5);
  assert.equal(at(store, 'vmm_vms_failed_total', l, T0), 1);
  assert.equal(at(store, 'vmm_record_seconds_total', l, T0), 0.012);
  assert.equal(at(store, 'vmm_rss_bytes', l, T0), 123_456_789);
  assert.ok((at(store, 'vmm_cpu_seconds_total', l, T0) ?? -1) >= 0);
  const own = store.series().filter((x) => x.name.startsWith('vmm_')).length;
  assert.ok(own <= MANAGER_SERIES, `the manager's ${own} series fit the room kept for them`);
  store.close();
});
