/**
 * Synthetic ELF files and bzImages for the guest builder's tests: just the header fields the
 * builder reads, so the tests run without a kernel installed.
 */
import { gzipSync } from 'node:zlib';

/** A 64-bit little-endian ELF with one program header per entry (type and contents). */
export function fakeElf(segments: { type: number; data?: Buffer }[]): Buffer {
  const header = Buffer.alloc(64);
  header.writeUInt32BE(0x7f454c46, 0);
  header[4] = 2; // ELFCLASS64
  header[5] = 1; // little-endian
  header.writeBigUInt64LE(64n, 0x20); // e_phoff
  header.writeUInt16LE(56, 0x36); // e_phentsize
  header.writeUInt16LE(segments.length, 0x38); // e_phnum
  const phdrs = Buffer.alloc(56 * segments.length);
  let offset = 64 + phdrs.length;
  const bodies: Buffer[] = [];
  segments.forEach((s, i) => {
    const data = s.data ?? Buffer.alloc(0);
    phdrs.writeUInt32LE(s.type, i * 56);
    phdrs.writeBigUInt64LE(BigInt(offset), i * 56 + 8);
    phdrs.writeBigUInt64LE(BigInt(data.length), i * 56 + 32);
    bodies.push(data);
    offset += data.length;
  });
  return Buffer.concat([header, phdrs, ...bodies]);
}

/** An ELF note (name, type, descriptor), padded as ELF requires. */
export function elfNote(name: string, type: number, desc = Buffer.alloc(4)): Buffer {
  const n = Buffer.from(`${name}\0`);
  const head = Buffer.alloc(12);
  head.writeUInt32LE(n.length, 0);
  head.writeUInt32LE(desc.length, 4);
  head.writeUInt32LE(type, 8);
  const pad = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  return Buffer.concat([head, pad(n), pad(desc)]);
}

/** A kernel ELF with a PVH entry note (or without, when `pvh` is false). */
export function fakeKernelElf(pvh = true): Buffer {
  const notes = Buffer.concat([elfNote('GNU', 3), ...(pvh ? [elfNote('Xen', 18)] : [])]);
  return fakeElf([
    { type: 1, data: Buffer.alloc(32, 0x90) },
    { type: 4, data: notes },
  ]);
}

/** A bzImage (boot protocol 2.15) whose payload is `payload` (default: a gzip'd PVH kernel ELF). */
export function fakeBzImage(payload: Buffer = gzipSync(fakeKernelElf())): Buffer {
  const setupSects = 3;
  const payloadOffset = 100;
  const start = (setupSects + 1) * 512;
  const image = Buffer.alloc(start + payloadOffset + payload.length + 8);
  image[0x1f1] = setupSects;
  image.write('HdrS', 0x202, 'latin1');
  image.writeUInt16LE(0x20f, 0x206);
  image.writeUInt32LE(payloadOffset, 0x248);
  image.writeUInt32LE(payload.length, 0x24c);
  payload.copy(image, start + payloadOffset);
  return image;
}
