// Builds the N-API addon with node-gyp against the headers of the Node that runs this script,
// so the build never downloads headers (the machine has no network beyond the registries).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Finds the directory whose include/node holds node_api.h for the running Node. */
function findNodeDir() {
  // The headers of the Node that runs the build come first: npm's configured nodedir may belong
  // to another Node (N-API would still load, but the build should match the running Node).
  const candidates = [
    resolve(dirname(process.execPath), '..'),
    process.env.npm_config_nodedir,
    '/usr',
    '/usr/local',
  ];
  for (const dir of candidates) {
    if (dir && existsSync(join(dir, 'include', 'node', 'node_api.h'))) return dir;
  }
  return undefined;
}

/** Locates node-gyp: npm passes its bundled copy in npm_config_node_gyp; fall back to npm's tree. */
function findNodeGyp() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) {
    return process.env.npm_config_node_gyp;
  }
  const require = createRequire(import.meta.url);
  for (const base of [pkgDir, resolve(dirname(process.execPath), '../lib/node_modules/npm')]) {
    try {
      return require.resolve('node-gyp/bin/node-gyp.js', { paths: [base, join(base, 'node_modules')] });
    } catch {
      // try the next place
    }
  }
  return undefined;
}

const nodedir = findNodeDir();
const gyp = findNodeGyp();
if (!nodedir || !gyp) {
  console.error(
    `rondo: cannot build the native addon: ${!nodedir ? 'no Node headers (include/node/node_api.h) next to this Node' : 'node-gyp not found (it ships with npm)'}.`,
  );
  process.exit(1);
}
const result = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`], {
  cwd: pkgDir,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
