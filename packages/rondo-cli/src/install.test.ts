// Installs rondo and rondo-cli as a new user would. Packs both packages, checks what the tarballs
// hold, installs them into an empty project in a temporary directory with no C compiler, make or
// python on the PATH (once with npm's defaults, once with --ignore-scripts), and runs the README's
// quick start, `npx rondo info` and `rondo serve` there, on the Node that runs this file. The
// tarballs' own dependency (node-gyp-build) comes from npm's cache when it is there, else from the
// registry: with neither, the install tests skip with a notice (and fail under RONDO_REQUIRE_ALL=1).
import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Child, freePort, hasCommand, needs, scratchDirs, skipUnavailable } from 'rondo-testkit';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const scratch = scratchDirs('install');

/** What `npm pack --json` says about one tarball. */
interface Packed {
  name: string;
  filename: string;
  files: { path: string }[];
}

/** npm's own script (npm-cli.js or npx-cli.js), run by the Node under test like a user's npm. */
function npmScript(name: 'npm-cli.js' | 'npx-cli.js'): string {
  const candidates = [
    process.env['npm_execpath'] && join(dirname(process.env['npm_execpath']), name),
    join(dirname(process.execPath), '../lib/node_modules/npm/bin', name),
  ];
  const onPath = spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim();
  if (onPath) candidates.push(join(dirname(realpathSync(onPath)), name));
  const found = candidates.find((c): c is string => typeof c === 'string' && existsSync(c));
  assert.ok(found, `npm's ${name} not found (looked at ${candidates.join(', ')})`);
  return found;
}

/**
 * A user's environment: HOME, the npm settings that say where the cache and registry are, the
 * network and TLS settings, and `path` as the PATH. Nothing of the `npm test` that runs this file
 * (its npm_* variables would point npm at the repository), nor the coverage collector.
 */
function userEnv(path: string): NodeJS.ProcessEnv {
  const keep = /^(HOME|TMPDIR|LANG|NODE_EXTRA_CA_CERTS|SSL_CERT_(FILE|DIR)|(HTTPS?|NO)_PROXY)$/i;
  const keepNpm =
    /^npm_config_(cache|userconfig|globalconfig|registry|cafile|proxy|https_proxy|noproxy|strict_ssl)$/i;
  const env: NodeJS.ProcessEnv = { PATH: path };
  for (const [k, v] of Object.entries(process.env)) if (keep.test(k) || keepNpm.test(k)) env[k] = v;
  return env;
}

/** A bin directory holding only node (this Node), npm, npx and sh: no compiler, make or python. */
function bareToolDir(dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  symlinkSync(npmScript('npm-cli.js'), join(bin, 'npm'));
  symlinkSync(npmScript('npx-cli.js'), join(bin, 'npx'));
  symlinkSync('/bin/sh', join(bin, 'sh'));
  return bin;
}

/** Runs `command args` to its end (up to 5 minutes); fails showing its output when it fails. */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 300_000 });
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(
    r.status,
    0,
    `${what} exited ${r.status} (${r.error?.message ?? ''}):\n${r.stdout}\n${r.stderr}`,
  );
  return r.stdout;
}

/** The README's quick start, as the README has it. */
function quickStart(): string {
  const m = /<!-- quickstart[^>]*-->\s*```js\n([\s\S]*?)```/.exec(
    readFileSync(join(root, 'README.md'), 'utf8'),
  );
  assert.ok(m, 'README has a quick start block');
  return m[1]!;
}

/** Signs in npm's output that the registry (and the cache) could not give a package. */
const OFFLINE =
  /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ENOTCACHED)\b/;

let work = '';
let tarballs: Packed[] = [];
/** The projects installed by the tests below, by how they were installed. */
const projects = new Map<string, string>();

