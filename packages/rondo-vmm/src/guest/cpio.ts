/**
 * A writer of cpio archives in the "newc" format (the one the Linux kernel unpacks as an
 * initramfs), so building the guest needs no `cpio` tool and no root: device nodes and file
 * owners are written into the archive, not created on the host.
 */
import { VmmError } from '../errors.js';

/** One member of the archive. Directories must come before what they contain. */
export type CpioEntry =
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'file'; path: string; data: Uint8Array; mode?: number }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'char'; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

/** The header, name and data of one member, each padded to 4 bytes as newc requires. */
function member(
  ino: number,
  name: string,
  mode: number,
  nlink: number,
  data: Uint8Array,
  rdev: [number, number],
  mtime: number,
): Buffer[] {
  const nameBytes = Buffer.from(`${name}\0`, 'utf8');
  const fields = [ino, mode, 0, 0, nlink, mtime, data.length, 0, 0, rdev[0], rdev[1], nameBytes.length, 0];
  const header = Buffer.from(`070701${fields.map(hex8).join('')}`, 'ascii');
  return [
    header,
    nameBytes,
    Buffer.alloc(pad4(header.length + nameBytes.length)),
    Buffer.from(data.buffer, data.byteOffset, data.length),
    Buffer.alloc(pad4(data.length)),
  ];
}

/**
 * Serialises `entries` as one newc archive ending in the `TRAILER!!!` member. Paths are
 * relative (`bin/busybox`, no leading slash); every member is owned by root; `mtime` is in
 * seconds (fixed, so the same inputs give the same bytes).
 */
export function writeCpio(entries: readonly CpioEntry[], mtime = 0): Buffer {
  const parts: Buffer[] = [];
  const seen = new Set<string>();
  let ino = 1;
  for (const e of entries) {
    const path = e.path.replace(/^\/+/, '');
    if (path === '' || seen.has(path))
      throw new VmmError('ERR_VMM_GUEST_BUILD', `cpio: empty or duplicate path ${JSON.stringify(e.path)}`);
    seen.add(path);
    const empty = new Uint8Array(0);
    switch (e.type) {
      case 'dir':
        parts.push(...member(ino++, path, S_IFDIR | (e.mode ?? 0o755), 2, empty, [0, 0], mtime));
        break;
      case 'file':
        parts.push(...member(ino++, path, S_IFREG | (e.mode ?? 0o644), 1, e.data, [0, 0], mtime));
        break;
      case 'symlink':
        parts.push(...member(ino++, path, S_IFLNK | 0o777, 1, Buffer.from(e.target), [0, 0], mtime));
        break;
      case 'char':
        parts.push(...member(ino++, path, S_IFCHR | (e.mode ?? 0o600), 1, empty, [e.major, e.minor], mtime));
        break;
    }
  }
  parts.push(...member(0, 'TRAILER!!!', 0, 1, new Uint8Array(0), [0, 0], 0));
  return Buffer.concat(parts);
}
