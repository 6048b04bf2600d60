// Creating a store: what is refused before anything is written (slabs this Node cannot map, a
// disk too small, a directory of another program), and what is cleaned up when it fails midway
// or was interrupted before.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store, writerActive } from './index.js';
import { MAX_MAPPABLE_BYTES, unmappable } from './slab.js';
import { oneTier, scratchDirs, throwsCode } from './test-fixtures/helpers.js';

const scratch = scratchDirs('create');

test('a slab this Node cannot map is ERR_RONDO_CONFIG before anything is created', () => {
  // 86,400 slots × 6,213 series is just over 4 GiB: Node 20's largest ArrayBuffer.
  const schema = { name: 'big', maxSeries: 6213, tiers: [{ interval: '1s', retention: '1d' }] };
  const bytes = 4096 + 86_400 * 6214 * 8;
  if (MAX_MAPPABLE_BYTES < bytes) {
    const d = join(scratch(), 'store');
    throwsCode(() => Store.open(d, { schemas: [schema] }), 'ERR_RONDO_CONFIG', /larger than Node .* can map/);
    assert.equal(existsSync(d), false, 'nothing was created');
  } else {
    assert.equal(unmappable(bytes), null, `Node ${process.version} maps ${bytes} bytes`);
  }
  assert.match(unmappable(MAX_MAPPABLE_BYTES + 1) ?? '', new RegExp(`${MAX_MAPPABLE_BYTES} bytes`));
});

test('a store larger than the free disk is ERR_RONDO_IO giving both sizes, before anything is created', () => {
  const free = statfsSync(tmpdir()).bavail * statfsSync(tmpdir()).bsize;
  // Slabs of ~1 GiB each (mappable everywhere), enough of them for 1.5 × the free space.
  const tier = { interval: '1s', retention: '1d' };
  const slab = 4096 + 86_400 * 1501 * 8;
  const count = Math.ceil((1.5 * free) / slab) + 1;
  const schemas = Array.from({ length: count }, (_, i) => ({
    name: `s${i}`,
    match: { s: String(i) },
    maxSeries: 1500,
    tiers: [tier],
  }));
  const d = join(scratch(), 'store');
  const err = throwsCode(
    () => Store.open(d, { schemas }),
    'ERR_RONDO_IO',
    /needs .* and the file system has .* free/,
  );
  assert.match(err.message, new RegExp(`\\(${count * slab} bytes\\)`));
  assert.equal(existsSync(d), false, 'nothing was created');
});

test('a creation that fails midway removes every file it made', () => {
  const d = scratch();
  // The second slab's path is taken by a directory: the first slab is made, then creation fails.
  mkdirSync(join(d, 's.1.slab'));
  const schema = {
    name: 's',
    maxSeries: 2,
    tiers: [
      { interval: 1000, retention: 10_000 },
      { interval: 5000, retention: 50_000, consolidation: 'avg' as const },
    ],
  };
  throwsCode(() => Store.open(d, { schemas: [schema] }), 'ERR_RONDO_IO', join(d, 's.1.slab'));
  assert.deepEqual(readdirSync(d), ['s.1.slab'], 'only what was there before is left');
  assert.equal(writerActive(d), false);
});

test("a directory of another program is refused; one left by an interrupted creation is rondo's own", () => {
  const foreign = scratch();
  mkdirSync(join(foreign, 'wal'));
  writeFileSync(join(foreign, 'queries.active'), '');
  throwsCode(
    () => Store.open(foreign, { schemas: [oneTier('s', 1000, 10)] }),
    'ERR_RONDO_CONFIG',
    /is not empty and is not a rondo store \(it holds (wal, queries.active|queries.active, wal)\)/,
  );
  assert.deepEqual(readdirSync(foreign).sort(), ['queries.active', 'wal'], 'nothing was added');
  // A creation killed after its first slab, with a temp file of a process that is gone.
  const interrupted = scratch();
  writeFileSync(join(interrupted, 'LOCK'), '12345\n');
  writeFileSync(join(interrupted, 's.0.slab'), Buffer.alloc(100));
  writeFileSync(join(interrupted, 'rondo.json.tmp-2147483646'), '{"format"');
  const store = Store.open(interrupted, { schemas: [oneTier('s', 1000, 10)] });
  store.record(store.register('m'), 1, 1_700_000_000_000);
  store.close();
  assert.deepEqual(readdirSync(interrupted).sort(), ['LOCK', 'rondo.json', 's.0.slab', 'series.journal']);
});

test('the writer removes temp files of dead processes, never those of live ones', () => {
  const d = scratch();
  Store.open(d, { schemas: [oneTier('s', 1000, 10)] }).close();
  const dead = join(d, 'rondo.json.tmp-2147483646');
  const live = join(d, `rondo.json.tmp-${process.ppid}`);
  writeFileSync(dead, 'x');
  writeFileSync(live, 'x');
  Store.open(d, { readOnly: true }).close();
  assert.ok(existsSync(dead), 'a reader removes nothing');
  Store.open(d).close();
  assert.equal(existsSync(dead), false);
  assert.ok(existsSync(live));
});

test('a failed open unmaps every slab it had mapped', { skip: process.platform !== 'linux' }, () => {
  const d = scratch();
  const schema = {
    name: 's',
    maxSeries: 2,
    tiers: [
      { interval: 1000, retention: 10_000 },
      { interval: 5000, retention: 50_000, consolidation: 'avg' as const },
    ],
  };
  Store.open(d, { schemas: [schema] }).close();
  writeFileSync(join(d, 's.1.slab'), Buffer.alloc(10)); // tier 1 damaged: tier 0 is mapped first
  const mapped = (): number =>
    readFileSync('/proc/self/maps', 'utf8')
      .split('\n')
      .filter((l) => l.includes(d)).length;
  for (let i = 0; i < 5; i++) {
    throwsCode(() => Store.open(d), 'ERR_RONDO_CORRUPT', join(d, 's.1.slab'));
    throwsCode(() => Store.open(d, { readOnly: true }), 'ERR_RONDO_CORRUPT', join(d, 's.1.slab'));
  }
  assert.equal(mapped(), 0);
});

test('I/O errors name the file, rondo.json included', () => {
  const d = scratch();
  Store.open(d, { schemas: [oneTier('s', 1000, 10)] }).close();
  // A directory where the writer's temp file for rondo.json goes: replacing rondo.json fails.
  mkdirSync(join(d, `rondo.json.tmp-${process.pid}`));
  const schemas = [{ ...oneTier('s', 1000, 10), retireAfter: '1m' }];
  throwsCode(() => Store.open(d, { schemas }), 'ERR_RONDO_IO', join(d, 'rondo.json'));
  assert.equal(writerActive(d), false);
});
