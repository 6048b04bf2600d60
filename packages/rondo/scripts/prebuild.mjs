// Part of the repository's build: compiles the addon with prebuildify into
// prebuilds/<platform>-<arch>/rondo.<libc>.node (N-API, so one file for every Node), the file the published package ships and
// node-gyp-build loads at require time, then removes build/ so that the repository's tests load
// exactly that file. Skipped when the prebuild is newer than the C source and binding.gyp
// (--force rebuilds). Nothing is downloaded: node-gyp uses the running Node's headers.
import { existsSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { buildTools, pkgDir } from './node-gyp-env.mjs';

const require = createRequire(import.meta.url);
const libc = existsSync('/etc/alpine-release') ? 'musl' : 'glibc'; // node-gyp-build's own test
const out = join(pkgDir, 'prebuilds', `${process.platform}-${process.arch}`, `rondo.${libc}.node`);
const sources = [join(pkgDir, 'native', 'rondo_native.c'), join(pkgDir, 'binding.gyp')];

const mtime = (path) => statSync(path).mtimeMs;
if (!process.argv.includes('--force') && existsSync(out) && sources.every((s) => mtime(s) <= mtime(out))) {
  process.exit(0);
}

const { nodedir, gyp } = buildTools();
// prebuildify passes its own copy of process.env to node-gyp, which reads these from it.
process.env.npm_config_nodedir = nodedir;
process.env.npm_config_loglevel ??= 'warn';
const prebuildify = require('prebuildify');
const quote = (s) => `'${s.replaceAll("'", `'\\''`)}'`;
prebuildify(
  {
    cwd: pkgDir,
    napi: true,
    strip: true,
    tagLibc: true,
    // Headers of the running Node (N-API: the one build loads on every Node from 20 on).
    targets: [{ runtime: 'node', target: process.versions.node }],
    nodeGyp: `${quote(process.execPath)} ${quote(gyp)}`,
    shell: true, // for the command line above
  },
  (err) => {
    if (err) {
      console.error(`rondo: prebuildify failed: ${err.message}`);
      process.exit(1);
    }
    rmSync(join(pkgDir, 'build'), { recursive: true, force: true });
    console.log(`rondo: built ${out.slice(pkgDir.length + 1)}`);
  },
);
