import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { scratchDirs } from 'rondo-testkit';
import { readCpio } from '../test-fixtures/cpio-reader.js';
import { needsVms, testGuest } from '../test-fixtures/vm.js';
import { buildGuest, defaultGuestDir, loadGuest } from './build.js';
import { PROTOCOL_VERSION } from './protocol.js';

const scratch = scratchDirs('vmm-build');

test('build-guest assembles kernel, initramfs and manifest from the Debian packages', needsVms(), () => {
  const dir = join(scratch(), 'guest');
  const guest = testGuest(dir);
  const m = guest.manifest;
  assert.equal(m.protocol, PROTOCOL_VERSION);
  assert.match(m.release, /^\d+\.\d+/);
  assert.ok(statSync(guest.kernel).size > 1_000_000, 'a real kernel');
  if (m.kernel === 'vmlinux')
    assert.equal(readFileSync(guest.kernel).readUInt32BE(0), 0x7f454c46, 'an ELF kernel');
  else assert.ok(m.kernelNote, 'a bzImage is used only with a reason');
  const members = readCpio(gunzipSync(readFileSync(guest.initrd)));
  const byName = new Map(members.map((e) => [e.name, e]));
  assert.ok(byName.get('init')!.data.toString().startsWith('#!/bin/busybox sh'));
  assert.equal(byName.get('init')!.mode & 0o777, 0o755);
  assert.ok(byName.get('bin/busybox')!.data.equals(readFileSync('/bin/busybox')));
  assert.deepEqual(byName.get('dev/console')!.rdev, [5, 1]);
  assert.ok(byName.has('etc/rondo/report.awk'));
  const order = byName.get('lib/modules/order')!.data.toString().trim().split('\n');
  assert.deepEqual(order, m.sources.modules);
  for (const name of ['virtio', 'virtio_mmio', 'virtio_console', 'virtio_blk']) {
    const ko = byName.get(`lib/modules/${name}.ko`);
    // A module built into the kernel has no file; a loadable one must be an ELF object.
    if (order.includes(name)) assert.equal(ko!.data.readUInt32BE(0), 0x7f454c46, name);
  }
  assert.ok(order.indexOf('virtio_console') > order.indexOf('virtio'));
  // Building again replaces the guest in place.
  const again = buildGuest({ out: dir });
  assert.notEqual(again.manifest.built, '');
  assert.deepEqual(loadGuest(dir).manifest, again.manifest);
});

test('loadGuest says how to build a guest that is missing, stale or incomplete', () => {
  const dir = scratch();
  assert.throws(() => loadGuest(join(dir, 'none')), {
    code: 'ERR_VMM_NO_GUEST',
    message: /no guest in .*none .*run `rondo-vmm build-guest --out /,
  });
  const manifest = { format: 1, protocol: PROTOCOL_VERSION, kernel: 'vmlinux' };
  writeFileSync(join(dir, 'guest.json'), JSON.stringify({ ...manifest, protocol: 0 }));
  assert.throws(() => loadGuest(dir), {
    code: 'ERR_VMM_NO_GUEST',
    message: /built by another rondo-vmm version/,
  });
  writeFileSync(join(dir, 'guest.json'), JSON.stringify(manifest));
  assert.throws(() => loadGuest(dir), { code: 'ERR_VMM_NO_GUEST', message: /lacks .*vmlinux/ });
});

test('the default guest directory follows RONDO_VMM_GUEST, then XDG_CACHE_HOME', () => {
  const saved = { g: process.env['RONDO_VMM_GUEST'], x: process.env['XDG_CACHE_HOME'] };
  try {
    process.env['RONDO_VMM_GUEST'] = '/srv/guest';
    assert.equal(defaultGuestDir(), '/srv/guest');
    delete process.env['RONDO_VMM_GUEST'];
    process.env['XDG_CACHE_HOME'] = '/var/cache/me';
    assert.equal(defaultGuestDir(), '/var/cache/me/rondo-vmm/guest');
  } finally {
    for (const [k, v] of [
      ['RONDO_VMM_GUEST', saved.g],
      ['XDG_CACHE_HOME', saved.x],
    ] as const)
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
});

test('build-guest refuses a dynamically linked busybox', () => {
  assert.throws(() => buildGuest({ out: join(scratch(), 'g'), busybox: process.execPath }), {
    code: 'ERR_VMM_GUEST_BUILD',
    message: /not a statically linked busybox — apt-get install -y busybox-static/,
  });
  assert.throws(() => buildGuest({ out: join(scratch(), 'g'), busybox: '/nonexistent/busybox' }), {
    code: 'ERR_VMM_GUEST_BUILD',
    message: /no busybox at/,
  });
});
