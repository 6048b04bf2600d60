// A FIFO, a device or a directory where a store keeps a file must be an error at once, naming
// the file, never a process blocked in open() or read(). Each attempt runs in a child process
// with a deadline: a hang would block this process's event loop (and any timer in it).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Store } from './index.js';
import { needsCommand, oneTier, scratchDirs, T0 } from './test-fixtures/helpers.js';

const scratch = scratchDirs('special');
const INDEX = fileURLToPath(new URL('./index.js', import.meta.url));

/** A store with one series, a point and a committed cursor. */
function makeStore(): string {
  const d = scratch();
  const store = Store.open(d, { schemas: [oneTier('s', 1000, 10)] });
  store.record(store.register('m'), 1, T0);
  store.record(store.register('m'), 2, T0 + 1000);
  store.drain('c').commit();
  store.close();
  return d;
}

/** Runs `action` on store `d` in a child; returns the error code and message it printed. */
function attempt(d: string, action: string): { code: string; message: string } {
  const script = `
    import { Store } from ${JSON.stringify(INDEX)};
    try {
      ${action}
      console.log(JSON.stringify({ code: 'ok', message: '' }));
    } catch (e) {
      console.log(JSON.stringify({ code: e.code ?? e.name, message: e.message }));
    }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, STORE: d },
    encoding: 'utf8',
    timeout: 15_000,
  });
  assert.equal(r.signal, null, `${action}: the child hung (killed after 15 s)`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

const ACTIONS = {
  writer: 'Store.open(process.env.STORE).close();',
  reader: 'Store.open(process.env.STORE, { readOnly: true }).close();',
  info: 'const s = Store.open(process.env.STORE, { readOnly: true }); try { s.info(); } finally { s.close(); }',
  drain:
    "const s = Store.open(process.env.STORE, { readOnly: true }); try { s.drain('c'); } finally { s.close(); }",
};

const FILES: [string, (keyof typeof ACTIONS)[]][] = [
  ['rondo.json', ['writer', 'reader']],
  ['s.0.slab', ['writer', 'reader']],
  ['series.journal', ['writer', 'reader']],
  ['LOCK', ['writer', 'info']],
  ['cursors/c.json', ['drain']],
];

for (const kind of ['fifo', 'device', 'directory'] as const) {
  // needsCommand: under RONDO_REQUIRE_ALL=1 a missing mkfifo fails instead of skipping.
  test(`a ${kind} in place of a store file is ERR_RONDO_CORRUPT naming it, at once`, {
    ...(kind === 'fifo' ? needsCommand('mkfifo', 'apt-get install coreutils') : {}),
  }, () => {
    for (const [file, actions] of FILES) {
      const d = makeStore();
      const path = join(d, file);
      rmSync(path);
      if (kind === 'fifo') assert.equal(spawnSync('mkfifo', [path]).status, 0);
      else if (kind === 'device') symlinkSync('/dev/zero', path);
      else mkdirSync(path);
      for (const action of actions) {
        const r = attempt(d, ACTIONS[action]);
        assert.equal(r.code, 'ERR_RONDO_CORRUPT', `${kind} as ${file}, ${action}: ${r.code} ${r.message}`);
        assert.ok(r.message.includes(path), `${kind} as ${file}, ${action}: "${r.message}" names ${path}`);
      }
    }
  });
}
