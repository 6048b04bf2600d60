// Checks docs/storage-format.md against the code and against bytes the code writes: the doc's
// header table, hash algorithm, example hash and size formula must all hold.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { IDENTITY_AT, JOURNAL_HEADER_BYTES, JOURNAL_OFFSET } from './catalog/journal.js';
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

/** The rows of the first field table after heading `from` (and before `to`, when given). */
function table(from: string, to?: string): Row[] {
  const start = doc.indexOf(from);
  assert.ok(start >= 0, `the doc has a section ${from}`);
  const section = doc.slice(start, to === undefined ? undefined : doc.indexOf(to, start));
  const rows: Row[] = [];
  for (const line of section.split('\n')) {
    const m = /^\|\s*(\d+)\s*\|\s*(\d+|…)\s*\|\s*(\w+)\s*\|\s*`(\w+)`\s*\|/.exec(line);
    if (m)
      rows.push({ offset: Number(m[1]), size: m[2] === '…' ? -1 : Number(m[2]), type: m[3]!, field: m[4]! });
  }
  return rows;
}

function headerTable(): Row[] {
  return table('### Header', '### Slots and timestamps');
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

test('the header table is contiguous, covers 104 bytes, and matches the offsets in slab.ts', () => {
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
  assert.equal(next, 104);
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
    catalogSeq: 1, // one register record appended
    superseded: 0,
  });
  assert.ok(
    slab.subarray(104, HEADER_BYTES).every((b) => b === 0),
    'bytes 104–4095 are zero',
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
  assert.equal(meta.version, 2);
  assert.equal(meta.generation, 0);
  assert.equal(meta.series, undefined, 'the series are in the journal');
  assert.deepEqual(meta.schemas[0].tiers[1], {
    interval: 10000,
    retention: 21600000,
    consolidation: 'avg',
    xff: 0,
  });
});

/** Reads a field of a journal table from `buf` at `base`. */
function readJournalField(buf: Buffer, base: number, row: Row): bigint | number | string | Buffer {
  const at = base + row.offset;
  switch (row.type) {
    case 'ascii':
      return buf.toString('latin1', at, at + row.size);
    case 'u8':
      return buf.readUInt8(at);
    case 'u16':
      return buf.readUInt16LE(at);
    case 'u32':
      return buf.readUInt32LE(at);
    case 'f64':
      return buf.readDoubleLE(at);
    case 'u64':
      return buf.readBigUInt64LE(at);
    default:
      return buf.subarray(at, row.size < 0 ? undefined : at + row.size);
  }
}

test('the journal tables are contiguous and match the code', () => {
  const header = table('### Journal header', '### Records');
  let next = 0;
  for (const row of header) {
    assert.equal(row.offset, next, `journal header field ${row.field} starts where the previous one ends`);
    next = row.offset + row.size;
    if (!row.field.startsWith('reserved'))
      assert.equal(
        JOURNAL_OFFSET[row.field as keyof typeof JOURNAL_OFFSET],
        row.offset,
        `JOURNAL_OFFSET.${row.field}`,
      );
  }
  assert.equal(next, JOURNAL_HEADER_BYTES);
  for (const [name, offset] of Object.entries(JOURNAL_OFFSET))
    assert.ok(
      header.some((r) => r.field === name && r.offset === offset),
      `${name} at ${offset} is in the doc`,
    );
  const register = table('Register (type 1):', 'Retire (type 2):');
  assert.equal(register.at(-1)!.field, 'identity');
  assert.equal(register.at(-1)!.offset, IDENTITY_AT);
  const retire = table('Retire (type 2):');
  assert.equal(retire.at(-1)!.offset + retire.at(-1)!.size, 24);
});

test('a journal written by the code reads back as the doc describes', () => {
  const dir = scratch();
  const schemas = [{ name: 'vm', maxSeries: 4, tiers: [{ interval: '1s', retention: '1m' }] }];
  const store = Store.open(dir, { schemas });
  const h = store.register('cpu', { z: 'é', a: '1' }, { type: 'counter' });
  store.record(h, 1, 1_700_000_000_000);
  store.retire(h);
  store.close();
  const buf = readFileSync(join(dir, 'series.journal'));
  const head = Object.fromEntries(
    table('### Journal header', '### Records').map((r) => [r.field, readJournalField(buf, 0, r)]),
  );
  const canonical =
    '{"name":"vm","match":[],"maxSeries":4,"tiers":[{"interval":1000,"retention":60000,"consolidation":null,"xff":0}]}';
  assert.deepEqual(head, {
    magic: 'RONDOJNL',
    version: 1,
    headerBytes: 64,
    handleFloor: 0,
    schemasHash: docFnv(Buffer.from(canonical)),
    reserved32: Buffer.alloc(24),
    checksum: docFnv(buf.subarray(0, 56)),
  });
  // Record 1: register. Length, CRC-32 of the payload, then the fields of the table.
  let at = 64;
  const length = buf.readUInt32LE(at);
  assert.equal(buf.readUInt32LE(at + 4), crc32(buf.subarray(at + 8, at + 8 + length)));
  const payload = buf.subarray(at + 8, at + 8 + length);
  const reg = Object.fromEntries(
    table('Register (type 1):', 'Retire (type 2):').map((r) => [r.field, readJournalField(payload, 0, r)]),
  );
  const identity = Buffer.concat(
    [['cpu'], ['a', '1'], ['z', 'é']].flatMap((texts, i) => {
      const parts = texts.map((t) => {
        const b = Buffer.from(t, 'utf8');
        const n = Buffer.alloc(4);
        n.writeUInt32LE(b.length);
        return Buffer.concat([n, b]);
      });
      if (i !== 0) return parts;
      const k = Buffer.alloc(4);
      k.writeUInt32LE(2);
      return [...parts, k];
    }),
  );
  assert.deepEqual(reg, { type: 1, flags: 1, schema: 0, column: 0, handle: h, floor: 0, identity });
  // Record 2: retire, at the end of the newest tier-0 slot.
  at += 8 + length;
  const ret = Object.fromEntries(
    table('Retire (type 2):').map((r) => [r.field, readJournalField(buf, at + 8, r)]),
  );
  assert.deepEqual(ret, { type: 2, reserved1: Buffer.alloc(7), handle: h, retiredAt: 1_700_000_001_000 });
  assert.equal(at + 8 + buf.readUInt32LE(at), buf.length);
});
