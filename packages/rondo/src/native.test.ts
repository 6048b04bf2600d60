// Loading the native addon: the prebuilt file is what loads here, and when no addon fits or the
// one found does not load, the first use is an ERR_RONDO_NATIVE that says what to do. Each case
// runs in a child process, since the addon is loaded once per process; RONDO_PREBUILD (read by
// node-gyp-build) points the loader at another directory.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { needsCommand, scratchDirs } from './test-fixtures/helpers.js';

const scratch = scratchDirs('native');
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const index = new URL('./index.js', import.meta.url).href;

/** Opens a store in a child with `env` added; returns what it printed: the store's series count or the error. */
function openInChild(env: NodeJS.ProcessEnv): { code: string; message: string } {
  const dir = scratch();
  const script = join(dir, 'open.mjs');
  writeFileSync(
    script,
    `import { Store } from ${JSON.stringify(index)};
try {
  const store = Store.open(${JSON.stringify(join(dir, 'store'))}, { schemas: [{ name: 's', maxSeries: 1, tiers: [{ interval: '1s', retention: '1m' }] }] });
  console.log(JSON.stringify({ code: 'ok', message: String(store.series().length) }));
  store.close();
} catch (err) {
  console.log(JSON.stringify({ code: err.code, message: err.message }));
}
`,
  );
  const r = spawnSync(process.execPath, [script], { env: { ...process.env, ...env }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { code: string; message: string };
}

test('the addon that loads is the prebuilt one, from prebuilds/linux-x64 (the build leaves no build/)', () => {
  const loader = createRequire(import.meta.url)('node-gyp-build') as { resolve(dir: string): string };
  assert.equal(loader.resolve(packageDir), join(packageDir, 'prebuilds', 'linux-x64', 'rondo.glibc.node'));
  assert.deepEqual(openInChild({}), { code: 'ok', message: '0' });
});

test('no addon that fits: ERR_RONDO_NATIVE naming the script that compiles one from source', () => {
  const empty = scratch();
  const r = openInChild({ RONDO_PREBUILD: empty });
  assert.equal(r.code, 'ERR_RONDO_NATIVE');
  assert.match(r.message, /no native addon fits this host/);
  assert.match(r.message, /prebuilt addon for linux-x64 \(glibc\)/);
  assert.ok(r.message.includes(`node ${join(packageDir, 'scripts', 'build-addon.mjs')}`), r.message);
  assert.match(r.message, /python3, make and a C compiler/);
});

test('an addon file that does not load: ERR_RONDO_NATIVE naming the file and why', () => {
  const dir = scratch();
  mkdirSync(join(dir, 'build', 'Release'), { recursive: true });
  const bad = join(dir, 'build', 'Release', 'rondo_native.node');
  writeFileSync(bad, 'not an ELF file');
  const r = openInChild({ RONDO_PREBUILD: dir });
  assert.equal(r.code, 'ERR_RONDO_NATIVE');
  assert.ok(r.message.includes(`the native addon ${bad} could not be loaded`), r.message);
  assert.match(r.message, /build-addon\.mjs/);
});

test(
  'the C source refuses to compile anywhere but Linux, with a message that says so',
  needsCommand('cc', 'apt-get install gcc'),
  () => {
    // As a compiler for macOS or Windows would see it: __linux__ not defined.
    const r = spawnSync(
      'cc',
      ['-fsyntax-only', '-U__linux__', join(packageDir, 'native', 'rondo_native.c')],
      {
        encoding: 'utf8',
      },
    );
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /rondo's native addon supports Linux only/);
  },
);
