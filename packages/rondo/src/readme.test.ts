// Runs the README's quick start exactly as written, in a fresh directory inside the repository
// (so `import 'rondo'` resolves through the workspace), and checks what it prints.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { scratchDirs } from './test-fixtures/helpers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
// Inside the repository, not under os.tmpdir(): `import 'rondo'` must resolve through the workspace.
const scratch = scratchDirs('quickstart', root);

test("the package's README (what npm shows) has the same quick start as the repository's", () => {
  const block = (file: string): string | undefined =>
    /<!-- quickstart[^>]*-->\s*```js\n([\s\S]*?)```/.exec(readFileSync(file, 'utf8'))?.[1];
  const repository = block(join(root, 'README.md'));
  assert.ok(repository);
  assert.equal(block(join(root, 'packages', 'rondo', 'README.md')), repository);
});

test('the README quick start runs as written and prints what the README says', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const m = /<!-- quickstart[^>]*-->\s*```js\n([\s\S]*?)```/.exec(readme);
  assert.ok(m, 'README has a quick start block after the quickstart marker');
  const dir = scratch();
  writeFileSync(join(dir, 'quickstart.mjs'), m[1]!);
  const run = (): string =>
    execFileSync(process.execPath, ['quickstart.mjs'], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  const lines = run().trim().split('\n');
  assert.match(lines[0]!, /^60 points at 1s, newest \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
  assert.match(lines[1]!, /^[67] windows of 10s, averages( \d+\.\d){6,7}$/);
  // Run it again: the store now exists and opens with the same schemas.
  assert.match(run(), /^60 points at 1s/);
});
