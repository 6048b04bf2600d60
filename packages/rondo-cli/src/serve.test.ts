// `rondo serve` as a real process beside a writer: it prints its address, answers the API and
// /metrics from the live store, honours --token and RONDO_SERVE_TOKEN, refuses bad options
// before opening anything (exit 2), and exits 0 on SIGTERM and SIGINT.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Child, freePort } from 'rondo-testkit';
import { BIN, rondo, WRITER } from './test-fixtures/run.js';

let dir: string;
let writer: Child;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rondo-cli-serve-'));
  writer = new Child(WRITER, [join(dir, 'store')]);
  await writer.waitFor('ready', 30_000);
});
after(async () => {
  await writer.finish();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `rondo serve` on a free port and waits for its address line. */
async function startServe(extra: string[] = [], env: NodeJS.ProcessEnv = process.env) {
  const port = await freePort();
  const child = new Child(BIN, ['serve', join(dir, 'store'), '--listen', `127.0.0.1:${port}`, ...extra], {
    env,
  });
  const line = await child.waitFor('serving ', 30_000);
  return { child, line, url: `http://127.0.0.1:${port}/` };
}

describe('rondo serve', () => {
  test('serves the live store until SIGTERM, then exits 0', async () => {
    const { child, line, url } = await startServe();
    try {
      assert.match(line, /^serving .*store at http:\/\/127\.0\.0\.1:\d+\/$/);
      const series = (await (await fetch(`${url}api/v1/series?match[]=live_load`)).json()) as {
        data: unknown[];
      };
      assert.equal(series.data.length, 2);
      const info = (await (await fetch(`${url}api/rondo/info`)).json()) as { data: { writerPid: number } };
      assert.equal(info.data.writerPid, writer.pid);
      // A series the writer registers now appears without restarting the server.
      writer.proc.stdin.write('add late_metric\n');
      await writer.waitFor('added late_metric', 30_000);
      const metrics = await (await fetch(`${url}metrics`)).text();
      assert.match(metrics, /^live_load\{host="web1"\} [\d.]+$/m);
      assert.match(metrics, /^late_metric\{host="late"\} [\d.]+$/m);
      assert.equal((await fetch(url)).status, 200);
    } finally {
      const exit = await child.kill('SIGTERM');
      assert.deepEqual(exit, { code: 0, signal: null });
    }
  });

  test('a token from --token or RONDO_SERVE_TOKEN; SIGINT exits 0 too', async () => {
    for (const [extra, env] of [
      [['--token', 'abc123'], process.env],
      [[], { ...process.env, RONDO_SERVE_TOKEN: 'abc123' }],
    ] as const) {
      const { child, line, url } = await startServe([...extra], env);
      try {
        assert.match(line, /\(token required\)$/);
        assert.equal((await fetch(`${url}api/v1/labels`)).status, 401);
        const ok = await fetch(`${url}api/v1/labels`, { headers: { authorization: 'Bearer abc123' } });
        assert.equal(ok.status, 200);
      } finally {
        assert.deepEqual(await child.kill('SIGINT'), { code: 0, signal: null });
      }
    }
  });

  test('usage errors exit 2 before the store is opened; a missing store or a busy port exit 1', async () => {
    const open = await rondo(['serve', '/nonexistent', '--listen', '0.0.0.0:9464']);
    assert.equal(open.code, 2);
    assert.match(open.stderr, /ERR_RONDO_USAGE: listening on 0\.0\.0\.0 exposes the store.*--token/);
    const bad = await rondo(['serve', '/nonexistent', '--listen', 'localhost']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--listen must be HOST:PORT/);
    assert.equal((await rondo(['serve'])).code, 2);
    assert.equal((await rondo(['serve', '/nonexistent', '--token', 'two words'])).code, 2);
    const missing = await rondo(['serve', join(dir, 'nope')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /ERR_RONDO_NOT_FOUND/);
    const { child, url } = await startServe();
    try {
      const busy = await rondo(['serve', join(dir, 'store'), '--listen', new URL(url).host]);
      assert.equal(busy.code, 1);
      assert.match(busy.stderr, /ERR_RONDO_IO: .*EADDRINUSE.*pick another/);
    } finally {
      await child.kill('SIGTERM');
    }
    const help = await rondo(['serve', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: rondo serve <store>/);
  });
});
