import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { needsCommand } from 'rondo-testkit';
import { readCpio } from '../test-fixtures/cpio-reader.js';
import { writeCpio } from './cpio.js';

const entries = [
  { type: 'dir' as const, path: 'bin' },
  { type: 'dir' as const, path: 'tmp', mode: 0o1777 },
  { type: 'file' as const, path: 'bin/tool', data: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
  { type: 'file' as const, path: '/init', data: Buffer.from('odd-sized: 13') },
  { type: 'symlink' as const, path: 'bin/sh', target: 'tool' },
  { type: 'char' as const, path: 'console', major: 5, minor: 1 },
];

test('members round-trip: names, modes, device numbers and data, 4-byte aligned', () => {
  const buf = writeCpio(entries);
  assert.equal(buf.length % 4, 0);
  const back = readCpio(buf);
  assert.deepEqual(
    back.map((m) => [m.name, m.mode.toString(8), m.rdev, m.data.toString()]),
    [
      ['bin', '40755', [0, 0], ''],
      ['tmp', '41777', [0, 0], ''],
      ['bin/tool', '100755', [0, 0], '#!/bin/sh\necho hi\n'],
      ['init', '100644', [0, 0], 'odd-sized: 13'],
      ['bin/sh', '120777', [0, 0], 'tool'],
      ['console', '20600', [5, 1], ''],
    ],
  );
});

test('the same inputs give the same bytes', () => {
  assert.ok(writeCpio(entries).equals(writeCpio(entries)));
});

test('duplicate or empty paths are refused', () => {
  assert.throws(() => writeCpio([entries[0]!, entries[0]!]), {
    code: 'ERR_VMM_GUEST_BUILD',
    message: /duplicate/,
  });
  assert.throws(() => writeCpio([{ type: 'dir', path: '/' }]), {
    code: 'ERR_VMM_GUEST_BUILD',
    message: /empty/,
  });
});

test('GNU cpio lists the archive as written', needsCommand('cpio', 'apt-get install -y cpio'), () => {
  const r = spawnSync('cpio', ['-itv', '--quiet'], { input: writeCpio(entries), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, entries.length);
  assert.match(lines[2]!, /^-rwxr-xr-x .* root +root +18 .* bin\/tool$/);
  assert.match(lines[4]!, /^lrwxrwxrwx .* bin\/sh -> tool$/);
  assert.match(lines[5]!, /^crw------- .* 5, +1 .* console$/);
});
