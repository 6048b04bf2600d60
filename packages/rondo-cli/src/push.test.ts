// `rondo push` as a real process: usage errors, --once, a 401, and a pusher killed with SIGKILL
// right after a batch was delivered and before it was committed: restarted, it resends at most
// that batch, and with SIGTERM it pushes what is left and exits 0.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Store } from 'rondo';
import { FakeReceiver } from '../../rondo/dist/test-fixtures/fake-receiver.js';

const BIN = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', 'bin', 'rondo.js');
const T0 = 1_700_000_000_000;
const SEC = 1000;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function startCli(args: string[]): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<Run>((res) =>
    child.on('exit', (code, signal) => setImmediate(() => res({ code, signal, stdout, stderr }))),
  );
  return { child, done };
}

const cli = (args: string[]) => startCli(args).done;

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'rondo-cli-push-'));
let rx: FakeReceiver;
before(async () => {
  rx = await new FakeReceiver().start();
});
after(async () => {
  await rx.close();
  rmSync(tmp, { recursive: true, force: true });
});

function reset(): void {
  rx.script = [];
  rx.requests.length = 0;
  rx.accepted.length = 0;
}

let stores = 0;
function newStore(): { dir: string; store: Store; hs: number[] } {
  const dir = join(tmp, `s${stores++}`);
  const store = Store.open(dir, {
    schemas: [{ name: 's', maxSeries: 4, tiers: [{ interval: SEC, retention: 3_600_000 }] }],
  });
  const hs = [store.register('cpu.usage', { host: 'a' }), store.register('mem')];
  return { dir, store, hs };
}

describe('rondo push', () => {
  test('usage errors exit 2 with one line', async () => {
    const { dir, store } = newStore();
    store.close();
    for (const args of [
      [dir],
      [dir, '--url', 'ftp://x'],
      [dir, '--url', rx.url, '--every', 'soon'],
      [dir, '--url', rx.url, '--every', '1s', '--once'],
      [dir, '--url', rx.url, '--label', 'novalue'],
      [dir, '--url', rx.url, '--tier', '-1'],
      [dir, '--url', rx.url, '--bogus'],
    ]) {
      const r = await cli(['push', ...args]);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, /^rondo: ERR_RONDO_USAGE: .+\n$/);
    }
  });

  test('--once pushes everything (open slot too when no writer is active), then nothing twice', async () => {
    reset();
    const { dir, store, hs } = newStore();
    for (let i = 0; i < 50; i++) for (const h of hs) store.record(h, i + h / 2, T0 + i * SEC);
    store.close();
    const r = await cli(['push', dir, '--url', rx.url, '--once', '--label', 'instance=w1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^pushed 100 samples, 2 series in \d+ ms \(final\)\n$/);
    assert.equal(rx.accepted.length, 100);
    assert.ok(rx.accepted.some((s) => s.series === '__name__="cpu_usage",host="a",instance="w1"'));
    const again = await cli(['push', dir, '--url', rx.url, '--once']);
    assert.equal(again.code, 0);
    assert.equal(again.stdout, '');
    assert.equal(rx.accepted.length, 100);
  });

  test('HTTP 401 exits 1 with one clear line; the data stays for a later push', async () => {
    reset();
    const { dir, store, hs } = newStore();
    for (let i = 0; i < 5; i++) store.record(hs[0]!, i, T0 + i * SEC);
    store.close();
    rx.script = [{ status: 401, body: 'bad token' }];
    const r = await cli(['push', dir, '--url', rx.url, '--once']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^rondo: ERR_RONDO_PUSH: .*HTTP 401: bad token.*\n$/);
    const ok = await cli(['push', dir, '--url', rx.url, '--once']);
    assert.equal(ok.code, 0);
    assert.equal(rx.accepted.length, 5);
  });

  test('killed with SIGKILL after delivering a batch, a restarted pusher resends at most that batch', async () => {
    reset();
    const { dir, store, hs } = newStore();
    let i = 0;
    const write = (n: number) => {
      for (const end = i + n; i < end; i++) for (const h of hs) store.record(h, i * 2 + h, T0 + i * SEC);
    };
    write(30);
    // The third request is taken in, but never answered: the pusher dies before it can commit.
    rx.script = ['ok', 'ok', 'accept-hang'];
    const args = ['push', dir, '--url', rx.url, '--every', '30ms', '--max-samples', '20'];
    const first = startCli(args);
    await until('three requests', () => rx.requests.length >= 3);
    first.child.kill('SIGKILL');
    const killed = await first.done;
    assert.equal(killed.signal, 'SIGKILL');
    const uncommitted = new Set(rx.requests[2]!.samples.map((s) => `${s.series}@${s.t}`));
    assert.ok(uncommitted.size > 0 && uncommitted.size <= 20, `batch of ${uncommitted.size}`);
    const cursor = JSON.parse(readFileSync(join(dir, 'cursors', 'prometheus.json'), 'utf8'));
    assert.notEqual(cursor.tiers['0'].pending, null, 'the killed batch is pending, not committed');

    const second = startCli(args);
    write(40);
    await until('every closed point', () => rx.bySample().size >= (i - 1) * hs.length);
    store.close(); // no writer left: the final push includes the open slot
    second.child.kill('SIGTERM');
    const r = await second.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /pushed \d+ samples, \d series in \d+ ms/);

    const got = rx.bySample();
    assert.equal(got.size, i * hs.length, 'every point arrived');
    const resent: string[] = [];
    for (const [k, values] of got) {
      const [series, t] = [k.slice(0, k.lastIndexOf('@')), Number(k.slice(k.lastIndexOf('@') + 1))];
      const idx = (t - T0) / SEC;
      const want = idx * 2 + (series.startsWith('__name__="mem"') ? 1 : 0);
      assert.ok(
        values.every((v) => v === want),
        `${k}: ${values.join(',')}`,
      );
      if (values.length > 1) resent.push(k);
    }
    assert.ok(resent.length > 0, 'the uncommitted batch was resent');
    for (const k of resent)
      assert.ok(uncommitted.has(k), `${k} was resent but was not in the uncommitted batch`);
  });
});
