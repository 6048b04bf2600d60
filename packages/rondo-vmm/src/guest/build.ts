/**
 * `rondo-vmm build-guest`: assembles the guest from Debian packages only — the kernel
 * (linux-image-amd64), its virtio modules, busybox-static and the init and reporter scripts of
 * this package — into a directory holding the kernel, a gzip'd cpio initramfs and guest.json.
 * Nothing is downloaded. `loadGuest` is what `run` uses to find it again.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { VmmError } from '../errors.js';
import { type CpioEntry, writeCpio } from './cpio.js';
import { isStaticElf } from './elf.js';
import { findKernel, unpackKernel } from './kernel.js';
import { collectModules } from './modules.js';
import { PROTOCOL_VERSION } from './protocol.js';

/** guest.json: what a built guest holds. */
export interface GuestManifest {
  /** Layout version of this directory. */
  format: 1;
  /** Serial protocol version of its init scripts. */
  protocol: number;
  /** Kernel release. */
  release: string;
  /** The kernel file in the directory: `vmlinux` (ELF, booted directly) or `vmlinuz` (bzImage). */
  kernel: 'vmlinux' | 'vmlinuz';
  /** Why the bzImage is used instead of the ELF kernel (null when the ELF is used). */
  kernelNote: string | null;
  /** Where the kernel, busybox and modules came from. */
  sources: { kernel: string; busybox: string; modules: string[] };
  /** When it was built (ISO 8601). */
  built: string;
}

/** A built guest, ready to boot. */
export interface Guest {
  /** Its directory. */
  dir: string;
  /** The kernel to pass to -kernel. */
  kernel: string;
  /** The initramfs to pass to -initrd. */
  initrd: string;
  /** Its manifest. */
  manifest: GuestManifest;
}

/** Options of {@link buildGuest}. */
export interface BuildGuestOptions {
  /** Output directory; default {@link defaultGuestDir}. */
  out?: string;
  /** Kernel bzImage; default the newest /boot/vmlinuz-* with modules. */
  kernel?: string;
  /** busybox-static binary; default /bin/busybox. */
  busybox?: string;
}

const INITRD = 'initramfs.cpio.gz';
const MANIFEST = 'guest.json';
/** The package's guest/ directory (init.sh, report.awk), from dist/guest/. */
const ASSETS = new URL('../../guest/', import.meta.url);

/** Where build-guest writes and run looks: $RONDO_VMM_GUEST, else ~/.cache/rondo-vmm/guest. */
export function defaultGuestDir(): string {
  const env = process.env['RONDO_VMM_GUEST'];
  if (env) return resolve(env);
  const cache = process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return join(cache, 'rondo-vmm', 'guest');
}

function busyboxBytes(path: string): Buffer {
  if (!existsSync(path))
    throw new VmmError('ERR_VMM_GUEST_BUILD', `no busybox at ${path} — apt-get install -y busybox-static`);
  const data = readFileSync(path);
  if (!isStaticElf(data))
    throw new VmmError(
      'ERR_VMM_GUEST_BUILD',
      `${path} is not a statically linked busybox — apt-get install -y busybox-static (it replaces busybox)`,
    );
  return data;
}

/** The initramfs members: directories, device nodes, busybox, the scripts and the modules. */
function initramfsEntries(busybox: Buffer, modules: { name: string; data: Buffer }[]): CpioEntry[] {
  const asset = (name: string): Buffer => readFileSync(new URL(name, ASSETS));
  const entries: CpioEntry[] = [
    'bin',
    'dev',
    'etc',
    'etc/rondo',
    'lib',
    'lib/modules',
    'proc',
    'sys',
    'tmp',
  ].map((path) => ({ type: 'dir', path, mode: path === 'tmp' ? 0o1777 : 0o755 }));
  entries.push(
    // The kernel opens /dev/console for init before init can mount devtmpfs.
    { type: 'char', path: 'dev/console', major: 5, minor: 1 },
    { type: 'char', path: 'dev/null', major: 1, minor: 3, mode: 0o666 },
    { type: 'file', path: 'bin/busybox', data: busybox, mode: 0o755 },
    { type: 'file', path: 'init', data: asset('init.sh'), mode: 0o755 },
    { type: 'file', path: 'etc/rondo/report.awk', data: asset('report.awk') },
  );
  for (const m of modules) entries.push({ type: 'file', path: `lib/modules/${m.name}.ko`, data: m.data });
  entries.push({
    type: 'file',
    path: 'lib/modules/order',
    data: Buffer.from(modules.map((m) => `${m.name}\n`).join('')),
  });
  return entries;
}

