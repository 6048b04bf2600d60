// The licence check: SPDX expressions judged right, and a lock file with one copyleft package
// (installed or not) makes the script exit 1 naming it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkLock, isPermissive } from './check-licenses.mjs';

const script = fileURLToPath(new URL('./check-licenses.mjs', import.meta.url));
const dirs = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('SPDX expressions: permissive ids pass, copyleft and unknown fail, OR needs one, AND needs all', () => {
  for (const ok of [
    'MIT',
    'ISC',
    'BSD-3-Clause',
    'Apache-2.0',
    '(MIT OR Apache-2.0)',
    'MIT OR GPL-3.0-only',
    'MIT AND ISC',
    'Apache-2.0 WITH LLVM-exception',
    '(MIT AND (ISC OR GPL-2.0))',
  ])
    assert.equal(isPermissive(ok), true, ok);
  for (const bad of [
    'GPL-3.0-only',
    'GPL-2.0+',
    'LGPL-2.1-or-later',
    'AGPL-3.0',
    'MPL-2.0',
    'EPL-2.0',
    'MIT AND GPL-3.0',
    'UNLICENSED',
    'SEE LICENSE IN LICENSE.md',
    '',
    undefined,
    '(MIT',
    'MIT OR',
    'GPL-2.0 WITH Classpath-exception-2.0',
  ])
    assert.equal(isPermissive(bad), false, String(bad));
});

test('a lock file with a copyleft package fails, naming it; the installed package.json wins over the lock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rondo-licenses-'));
  dirs.push(dir);
  const lock = {
    lockfileVersion: 3,
    packages: {
      '': { name: 'x' },
      'node_modules/fine': { version: '1.0.0', license: 'MIT' },
      'node_modules/copyleft': { version: '2.0.0', license: 'GPL-3.0-only' },
      // The lock says MIT, the installed package says LGPL: the installed one is what ships.
      'node_modules/relicensed': { version: '3.0.0', license: 'MIT' },
      'node_modules/absent-optional': { version: '1.0.0', license: 'ISC', optional: true },
      'node_modules/linked': { link: true, resolved: 'packages/ours' },
      'packages/ours': { name: 'ours', version: '0.1.0', license: 'ISC' },
    },
  };
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(lock));
  mkdirSync(join(dir, 'node_modules', 'relicensed'), { recursive: true });
  writeFileSync(
    join(dir, 'node_modules', 'relicensed', 'package.json'),
    '{"name":"relicensed","license":"LGPL-2.1"}',
  );
  const bad = checkLock(join(dir, 'package-lock.json'))
    .filter((r) => !r.ok)
    .map((r) => `${r.name} ${r.license}`);
  // Our own packages must be MIT, as the repository is.
  assert.deepEqual(bad.sort(), ['copyleft GPL-3.0-only', 'ours ISC', 'relicensed LGPL-2.1']);
  const r = spawnSync(process.execPath, [script, '--lock', join(dir, 'package-lock.json')], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /copyleft@2\.0\.0 \(node_modules\/copyleft\) is under GPL-3\.0-only/);
  assert.match(r.stdout, /licenses: 5 packages/);
});

test("the repository's own lock file passes", () => {
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^licenses: \d+ packages/);
});
