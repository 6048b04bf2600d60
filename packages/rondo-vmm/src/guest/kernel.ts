/**
 * Finding the host's Debian kernel (package linux-image-amd64) with its modules, and
 * unpacking the bzImage into the plain ELF kernel inside it: under TCG, a guest spends ~5 s
 * decompressing an xz kernel itself, which QEMU skips when it boots the ELF (PVH entry).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as zlib from 'node:zlib';
import { VmmError } from '../errors.js';
import { hasPvhNote, isElf64 } from './elf.js';

/** A kernel image and the directory of its modules. */
export interface HostKernel {
  /** The bzImage, e.g. /boot/vmlinuz-6.1.0-57-amd64. */
  image: string;
  /** Its release, e.g. 6.1.0-57-amd64. */
  release: string;
  /** /lib/modules/<release>. */
  modulesDir: string;
}

const INSTALL = 'apt-get install -y linux-image-amd64';

function buildError(message: string): VmmError {
  return new VmmError('ERR_VMM_GUEST_BUILD', message);
}

/** Compares kernel releases by their numeric parts: 6.1.0-57 < 6.1.0-100 < 6.10.0-1. */
export function compareReleases(a: string, b: string): number {
  const pa = a
    .split(/[^0-9]+/)
    .filter(Boolean)
    .map(Number);
  const pb = b
    .split(/[^0-9]+/)
    .filter(Boolean)
    .map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (d !== 0) return d;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The kernel to boot: `image` when given (its release from the name `vmlinuz-<release>`),
 * otherwise the newest /boot/vmlinuz-* whose modules are installed. Throws
 * ERR_VMM_GUEST_BUILD naming what to install.
 */
export function findKernel(image?: string, bootDir = '/boot', modulesRoot = '/lib/modules'): HostKernel {
  if (image !== undefined) {
    if (!existsSync(image)) throw buildError(`no kernel at ${image}`);
    const release = basename(image).replace(/^vmlinuz-/, '');
    const modulesDir = join(modulesRoot, release);
    if (!existsSync(join(modulesDir, 'modules.dep')))
      throw buildError(`no modules for kernel ${release} (${modulesDir}/modules.dep is missing)`);
    return { image, release, modulesDir };
  }
  const names = existsSync(bootDir) ? readdirSync(bootDir) : [];
  const releases = names
    .filter((n) => n.startsWith('vmlinuz-'))
    .map((n) => n.slice('vmlinuz-'.length))
    .filter((r) => existsSync(join(modulesRoot, r, 'modules.dep')))
    .sort(compareReleases);
  const release = releases.at(-1);
  if (release === undefined)
    throw buildError(`no kernel in ${bootDir} with its modules in ${modulesRoot} — ${INSTALL}`);
  return { image: join(bootDir, `vmlinuz-${release}`), release, modulesDir: join(modulesRoot, release) };
}

/** The compressed payload of a bzImage (boot protocol ≥ 2.08), or null when it is not one. */
export function bzImagePayload(image: Buffer): Buffer | null {
  if (image.length < 0x250 || image.toString('latin1', 0x202, 0x206) !== 'HdrS') return null;
  if (image.readUInt16LE(0x206) < 0x208) return null;
  const setupSects = image[0x1f1] || 4;
  const start = (setupSects + 1) * 512 + image.readUInt32LE(0x248);
  const length = image.readUInt32LE(0x24c);
  if (start + length > image.length) return null;
  return image.subarray(start, start + length);
}

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/** Decompresses an xz, gzip or zstd payload; the reason why not when it cannot here. */
export function decompress(payload: Buffer, what: string): Buffer | string {
  if (payload.subarray(0, 6).equals(XZ_MAGIC)) {
    // busybox's own xz lacks the x86 BCJ filter kernels use, so this needs xz-utils.
    const r = spawnSync('xz', ['-dc', '--single-stream'], { input: payload, maxBuffer: 1 << 30 });
    if (r.error) return `${what} is xz-compressed and xz is not installed (apt-get install xz-utils)`;
    if (r.status !== 0) return `xz could not unpack ${what}: ${r.stderr.toString().trim()}`;
    return r.stdout;
  }
  try {
    if (payload.subarray(0, 2).equals(GZIP_MAGIC)) return zlib.gunzipSync(payload);
    const zstd = (zlib as { zstdDecompressSync?: (b: Buffer) => Buffer }).zstdDecompressSync;
    if (payload.subarray(0, 4).equals(ZSTD_MAGIC)) {
      if (zstd) return zstd(payload);
      const r = spawnSync('zstd', ['-dc'], { input: payload, maxBuffer: 1 << 30 });
      if (r.error || r.status !== 0) return `${what} is zstd-compressed and zstd is not installed`;
      return r.stdout;
    }
  } catch (err) {
    return `${what} cannot be unpacked: ${(err as Error).message}`;
  }
  return `${what} is compressed in a format build-guest does not unpack`;
}

/** What {@link unpackKernel} found: the ELF kernel to boot directly, or why the bzImage stays. */
export type UnpackedKernel = { elf: Buffer } | { reason: string };

/**
 * The ELF kernel inside a bzImage when QEMU can boot it directly (it has a PVH note), or the
 * reason the bzImage has to be booted as it is (slower under TCG, but it works).
 */
export function unpackKernel(imagePath: string): UnpackedKernel {
  let image: Buffer;
  try {
    image = readFileSync(imagePath);
  } catch (err) {
    throw buildError(`cannot read the kernel ${imagePath}: ${(err as Error).message}`);
  }
  const payload = bzImagePayload(image);
  if (payload === null) return { reason: `${imagePath} is not a bzImage` };
  const elf = decompress(payload, imagePath);
  if (typeof elf === 'string') return { reason: elf };
  if (!isElf64(elf)) return { reason: `${imagePath} does not hold an ELF kernel` };
  if (!hasPvhNote(elf)) return { reason: `${imagePath} has no PVH entry (CONFIG_PVH)` };
  return { elf };
}
