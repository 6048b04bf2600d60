/** `rondo-vmm build-guest`: builds the guest (kernel + initramfs) from Debian packages. */
import { statSync } from 'node:fs';
import { type Command, execute, formatBytes, parseOptions } from '../cli.js';
import { buildGuest, defaultGuestDir } from '../guest/build.js';

const HELP = `Usage: rondo-vmm build-guest [--out DIR] [--kernel FILE] [--busybox FILE]

Builds the microVM guest from Debian packages already installed (nothing is downloaded):
the kernel of linux-image-amd64 with its virtio modules, busybox-static, and this package's
init and reporter scripts, as a gzip'd cpio initramfs. When xz-utils is installed the kernel
is unpacked from its bzImage so QEMU boots it directly (about 5 s faster per boot under TCG).

Options:
  --out DIR       where to write it (default ${defaultGuestDir()},
                  or $RONDO_VMM_GUEST); \`rondo-vmm run\` looks there too
  --kernel FILE   the bzImage (default: the newest /boot/vmlinuz-* with its modules)
  --busybox FILE  a statically linked busybox (default /bin/busybox, from busybox-static)

Needs: apt-get install -y linux-image-amd64 busybox-static (and xz-utils, optional)

Example:
  $ rondo-vmm build-guest
  guest built in 2.0 s: /root/.cache/rondo-vmm/guest
    kernel     6.1.0-57-amd64, ELF booted directly (62.9 MiB)
    initramfs  1.1 MiB: busybox, init, 8 modules (virtio_pci_legacy_dev … virtio_blk)
`;

async function run(args: string[]): Promise<number> {
  const v = parseOptions('build-guest', args, {
    out: { type: 'string' },
    kernel: { type: 'string' },
    busybox: { type: 'string' },
  });
  const started = performance.now();
  const guest = buildGuest({
    out: v['out'] as string | undefined,
    kernel: v['kernel'] as string | undefined,
    busybox: v['busybox'] as string | undefined,
  });
  const m = guest.manifest;
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  const how = m.kernel === 'vmlinux' ? 'ELF booted directly' : `bzImage (${m.kernelNote})`;
  const mods = m.sources.modules;
  process.stdout.write(
    [
      `guest built in ${secs} s: ${guest.dir}`,
      `  kernel     ${m.release}, ${how} (${formatBytes(statSync(guest.kernel).size)})`,
      `  initramfs  ${formatBytes(statSync(guest.initrd).size)}: busybox, init, ${mods.length} modules (${mods[0]} … ${mods.at(-1)})`,
      '',
    ].join('\n'),
  );
  return 0;
}

/** The `build-guest` command. */
export const command: Command = {
  summary: 'build the guest (kernel + busybox initramfs) from installed Debian packages',
  help: HELP,
  run: (args) => execute(HELP, args, () => run(args)),
};
