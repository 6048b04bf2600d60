// Where node-gyp and the Node headers are, for the two builds of the addon: the prebuild made by
// the repository's build (scripts/prebuild.mjs) and the from-source fallback a user runs
// (scripts/build-addon.mjs). Both build against the headers of the Node that runs them, so
// neither downloads anything.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package directory (packages/rondo, or node_modules/rondo once installed). */
export const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Platforms the addon's C source supports; elsewhere the build stops before compiling. */
const SUPPORTED_PLATFORMS = ['linux'];

/**
 * Why the addon cannot be built on this platform, or undefined when it can. macOS and Windows
 * need more than a recompile (docs/architecture.md, "Platforms").
 */
function unsupportedPlatform() {
  if (SUPPORTED_PLATFORMS.includes(process.platform)) return undefined;
  return (
    `rondo's native addon supports Linux only, and this is ${process.platform}-${process.arch}: ` +
    'macOS and Windows need other system calls for mapping files and locking ' +
    '(see "Platforms" in docs/architecture.md of the rondo repository)'
  );
}

/** The directory whose include/node holds node_api.h for the running Node, or undefined. */
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

/** node-gyp's script: npm passes its bundled copy in npm_config_node_gyp; else npm's own tree. */
function findNodeGyp() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) {
    return process.env.npm_config_node_gyp;
  }
  const require = createRequire(import.meta.url);
  for (const base of [
    pkgDir,
    resolve(dirname(process.execPath), '../lib/node_modules/npm'),
    '/usr/lib/node_modules/npm',
    '/usr/local/lib/node_modules/npm',
  ]) {
    try {
      return require.resolve('node-gyp/bin/node-gyp.js', { paths: [base, join(base, 'node_modules')] });
    } catch {
      // try the next place
    }
  }
  return undefined;
}

/** nodedir and node-gyp, or exits with a message saying what is missing. */
export function buildTools() {
  const unsupported = unsupportedPlatform();
  if (unsupported) fail(unsupported);
  const nodedir = findNodeDir();
  const gyp = findNodeGyp();
  if (!nodedir) fail('no Node headers (include/node/node_api.h) next to this Node');
  if (!gyp) fail('node-gyp not found (it ships with npm)');
  return { nodedir, gyp };
}

function fail(why) {
  console.error(`rondo: cannot build the native addon: ${why}.`);
  process.exit(1);
}
