// Runs every compiled test file (dist/**/*.test.js in each workspace package) and the tests of the
// repository's own scripts (scripts/*.test.mjs, plain JavaScript like the scripts they check) with
// node:test. Node 20's runner does not expand globs, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');

function collect(dir, out) {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) collect(path, out);
    else if (entry.name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const files = [];
for (const pkg of readdirSync(join(root, 'packages'))) collect(join(root, 'packages', pkg, 'dist'), files);
for (const name of readdirSync(join(root, 'scripts')))
  if (name.endsWith('.test.mjs')) files.push(join(root, 'scripts', name));
const filter = process.argv.slice(2);
const selected = filter.length ? files.filter((f) => filter.some((part) => f.includes(part))) : files;
if (selected.length === 0) {
  console.error('no test files found: run the build first (npm ci, or npm run build)');
  process.exit(1);
}
console.log(`node ${process.version}: ${selected.length} test files`);
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...selected], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(result.status ?? 1);
