/**
 * The kernel modules the guest loads (virtio transport, console and block), found through the
 * kernel's modules.dep with their dependencies first, and unpacked when the distribution
 * compresses them (busybox insmod loads plain .ko files only).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { VmmError } from '../errors.js';
import { decompress } from './kernel.js';

/** What the guest needs: virtio over PCI (-M pc) and MMIO (-M microvm), the serial port, the disk. */
export const GUEST_MODULES = ['virtio_pci', 'virtio_mmio', 'virtio_console', 'virtio_blk'] as const;

/** One module to put in the initramfs. */
export interface GuestModule {
  /** Module name with underscores, e.g. `virtio_pci`. */
  name: string;
  /** Its file, relative to the modules directory. */
  path: string;
}

/** `kernel/drivers/virtio/virtio-pci.ko.xz` → `virtio_pci`. */
export function moduleName(path: string): string {
  return basename(path)
    .replace(/\.ko(\.(xz|gz|zst))?$/, '')
    .replaceAll('-', '_');
}

/** Parses modules.dep: module name → its path and the paths it depends on. */
export function parseModulesDep(text: string): Map<string, { path: string; deps: string[] }> {
  const out = new Map<string, { path: string; deps: string[] }>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const path = line.slice(0, colon).trim();
    const deps = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    out.set(moduleName(path), { path, deps });
  }
  return out;
}

/**
 * The modules to load for `wanted`, each after the modules it depends on, skipping those built
 * into the kernel (listed in modules.builtin). Throws ERR_VMM_GUEST_BUILD for a module that is
 * neither.
 */
export function resolveModules(
  wanted: readonly string[],
  dep: Map<string, { path: string; deps: string[] }>,
  builtin: ReadonlySet<string>,
): GuestModule[] {
  const order: GuestModule[] = [];
  const done = new Set<string>();
  const visit = (name: string, chain: string[]): void => {
    if (done.has(name) || builtin.has(name)) return;
    const entry = dep.get(name);
    if (entry === undefined)
      throw new VmmError(
        'ERR_VMM_GUEST_BUILD',
        `the kernel has no module ${name}${chain.length ? ` (needed by ${chain.join(' ← ')})` : ''} and does not build it in`,
      );
    done.add(name);
    for (const d of entry.deps) visit(moduleName(d), [name, ...chain]);
    order.push({ name, path: entry.path });
  };
  for (const name of wanted) visit(name, []);
  return order;
}

/** The guest's modules from `modulesDir` (/lib/modules/<release>), in load order, as plain .ko bytes. */
export function collectModules(modulesDir: string): { name: string; data: Buffer }[] {
  const depFile = join(modulesDir, 'modules.dep');
  if (!existsSync(depFile))
    throw new VmmError('ERR_VMM_GUEST_BUILD', `${depFile} is missing — apt-get install linux-image-amd64`);
  const builtinFile = join(modulesDir, 'modules.builtin');
  const builtin = new Set(
    existsSync(builtinFile)
      ? readFileSync(builtinFile, 'utf8').split('\n').filter(Boolean).map(moduleName)
      : [],
  );
  const modules = resolveModules(GUEST_MODULES, parseModulesDep(readFileSync(depFile, 'utf8')), builtin);
  return modules.map(({ name, path }) => {
    const raw = readFileSync(join(modulesDir, path));
    if (path.endsWith('.ko')) return { name, data: raw };
    const data = decompress(raw, join(modulesDir, path));
    if (typeof data === 'string') throw new VmmError('ERR_VMM_GUEST_BUILD', data);
    return { name, data };
  });
}
