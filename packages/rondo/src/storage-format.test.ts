// Checks docs/storage-format.md against the code and against bytes the code writes: the doc's
// header table, hash algorithm, example hash and size formula must all hold.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Store } from './index.js';
import { CHECKSUM_COVERS, FORMAT_VERSION, HEADER_BYTES, MAGIC, OFFSET } from './slab.js';
import { scratchDirs } from './test-fixtures/helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const doc = readFileSync(resolve(here, '../../../docs/storage-format.md'), 'utf8');
const scratch = scratchDirs('format');

interface Row {
  offset: number;
  size: number;
  type: string;
  field: string;
}

function headerTable(): Row[] {
  const section = doc.slice(doc.indexOf('### Header'), doc.indexOf('### Slots and timestamps'));
  const rows: Row[] = [];
  for (const line of section.split('\n')) {
    const m = /^\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\w+)\s*\|\s*`(\w+)`\s*\|/.exec(line);
    if (m) rows.push({ offset: Number(m[1]), size: Number(m[2]), type: m[3]!, field: m[4]! });
  }
  return rows;
}

/** FNV-1a 64 written from the doc's description, independently of src/hash.ts. */
function docFnv(bytes: Uint8Array): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) % 2n ** 64n;
  return h;
}

function readField(buf: Buffer, row: Row): bigint | number | string {
  if (row.type === 'ascii') return buf.toString('latin1', row.offset, row.offset + row.size);
  if (row.type === 'u32') return buf.readUInt32LE(row.offset);
  return buf.readBigUInt64LE(row.offset);
}

test('the header table is contiguous, covers 96 bytes, and matches the offsets in slab.ts', () => {
  const rows = headerTable();
  assert.ok(rows.length >= 16, `parsed ${rows.length} rows from the header table`);
  let next = 0;
  for (const row of rows) {
    assert.equal(row.offset, next, `field ${row.field} starts where the previous one ends`);
    assert.equal(row.size, row.type === 'u32' ? 4 : 8, `${row.field} size fits its type`);
    next = row.offset + row.size;
    if (!row.field.startsWith('reserved')) {
      assert.equal(OFFSET[row.field as keyof typeof OFFSET], row.offset, `OFFSET.${row.field}`);
    }
  }
  assert.equal(next, 96);
  // Every offset the code uses is documented.
  for (const [name, offset] of Object.entries(OFFSET)) {
    assert.ok(
      rows.some((r) => r.field === name && r.offset === offset),
      `${name} at ${offset} is in the doc`,
    );
  }
  assert.match(
    doc,
    new RegExp(
      `\\|\\s*48\\s*\\|\\s*8\\s*\\|\\s*u64\\s*\\|\\s*\`checksum\`\\s*\\|\\s*FNV-1a 64 over bytes 0–${CHECKSUM_COVERS - 1}`,
    ),
  );
  assert.match(doc, new RegExp(`header \\(${HEADER_BYTES} B\\)`));
  assert.match(doc, new RegExp(`\`${MAGIC}\``));
});

test('a slab written by the code reads back field by field as the doc describes', () => {
  const dir = scratch();
  const schema = {
    name: 'vm',
    match: { job: 'vmm' },
    maxSeries: 100,
    tiers: [
      { interval: '1s', retention: '10m' },
      { interval: '10s', retention: '6h', consolidation: 'avg' as const },
    ],
  };
  const store = Store.open(dir, { schemas: [schema] });
  const h = store.register('cpu_usage', { job: 'vmm', host: 'web1' });
  const t = 1_700_000_123_456;
  store.record(h, 42.5, t);
  store.close();

  const slab = readFileSync(join(dir, 'vm.0.slab'));
  const fields = Object.fromEntries(headerTable().map((row) => [row.field, readField(slab, row)]));
  const canonical =
    '{"name":"vm","match":[["job","vmm"]],"maxSeries":100,"tiers":[{"interval":1000,"retention":600000,"consolidation":null,"xff":0},{"interval":10000,"retention":21600000,"consolidation":"avg","xff":0}]}';
  assert.ok(doc.includes(canonical), 'the doc shows this canonical JSON');
  const hash = docFnv(Buffer.from(canonical));
  assert.ok(doc.includes(`0x${hash.toString(16)}`), 'the doc shows this hash');
  assert.deepEqual(fields, {
    magic: MAGIC,
    version: FORMAT_VERSION,
    headerBytes: HEADER_BYTES,
    schemaHash: hash,
    tierIndex: 0,
    slotCount: 600,
    seriesCapacity: 100,
    reserved36: 0,
    intervalNs: 1_000_000_000n,
    checksum: docFnv(slab.subarray(0, 48)),
    reserved56: 0n,
    newestSlot: BigInt(Math.floor(t / 1000)),
    dirtyFrom: 0n,
    consolidatedTo: 0n,
    seriesCount: 1,
    generation: 2, // one slot advance: incremented before and after
  });
  assert.ok(
    slab.subarray(96, HEADER_BYTES).every((b) => b === 0),
    'bytes 96–4095 are zero',
  );

  // File size = H + slot_count × (1 + C) × 8.
  assert.equal(statSync(join(dir, 'vm.0.slab')).size, 4096 + 600 * 101 * 8);
  assert.equal(statSync(join(dir, 'vm.1.slab')).size, 4096 + 2160 * 101 * 8);

  // Timestamp entry p = n mod slotCount holds n × interval in ns; the value sits in column 0 at p.
  const n = Math.floor(t / 1000);
  const p = n % 600;
  assert.equal(slab.readBigUInt64LE(4096 + p * 8), BigInt(n) * 1_000_000_000n);
  assert.equal(slab.readDoubleLE(4096 + 600 * 8 * (1 + 0) + p * 8), 42.5);
  // Column 1 belongs to no series: the advance left it alone (a new file holds zeros there).
  assert.equal(slab.readDoubleLE(4096 + 600 * 8 * (1 + 1) + p * 8), 0);
  // Every other position is empty (timestamp 0).
  for (let q = 0; q < 600; q++) if (q !== p) assert.equal(slab.readBigUInt64LE(4096 + q * 8), 0n);

  const meta = JSON.parse(readFileSync(join(dir, 'rondo.json'), 'utf8'));
  assert.equal(meta.format, 'rondo-store');
  assert.equal(meta.version, 1);
  assert.deepEqual(meta.series, [
    { name: 'cpu_usage', labels: { host: 'web1', job: 'vmm' }, schema: 'vm', column: 0 },
  ]);
  assert.deepEqual(meta.schemas[0].tiers[1], {
    interval: 10000,
    retention: 21600000,
    consolidation: 'avg',
    xff: 0,
  });
});
