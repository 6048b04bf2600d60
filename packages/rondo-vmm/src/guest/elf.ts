/**
 * The two facts build-guest needs from ELF files: whether a binary is statically linked (a
 * dynamic busybox cannot run in an initramfs without its libc) and whether a kernel image has a
 * PVH entry note (then QEMU can boot it directly, skipping decompression inside the guest).
 * 64-bit little-endian only, like the hosts and kernels this runs with.
 */

const PT_INTERP = 3;
const PT_NOTE = 4;
/** XEN_ELFNOTE_PHYS32_ENTRY: the PVH entry point QEMU looks for. */
const NOTE_PVH_ENTRY = 18;

/** The program headers of a 64-bit little-endian ELF file, or null when `buf` is not one. */
function programHeaders(buf: Buffer): { type: number; offset: number; size: number }[] | null {
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) return null;
  if (buf[4] !== 2 || buf[5] !== 1) return null; // ELFCLASS64, little-endian
  const phoff = Number(buf.readBigUInt64LE(0x20));
  const phentsize = buf.readUInt16LE(0x36);
  const phnum = buf.readUInt16LE(0x38);
  if (phentsize < 56 || phoff + phentsize * phnum > buf.length) return null;
  const out: { type: number; offset: number; size: number }[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    out.push({
      type: buf.readUInt32LE(at),
      offset: Number(buf.readBigUInt64LE(at + 8)),
      size: Number(buf.readBigUInt64LE(at + 32)),
    });
  }
  return out;
}

/** True for a 64-bit ELF binary; false for anything else. */
export function isElf64(buf: Buffer): boolean {
  return programHeaders(buf) !== null;
}

/** True when `buf` is an ELF executable with no program interpreter (statically linked). */
export function isStaticElf(buf: Buffer): boolean {
  const headers = programHeaders(buf);
  return headers !== null && !headers.some((h) => h.type === PT_INTERP);
}

/** True when `buf` is an ELF kernel image with a PVH entry note (`Xen`, type 18). */
export function hasPvhNote(buf: Buffer): boolean {
  for (const h of programHeaders(buf) ?? []) {
    if (h.type !== PT_NOTE || h.offset + h.size > buf.length) continue;
    let at = h.offset;
    const end = h.offset + h.size;
    while (at + 12 <= end) {
      const namesz = buf.readUInt32LE(at);
      const descsz = buf.readUInt32LE(at + 4);
      const type = buf.readUInt32LE(at + 8);
      const name = buf.toString('latin1', at + 12, at + 12 + Math.max(0, namesz - 1));
      if (name === 'Xen' && type === NOTE_PVH_ENTRY) return true;
      at += 12 + Math.ceil(namesz / 4) * 4 + Math.ceil(descsz / 4) * 4;
    }
  }
  return false;
}
