import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { scratchDirs } from 'rondo-testkit';
import { collectModules, moduleName, parseModulesDep, resolveModules } from './modules.js';

const scratch = scratchDirs('vmm-modules');

// The relevant lines of Debian 12's modules.dep (6.1), in its own order.
const DEP = `kernel/drivers/virtio/virtio.ko:
kernel/drivers/virtio/virtio_ring.ko:
kernel/drivers/virtio/virtio_pci_modern_dev.ko:
kernel/drivers/virtio/virtio_pci_legacy_dev.ko:
kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko
kernel/drivers/virtio/virtio_mmio.ko: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko
kernel/drivers/char/virtio_console.ko: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko
kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko
`;

test('module names drop directories, compression suffixes and dashes', () => {
  assert.equal(moduleName('kernel/drivers/virtio/virtio-pci.ko.xz'), 'virtio_pci');
  assert.equal(moduleName('kernel/drivers/char/virtio_console.ko'), 'virtio_console');
  assert.equal(moduleName('virtio_blk.ko.zst'), 'virtio_blk');
});

test('every module comes after the modules it depends on', () => {
  const order = resolveModules(
    ['virtio_pci', 'virtio_mmio', 'virtio_console', 'virtio_blk'],
    parseModulesDep(DEP),
    new Set(),
  ).map((m) => m.name);
  assert.equal(order.length, 8);
  assert.equal(new Set(order).size, 8, 'each module once');
  const dep = parseModulesDep(DEP);
  for (const [i, name] of order.entries())
    for (const d of dep.get(name)!.deps) assert.ok(order.indexOf(moduleName(d)) < i, `${name} before ${d}`);
});

test('modules built into the kernel are skipped', () => {
  const order = resolveModules(['virtio_console'], parseModulesDep(DEP), new Set(['virtio', 'virtio_ring']));
  assert.deepEqual(order, [{ name: 'virtio_console', path: 'kernel/drivers/char/virtio_console.ko' }]);
});

test('a module the kernel lacks names who needed it', () => {
  const dep = parseModulesDep('kernel/x/virtio_console.ko: kernel/x/virtio.ko\n');
  assert.throws(() => resolveModules(['virtio_console'], dep, new Set()), {
    code: 'ERR_VMM_GUEST_BUILD',
    message: /no module virtio \(needed by virtio_console\)/,
  });
});

test('collectModules reads plain and compressed modules in load order', () => {
  const dir = scratch();
  mkdirSync(join(dir, 'kernel'));
  writeFileSync(join(dir, 'kernel/virtio.ko'), 'VIRTIO');
  writeFileSync(join(dir, 'kernel/virtio_ring.ko.gz'), gzipSync('RING'));
  const lines = [
    'kernel/virtio.ko:',
    'kernel/virtio_ring.ko.gz:',
    ...['virtio_pci', 'virtio_mmio', 'virtio_console', 'virtio_blk'].map(
      (m) => `kernel/${m}.ko: kernel/virtio_ring.ko.gz kernel/virtio.ko`,
    ),
  ];
  for (const m of ['virtio_pci', 'virtio_mmio', 'virtio_console', 'virtio_blk'])
    writeFileSync(join(dir, `kernel/${m}.ko`), m);
  writeFileSync(join(dir, 'modules.dep'), `${lines.join('\n')}\n`);
  const mods = collectModules(dir);
  assert.deepEqual(
    mods.map((m) => [m.name, m.data.toString()]),
    [
      ['virtio_ring', 'RING'],
      ['virtio', 'VIRTIO'],
      ['virtio_pci', 'virtio_pci'],
      ['virtio_mmio', 'virtio_mmio'],
      ['virtio_console', 'virtio_console'],
      ['virtio_blk', 'virtio_blk'],
    ],
  );
  assert.throws(() => collectModules(join(dir, 'none')), {
    code: 'ERR_VMM_GUEST_BUILD',
    message: /modules.dep is missing/,
  });
});
