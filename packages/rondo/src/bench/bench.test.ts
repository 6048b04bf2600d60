import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
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
import { BEGIN, END, type ReadmeFigures, RUST_DESIGN, readmeSection, replaceSection } from './readme.js';

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

  it('runQueryBench: warm, in fresh processes, and the floors beside them', async () => {
    const r = await runQueryBench({ slots: 600, processes: 2 });
    assert.equal(r.slots, 600);
    assert.equal(r.processes, 2);
    assertPercentiles(r.msPerQuery, 'msPerQuery');
    assertPercentiles(r.floorMs, 'floorMs');
    assertPositive(r.firstMs, 'firstMs');
    assertPositive(r.firstFloorMs, 'firstFloorMs');
    await assert.rejects(runQueryBench({ slots: 600, processes: 0 }), (err: unknown) => isRondoError(err));
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

describe('the README table (npm run bench -- --readme)', () => {
  const p = (p50: number): Percentiles => ({ p50, p99: 2 * p50, p999: 3 * p50 });
  const write = (opsPerSec: number): WriteBenchResult => ({
    node: 'v20.0.0',
    points: 10_000_000,
    series: 30,
    tiers: 1,
    record: { opsPerSec, nsPerCall: p(20), gcEvents: 0 },
    fsWriteSync: { opsPerSec: opsPerSec / 100, nsPerCall: p(2000) },
    udpSend: { opsPerSec: opsPerSec / 300, nsPerCall: p(6000) },
    ratio: { fsWriteSync: 100, udpSend: 300 },
  });
  const figures: ReadmeFigures = {
    node: 'v20.0.0',
    host: { cpu: 'Test CPU', cpus: 2 },
    write: [write(50e6), write(40e6)],
    query: {
      slots: 86_400,
      msPerQuery: p(0.2),
      floorMs: p(0.1),
      firstMs: 2,
      firstFloorMs: 1.25,
      processes: 5,
    },
    consolidate: { series: 30, tiers: 3, usPerCall: p(8) },
    catalog: {
      series: 100_000,
      registerFirstUs: 20,
      registerLastUs: 10,
      registerTotalMs: 1400,
      registerManyMs: 700,
      reopenMs: 200,
      reopen1kMs: 5,
      readerPickup1kMs: 2,
    },
  };

  it('puts each figure beside its same-run baseline, the ratio, the target and the Rust design', () => {
    const section = readmeSection(figures, new Date('2026-12-03T00:00:00Z'));
    const lines = section.split('\n');
    assert.equal(lines[0], BEGIN);
    assert.equal(lines.at(-1), END);
    assert.match(section, /Measured on 2026-12-03 with Node v20\.0\.0, Test CPU \(2 logical CPUs/);
    const row = (label: string): string[] => {
      const line = lines.find((l) => l.includes(label));
      assert.ok(line, `a row for ${label}`);
      return line.split('|').map((c) => c.trim());
    };
    // 1e9 / 50e6 = 20 ns; fs.writeSync at 1/100 of the rate = 2000 ns.
    assert.deepEqual(row('(1 tier)').slice(2, 7), [
      '20.0 ns (50.0 M/s)',
      '`fs.writeSync` 16 B: 2.0 µs',
      '100× faster',
      '≤ 6.0 ns (1.2× Rust)',
      `${RUST_DESIGN.recordNs.toFixed(1)} ns`,
    ]);
    assert.deepEqual(row('warm (p50)').slice(2, 7), [
      '0.20 ms (p99 0.40 ms)',
      'copying its bytes into fresh arrays: 0.10 ms',
      '2.00× the floor',
      '≤ 0.25 ms',
      '0.67 ms',
    ]);
    assert.deepEqual(row('fresh process').slice(2, 5), [
      '2.00 ms',
      "a fresh process writing the result's arrays: 1.25 ms",
      '1.60× the floor',
    ]);
    assert.deepEqual(row('last 1,000 of 100,000').slice(2, 6), ['10 µs', 'the first 1,000', '0.50×', '≤ 2×']);
    assert.deepEqual(row('reopen (writer), 100,000').slice(2, 3), ['200 ms']);
    // Aligned columns: every row of the table is as long as the header.
    const rows = lines.filter((l) => l.startsWith('|'));
    assert.ok(rows.length >= 14);
    for (const r of rows) assert.equal([...r].length, [...rows[0]!].length, r);
  });

  it('replaces only the generated section, and refuses a README without one', () => {
    const readme = `# title\n\nprose\n${BEGIN}\nold table\n${END}\n\nmore prose\n`;
    assert.equal(replaceSection(readme, 'NEW'), '# title\n\nprose\nNEW\n\nmore prose\n');
    for (const bad of ['# no markers\n', `${END}\n${BEGIN}\n`])
      assert.throws(
        () => replaceSection(bad, 'NEW'),
        (err: unknown) => isRondoError(err) && err.code === 'ERR_RONDO_INVALID_ARGUMENT',
      );
  });

  it("the repository's README carries a generated section", () => {
    const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf(BEGIN), readme.indexOf(END) + END.length);
    assert.ok(readme.includes(BEGIN) && section.endsWith(END), 'README.md has the bench:begin/end markers');
    assert.match(
      section,
      /\| figure +\| this run +\| baseline, same run +\| vs baseline +\| target +\| Rust design +\|/,
    );
    // The same rows as the generator makes now (a label changed without regenerating shows here).
    const labels = (text: string): string[] =>
      text
        .split('\n')
        .filter((l) => l.startsWith('|') && !l.startsWith('| ---'))
        .map((l) => l.split('|')[1]!.trim());
    assert.deepEqual(labels(section), labels(readmeSection(figures)));
  });
});
