#!/usr/bin/env node
// Compiles the N-API addon from source into build/Release, which the loader (node-gyp-build)
// prefers to the prebuilt one. Only needed where no prebuild fits (rondo ships linux-x64 glibc):
//   node node_modules/rondo/scripts/build-addon.mjs
// It needs python3, make and a C compiler, and uses the headers of the Node that runs it.
import { spawnSync } from 'node:child_process';
import { buildTools, pkgDir } from './node-gyp-env.mjs';

const { nodedir, gyp } = buildTools();
const result = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`], {
  cwd: pkgDir,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
