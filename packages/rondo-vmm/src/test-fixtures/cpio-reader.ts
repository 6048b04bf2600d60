/** A second, independent reader of newc cpio archives, for the tests of the writer and the guest. */
import assert from 'node:assert/strict';

/** One member read back. */
export interface CpioMember {
  name: string;
  mode: number;
  rdev: [number, number];
  data: Buffer;
}

/** Reads a newc archive back: name, mode, rdev and data of each member (a second implementation). */
export function readCpio(buf: Buffer): CpioMember[] {
  const out: CpioMember[] = [];
  let at = 0;
  for (;;) {
    assert.equal(buf.toString('ascii', at, at + 6), '070701', `magic at ${at}`);
    const field = (i: number): number =>
      Number.parseInt(buf.toString('ascii', at + 6 + i * 8, at + 14 + i * 8), 16);
    const [mode, size, rmaj, rmin, namesize] = [field(1), field(6), field(9), field(10), field(11)];
    const nameAt = at + 110;
    const name = buf.toString('utf8', nameAt, nameAt + namesize - 1);
    const dataAt = Math.ceil((nameAt + namesize) / 4) * 4;
    if (name === 'TRAILER!!!') return out;
    out.push({
      name,
      mode,
      rdev: [rmaj, rmin] as [number, number],
      data: buf.subarray(dataAt, dataAt + size),
    });
    at = Math.ceil((dataAt + size) / 4) * 4;
  }
}
