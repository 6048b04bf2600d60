import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { scratchDirs } from 'rondo-testkit';
import { fakeBzImage, fakeElf, fakeKernelElf } from '../test-fixtures/images.js';
import { hasPvhNote, isElf64, isStaticElf } from './elf.js';
import { bzImagePayload, compareReleases, decompress, findKernel, unpackKernel } from './kernel.js';

const scratch = scratchDirs('vmm-kernel');

test('ELF checks: static vs dynamic, PVH note, not an ELF', () => {
  assert.equal(isStaticElf(fakeElf([{ type: 1 }])), true);
  assert.equal(isStaticElf(fakeElf([{ type: 1 }, { type: 3, data: Buffer.from('/lib/ld.so\0') }])), false);
  assert.equal(isStaticElf(Buffer.from('#!/bin/sh\n'.padEnd(100))), false);
  assert.equal(isElf64(Buffer.alloc(10)), false);
  assert.equal(hasPvhNote(fakeKernelElf(true)), true);
  assert.equal(hasPvhNote(fakeKernelElf(false)), false);
});

test('this Node binary is a dynamically linked ELF: not what an initramfs can run', () => {
  const node = readFileSync(process.execPath);
  assert.equal(isElf64(node), true);
  assert.equal(isStaticElf(node), false);
});

test('kernel releases sort by their numbers', () => {
  const sorted = ['6.1.0-100-amd64', '6.10.0-1-amd64', '6.1.0-9-amd64', '5.10.0-30-amd64'].sort(
    compareReleases,
  );
  assert.deepEqual(sorted, ['5.10.0-30-amd64', '6.1.0-9-amd64', '6.1.0-100-amd64', '6.10.0-1-amd64']);
});

test('the payload of a bzImage is found from its setup header', () => {
  const payload = Buffer.from('compressed kernel');
  assert.deepEqual(bzImagePayload(fakeBzImage(payload)), payload);
  assert.equal(bzImagePayload(Buffer.alloc(4096)), null, 'no HdrS signature');
  const old = fakeBzImage(payload);
  old.writeUInt16LE(0x206, 0x206);
  assert.equal(bzImagePayload(old), null, 'boot protocol before 2.08 has no payload fields');
});

test('gzip payloads are unpacked in-process; unknown formats give a reason', () => {
  const data = Buffer.from('kernel bytes');
  assert.deepEqual(decompress(gzipSync(data), 'k'), data);
  assert.match(String(decompress(Buffer.from('????'), 'k')), /format build-guest does not unpack/);
});

test('unpackKernel returns the ELF of a bzImage with a PVH kernel, else the reason', () => {
  const dir = scratch();
  const good = join(dir, 'vmlinuz-good');
  writeFileSync(good, fakeBzImage());
  const r = unpackKernel(good);
  assert.ok('elf' in r, JSON.stringify(r));
  assert.ok(r.elf.equals(fakeKernelElf()));
  const noPvh = join(dir, 'vmlinuz-nopvh');
  writeFileSync(noPvh, fakeBzImage(gzipSync(fakeKernelElf(false))));
  assert.deepEqual(unpackKernel(noPvh), { reason: `${noPvh} has no PVH entry (CONFIG_PVH)` });
  const notBz = join(dir, 'vmlinuz-raw');
  writeFileSync(notBz, Buffer.alloc(1000));
  assert.deepEqual(unpackKernel(notBz), { reason: `${notBz} is not a bzImage` });
  assert.throws(() => unpackKernel(join(dir, 'missing')), {
    code: 'ERR_VMM_GUEST_BUILD',
    message: /cannot read/,
  });
});

test('findKernel picks the newest kernel whose modules are installed', () => {
  const dir = scratch();
  const boot = join(dir, 'boot');
  const mods = join(dir, 'modules');
  mkdirSync(boot);
  for (const r of ['6.1.0-9-amd64', '6.1.0-10-amd64', '6.5.0-1-amd64'])
    writeFileSync(join(boot, `vmlinuz-${r}`), 'x');
  for (const r of ['6.1.0-9-amd64', '6.1.0-10-amd64']) {
    mkdirSync(join(mods, r), { recursive: true });
    writeFileSync(join(mods, r, 'modules.dep'), '');
  }
  assert.deepEqual(findKernel(undefined, boot, mods), {
    image: join(boot, 'vmlinuz-6.1.0-10-amd64'),
    release: '6.1.0-10-amd64',
    modulesDir: join(mods, '6.1.0-10-amd64'),
  });
  assert.equal(findKernel(join(boot, 'vmlinuz-6.1.0-9-amd64'), boot, mods).release, '6.1.0-9-amd64');
  assert.throws(() => findKernel(join(boot, 'vmlinuz-6.5.0-1-amd64'), boot, mods), {
    code: 'ERR_VMM_GUEST_BUILD',
    message: /no modules for kernel 6.5.0-1-amd64/,
  });
  assert.throws(() => findKernel(join(boot, 'nope'), boot, mods), {
    code: 'ERR_VMM_GUEST_BUILD',
    message: /no kernel at/,
  });
  assert.throws(() => findKernel(undefined, join(dir, 'empty'), mods), {
    code: 'ERR_VMM_GUEST_BUILD',
    message: /apt-get install -y linux-image-amd64/,
  });
});