before(() => {
  work = scratch();
  // --ignore-scripts: no prepack build here, the suite runs on the build that is already made.
  const out = ok(
    run(
      process.execPath,
      [
        npmScript('npm-cli.js'),
        'pack',
        '--ignore-scripts',
        '--json',
        '--pack-destination',
        work,
        '-w',
        'rondo',
        '-w',
        'rondo-cli',
      ],
      root,
      userEnv(process.env['PATH'] ?? ''),
    ),
    'npm pack',
  );
  tarballs = JSON.parse(out) as Packed[];
});

function tarball(name: string): Packed {
  const t = tarballs.find((p) => p.name === name);
  assert.ok(t, `npm pack made no tarball for ${name}`);
  return t;
}

function pkgDir(name: string): string {
  return join(root, 'packages', name);
}

describe('the tarballs hold what a user needs and nothing else', () => {
  test('rondo: the compiled code, its types and maps, the prebuilt addon, the dashboard, README and LICENSE', () => {
    const files = tarball('rondo').files.map((f) => f.path);
    const pkg = JSON.parse(readFileSync(join(pkgDir('rondo'), 'package.json'), 'utf8'));
    const entryFiles = Object.values(pkg.exports as Record<string, string | Record<string, string>>).flatMap(
      (e) => (typeof e === 'string' ? [e] : Object.values(e)),
    );
    for (const need of [
      'package.json',
      'README.md',
      'LICENSE',
      'prebuilds/linux-x64/rondo.glibc.node',
      'native/rondo_native.c',
      'binding.gyp',
      'scripts/build-addon.mjs',
      'scripts/node-gyp-env.mjs',
      ...readdirSync(join(pkgDir('rondo'), 'src/server/dashboard')).map((f) => `dist/server/dashboard/${f}`),
      'dist/server/dashboard/uPlot.iife.min.js',
      'dist/server/dashboard/uPlot.LICENSE.txt',
      ...entryFiles.map((f) => f.replace(/^\.\//, '')),
    ])
      assert.ok(files.includes(need), `rondo's tarball lacks ${need}`);
    for (const f of files) {
      assert.match(
        f,
        /^(package\.json|README\.md|LICENSE|binding\.gyp|dist\/.+|src\/.+\.ts|prebuilds\/linux-x64\/rondo\.glibc\.node|native\/rondo_native\.c|scripts\/(build-addon|node-gyp-env)\.mjs)$/,
        `rondo's tarball holds ${f}`,
      );
      assert.doesNotMatch(
        f,
        /\.test\.|test-fixtures|tsbuildinfo|^src\/server\/dashboard\//,
        `rondo's tarball holds ${f}`,
      );
    }
  });

  test('rondo-cli: the executable, its compiled code and maps, README and LICENSE; no tests, fixtures or types', () => {
    const files = tarball('rondo-cli').files.map((f) => f.path);
    for (const need of [
      'package.json',
      'README.md',
      'LICENSE',
      'bin/rondo.js',
      'dist/main.js',
      'dist/main.js.map',
    ])
      assert.ok(files.includes(need), `rondo-cli's tarball lacks ${need}`);
    for (const f of files) {
      assert.match(
        f,
        /^(package\.json|README\.md|LICENSE|bin\/rondo\.js|dist\/.+\.js(\.map)?|src\/.+\.ts)$/,
        `rondo-cli's tarball holds ${f}`,
      );
      assert.doesNotMatch(f, /\.test\.|test-fixtures/, `rondo-cli's tarball holds ${f}`);
    }
  });

  test('every source map and map comment points at a file in the same tarball', () => {
    for (const name of ['rondo', 'rondo-cli']) {
      const files = new Set(tarball(name).files.map((f) => f.path));
      let maps = 0;
      for (const f of files) {
        const text = readFileSync(join(pkgDir(name), f), 'utf8');
        if (f.endsWith('.map')) {
          maps++;
          for (const source of (JSON.parse(text) as { sources: string[] }).sources) {
            const target = join(dirname(f), source);
            assert.ok(files.has(target), `${name}: ${f} points at ${target}, which is not shipped`);
          }
        } else if (/\.(js|d\.ts)$/.test(f)) {
          const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(text)?.[1];
          if (url !== undefined)
            assert.ok(
              files.has(join(dirname(f), url)),
              `${name}: ${f} names the map ${url}, which is not shipped`,
            );
        }
      }
      assert.ok(maps > 10, `${name}: ${maps} maps checked`);
    }
  });

  test('package.json: exports ./package.json, no install script, the addon is not rebuilt on install, one LICENSE, one engines', () => {
    const license = readFileSync(join(root, 'LICENSE'), 'utf8');
    assert.match(license, /^MIT License/);
    for (const name of ['rondo', 'rondo-cli']) {
      const pkg = JSON.parse(readFileSync(join(pkgDir(name), 'package.json'), 'utf8'));
      assert.equal(pkg.exports['./package.json'], './package.json', `${name} exports ./package.json`);
      assert.equal(pkg.license, 'MIT');
      for (const script of ['preinstall', 'install', 'postinstall'])
        assert.equal(pkg.scripts?.[script], undefined, `${name} has no ${script} script`);
      assert.equal(
        readFileSync(join(pkgDir(name), 'LICENSE'), 'utf8'),
        license,
        `${name}/LICENSE is the repository's`,
      );
    }
    // One Node floor everywhere: the one CI runs the suite on (.ci/run reads the root's).
    const engines = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines.node;
    assert.match(engines, /^>=\d+\.\d+\.\d+$/);
    for (const dir of readdirSync(join(root, 'packages')))
      assert.equal(
        JSON.parse(readFileSync(join(pkgDir(dir), 'package.json'), 'utf8')).engines?.node,
        engines,
        `${dir}: engines.node`,
      );
    // Without this, npm would add `node-gyp rebuild` as an install script because binding.gyp ships.
    assert.equal(JSON.parse(readFileSync(join(pkgDir('rondo'), 'package.json'), 'utf8')).gypfile, false);
  });
});

describe('installed from the tarballs with no C compiler, make or python on the PATH', () => {
  for (const mode of ["npm's defaults", '--ignore-scripts']) {
    test(`${mode}: installs without building, and the quick start and npx rondo info run`, {
      timeout: 600_000,
    }, (t) => {
      const dir = join(work, mode === '--ignore-scripts' ? 'ignore-scripts' : 'defaults');
      mkdirSync(dir);
      const env = userEnv(bareToolDir(dir));
      for (const tool of ['cc', 'gcc', 'clang', 'c++', 'make', 'python3', 'python'])
        assert.notEqual(
          run('sh', ['-c', `command -v ${tool}`], dir, env).status,
          0,
          `${tool} is on the PATH`,
        );
      const project = join(dir, 'project');
      mkdirSync(project);
      writeFileSync(
        join(project, 'package.json'),
        '{ "name": "my-app", "private": true, "type": "module" }\n',
      );
      const flags = mode === '--ignore-scripts' ? ['--ignore-scripts'] : [];
      const install = run(
        'npm',
        // --prefer-offline: the registry's metadata from npm's cache when it has it (offline runs).
        [
          'install',
          '--no-audit',
          '--no-fund',
          '--prefer-offline',
          ...flags,
          ...['rondo', 'rondo-cli'].map((n) => join(work, tarball(n).filename)),
        ],
        project,
        env,
      );
      if (install.status !== 0 && OFFLINE.test(install.stderr)) {
        skipUnavailable(
          t,
          "the npm registry (for the tarballs' dependency node-gyp-build)",
          'network access to the registry, or npm ci in this repository to fill the cache',
        );
        return;
      }
      ok(install, 'npm install');
      const said = install.stdout + install.stderr;
      assert.doesNotMatch(said, /install-scripts|allowScripts|gyp/i, 'npm found nothing to build or approve');
      const lock = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8'));
      assert.notEqual(
        lock.packages['node_modules/rondo'].hasInstallScript,
        true,
        'npm sees no install script',
      );
      const rondoDir = join(project, 'node_modules', 'rondo');
      assert.ok(!existsSync(join(rondoDir, 'build')), 'nothing was compiled');
      // The addon that loads is the prebuilt one.
      const loader = createRequire(join(rondoDir, 'package.json'))('node-gyp-build') as {
        resolve(dir: string): string;
      };
      assert.equal(loader.resolve(rondoDir), join(rondoDir, 'prebuilds', 'linux-x64', 'rondo.glibc.node'));

      writeFileSync(join(project, 'quickstart.mjs'), quickStart());
      const lines = ok(run('node', ['quickstart.mjs'], project, env), 'the quick start')
        .trim()
        .split('\n');
      assert.match(lines[0]!, /^60 points at 1s, newest \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
      assert.match(lines[1]!, /^[67] windows of 10s, averages( \d+\.\d){6,7}$/);

      const info = ok(run('npx', ['rondo', 'info', './metrics'], project, env), 'npx rondo info');
      assert.match(info, /^store {4}\.\/metrics$/m);
      assert.match(info, /^schema vm +match \{\} \(any series\) +series 1 of 100$/m);
      assert.match(info, /cpu_usage\{host="web1"\} +vm/);
      const version = ok(run('npx', ['rondo', '--version'], project, env), 'npx rondo --version');
      assert.equal(version, `rondo 0.1.0 (node ${process.version})\n`);
      projects.set(mode, project);
    });
  }

  test('rondo serve from the installed package serves the dashboard and the query API', {
    timeout: 120_000,
  }, async (t) => {
    const project = projects.get("npm's defaults");
    if (project === undefined) return t.skip('needs the install above');
    const port = await freePort();
    const server = new Child('', ['serve', join(project, 'metrics'), '--listen', `127.0.0.1:${port}`], {
      command: join(project, 'node_modules', '.bin', 'rondo'),
      env: userEnv(join(dirname(project), 'bin')),
    });
    try {
      const line = await server.waitFor('serving ', 30_000);
      const base = `http://127.0.0.1:${port}`;
      assert.ok(line.endsWith(base) || line.includes(`${base}/`), line);
      const page = await fetch(`${base}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /uPlot\.iife\.min\.js/);
      for (const asset of ['/dashboard.js', '/dashboard.css', '/uPlot.iife.min.js', '/uPlot.min.css'])
        assert.equal((await fetch(`${base}${asset}`)).status, 200, asset);
      const series = (await (await fetch(`${base}/api/v1/series?match[]=cpu_usage`)).json()) as {
        data: Record<string, string>[];
      };
      assert.deepEqual(series.data, [{ __name__: 'cpu_usage', host: 'web1' }]);
    } finally {
      const { code } = await server.kill('SIGTERM');
      assert.equal(code, 0, server.stderr);
    }
  });

  test('where no prebuild fits, the shipped script compiles the addon from source and rondo loads that', {
    timeout: 300_000,
    ...needs(
      'python3, make and a C compiler',
      ['python3', 'make', 'cc'].every(hasCommand),
      'apt-get install python3 make gcc',
    ),
  }, (t) => {
    const project = projects.get("npm's defaults");
    if (project === undefined) return t.skip('needs the install above');
    const rondoDir = join(project, 'node_modules', 'rondo');
    // The user's own PATH this time: the fallback needs the tools.
    ok(
      run(
        'node',
        [join(rondoDir, 'scripts', 'build-addon.mjs')],
        project,
        userEnv(process.env['PATH'] ?? ''),
      ),
      'build-addon.mjs',
    );
    const loader = createRequire(join(rondoDir, 'package.json'))('node-gyp-build') as {
      resolve(dir: string): string;
    };
    assert.equal(loader.resolve(rondoDir), join(rondoDir, 'build', 'Release', 'rondo_native.node'));
    const env = userEnv(join(dirname(project), 'bin'));
    assert.match(ok(run('node', ['quickstart.mjs'], project, env), 'the quick start'), /^60 points at 1s/);
  });
});