/**
 * Builds the guest into `options.out` (replacing what is there, atomically: a run that starts
 * meanwhile sees the old guest or the new one). Returns the guest.
 */
export function buildGuest(options: BuildGuestOptions = {}): Guest {
  const out = resolve(options.out ?? defaultGuestDir());
  const busyboxPath = options.busybox ?? '/bin/busybox';
  const busybox = busyboxBytes(busyboxPath);
  const kernel = findKernel(options.kernel);
  const modules = collectModules(kernel.modulesDir);
  const unpacked = unpackKernel(kernel.image);
  const kernelFile = 'elf' in unpacked ? 'vmlinux' : 'vmlinuz';

  const tmp = `${out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    writeFileSync(join(tmp, kernelFile), 'elf' in unpacked ? unpacked.elf : readFileSync(kernel.image));
    const cpio = writeCpio(initramfsEntries(busybox, modules));
    writeFileSync(join(tmp, INITRD), gzipSync(cpio, { level: 6 }));
    const manifest: GuestManifest = {
      format: 1,
      protocol: PROTOCOL_VERSION,
      release: kernel.release,
      kernel: kernelFile,
      kernelNote: 'reason' in unpacked ? unpacked.reason : null,
      sources: {
        kernel: kernel.image,
        busybox: busyboxPath,
        modules: modules.map((m) => m.name),
      },
      built: new Date().toISOString(),
    };
    writeFileSync(join(tmp, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    mkdirSync(dirname(out), { recursive: true });
    const old = `${out}.old-${process.pid}`;
    if (existsSync(out)) renameSync(out, old);
    renameSync(tmp, out);
    rmSync(old, { recursive: true, force: true });
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err instanceof VmmError
      ? err
      : new VmmError('ERR_VMM_GUEST_BUILD', `cannot write the guest to ${out}: ${(err as Error).message}`);
  }
  return loadGuest(out);
}

/** The guest built in `dir` (default {@link defaultGuestDir}); ERR_VMM_NO_GUEST when there is none. */
export function loadGuest(dir = defaultGuestDir()): Guest {
  const abs = resolve(dir);
  const build = `run \`rondo-vmm build-guest${dir === defaultGuestDir() ? '' : ` --out ${dir}`}\``;
  let manifest: GuestManifest;
  try {
    manifest = JSON.parse(readFileSync(join(abs, MANIFEST), 'utf8')) as GuestManifest;
  } catch {
    throw new VmmError('ERR_VMM_NO_GUEST', `no guest in ${abs} (no readable ${MANIFEST}) — ${build}`);
  }
  if (manifest.format !== 1 || manifest.protocol !== PROTOCOL_VERSION)
    throw new VmmError(
      'ERR_VMM_NO_GUEST',
      `the guest in ${abs} was built by another rondo-vmm version — ${build}`,
    );
  const guest: Guest = {
    dir: abs,
    kernel: join(abs, manifest.kernel),
    initrd: join(abs, INITRD),
    manifest,
  };
  for (const file of [guest.kernel, guest.initrd])
    if (!existsSync(file))
      throw new VmmError('ERR_VMM_NO_GUEST', `the guest in ${abs} lacks ${file} — ${build}`);
  return guest;
}
