import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, it } from 'node:test';
import { isRondoError } from '../errors.js';
import {
  formatInstrumentBench,
  formatWriteBench,
  type Percentiles,
  runConsolidateBench,
  runInstrumentBench,
  runQueryBench,
  runWriteBench,
  type WriteBenchResult,
} from './index.js';

// Shapes and sanity only: timings depend on the machine, so nothing here asserts a speed.

function assertPositive(value: number, what: string): void {
  assert.equal(typeof value, 'number', what);
  assert.ok(Number.isFinite(value) && value > 0, `${what} = ${value} should be finite and > 0`);
}

function assertPercentiles(p: Percentiles, what: string): void {
  assert.deepEqual(Object.keys(p).sort(), ['p50', 'p99', 'p999']);
  assertPositive(p.p50, `${what}.p50`);
  assertPositive(p.p99, `${what}.p99`);
  assertPositive(p.p999, `${what}.p999`);
  assert.ok(p.p50 <= p.p99 && p.p99 <= p.p999, `${what} percentiles are ordered`);
}

function benchDirs(): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith('rondo-bench-'));
}

function assertWriteResult(r: WriteBenchResult, series: number, tiers: number): void {
  assert.equal(r.node, process.version);
  assert.equal(r.series, series);
  assert.equal(r.tiers, tiers);
  assert.ok(Number.isInteger(r.points) && r.points > 0);
  assert.equal(r.points % series, 0, 'whole rounds only');
  assertPositive(r.record.opsPerSec, 'record.opsPerSec');
  assertPercentiles(r.record.nsPerCall, 'record.nsPerCall');
  assert.ok(Number.isInteger(r.record.gcEvents) && r.record.gcEvents >= 0);
  for (const key of ['fsWriteSync', 'udpSend'] as const) {
    assertPositive(r[key].opsPerSec, `${key}.opsPerSec`);
    assertPercentiles(r[key].nsPerCall, `${key}.nsPerCall`);
    assertPositive(r.ratio[key], `ratio.${key}`);
  }
}

describe('rondo/bench', () => {
  it('runWriteBench with one tier returns finite figures and reports progress', async () => {
    const before = benchDirs().length;
    const progress: [number, number][] = [];
    const r = await runWriteBench({ points: 3000, series: 3, onProgress: (d, t) => progress.push([d, t]) });
    assertWriteResult(r, 3, 1);
    assert.ok(progress.length > 0);
    const [done, total] = progress[progress.length - 1]!;
    assert.equal(done, total);
    assert.ok(benchDirs().length <= before, 'the temporary store is removed');
    const text = formatWriteBench(r);
    for (const word of ['record()', 'fs.writeSync', 'dgram send', 'GC events', 'Method']) {
      assert.ok(text.includes(word), `the table mentions ${word}`);
    }
  });

  it('runWriteBench with three tiers', async () => {
    assertWriteResult(await runWriteBench({ points: 2000, series: 4, tiers: 3 }), 4, 3);
  });

  it('runWriteBench rejects bad options', async () => {
    const invalid = (err: unknown) => isRondoError(err) && err.code === 'ERR_RONDO_INVALID_ARGUMENT';
    await assert.rejects(runWriteBench({ points: 0 }), invalid);
    await assert.rejects(runWriteBench({ series: 1.5 }), invalid);
    await assert.rejects(runWriteBench({ tiers: 2 as 1 }), invalid);
    await assert.rejects(runQueryBench({ slots: 1 }), invalid);
  });

  it('runQueryBench', async () => {
    const r = await runQueryBench({ slots: 600 });
    assert.equal(r.slots, 600);
    assertPercentiles(r.msPerQuery, 'msPerQuery');
  });

  it('runConsolidateBench', async () => {
    const r = await runConsolidateBench({ series: 3, calls: 50 });
    assert.equal(r.series, 3);
    assert.equal(r.tiers, 3);
    assertPercentiles(r.usPerCall, 'usPerCall');
  });

  it('runInstrumentBench: the runtime collector and the prom-client bridge per sample', async () => {
    const r = await runInstrumentBench({ samples: 50, spaced: 5, idleMs: 100, promMetrics: 50 });
    assert.ok(r.runtime.series >= 50);
    assertPercentiles(r.runtime.hotUs, 'runtime.hotUs');
    assertPercentiles(r.runtime.spacedUs, 'runtime.spacedUs');
    assert.ok(r.runtime.idleCpuUsPerSec.with >= 0 && r.runtime.idleCpuUsPerSec.without >= 0);
    assert.ok(r.promClient !== null, 'prom-client is a dev dependency');
    assert.ok(r.promClient.metrics >= 50, `${r.promClient.metrics} metrics`);
    assert.ok(r.promClient.series > r.promClient.metrics);
    assertPercentiles(r.promClient.sampleUs, 'promClient.sampleUs');
    const text = formatInstrumentBench(r).join('\n');
    for (const word of ['runtime collector', 'prom-client bridge', 'getMetricsAsJSON'])
      assert.ok(text.includes(word));
  });
});
