// `rondo push` as a real process: usage errors, --once, --name, --tier, errors (401, 404, a
// missing store, a receiver that keeps failing), what it prints (distinct series, refused
// samples, nothing new), the open slot and an active writer, and a pusher killed with SIGKILL
// right after a batch was delivered and before it was committed: restarted, it resends at most
// that batch, and with SIGTERM or SIGINT it pushes what is left and exits 0.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Store } from 'rondo';
import { FakeReceiver } from '../../rondo/dist/test-fixtures/fake-receiver.js';
import { makeSampleStore } from './test-fixtures/run.js';

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
      [dir, '--url', rx.url, '--stop-timeout', 'soon'],
      // Longer than a timer can wait (Node would wait 1 ms instead).
      [dir, '--url', rx.url, '--every', '30d'],
      [dir, '--url', rx.url, '--timeout', '30d'],
      [dir, '--url', rx.url, '--stop-timeout', '30d'],
      [dir, '--url', rx.url, '--max-samples', '1e3'],
    ]) {
      const r = await cli(['push', ...args]);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, /^rondo: ERR_RONDO_USAGE: .+\n$/);
    }
  });

  test('a bad --name or a reserved --label is a usage error (exit 2), found before the store is opened', async () => {
    for (const [args, message] of [
      [['--name', 'bad/name'], /--name: cursor name "bad\/name" is invalid: use 1-64 characters/],
      [['--name', '.hidden'], /--name: cursor name "\.hidden" is invalid/],
      [['--label', '__x=1'], /--label: external label __x is reserved \(starts with __\)/],
    ] as const) {
      // The store does not even exist: the command line is checked first.
      const r = await cli(['push', join(tmp, 'nowhere'), '--url', rx.url, '--once', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^rondo: ERR_RONDO_USAGE: .+ — see rondo push --help\n$/);
      assert.match(r.stderr, message);
    }
  });

  test('a missing store exits 1 with ERR_RONDO_NOT_FOUND', async () => {
    const r = await cli(['push', join(tmp, 'nowhere'), '--url', rx.url, '--once']);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^rondo: ERR_RONDO_NOT_FOUND: no rondo store at .*nowhere \(the path does not exist\) — check the path.*\n$/,
    );
    assert.equal(r.stdout, '');
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
    assert.equal(again.stdout, 'nothing new to push\n');
    assert.equal(again.stderr, '');
    assert.equal(rx.accepted.length, 100);
  });

  test('the series count is of distinct series, however many batches a push takes', async () => {
    reset();
    const { dir, store, hs } = newStore();
    for (let i = 0; i < 301; i++) for (const h of hs) store.record(h, i, T0 + i * SEC);
    store.close();
    const r = await cli(['push', dir, '--url', rx.url, '--once', '--max-samples', '50']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^pushed 602 samples, 2 series in \d+ ms \(final\)\n$/);
    assert.ok(rx.requests.length >= 12, `${rx.requests.length} requests`);
  });

  test('samples the receiver refuses (400) are named; all refused is not "pushed"', async () => {
    reset();
    const { dir, store, hs } = newStore();
    for (let i = 0; i < 20; i++) for (const h of hs) store.record(h, i, T0 + i * SEC);
    store.close();
    // Enough 400s for every request, including any a receiver-side bisection sends.
    rx.script = Array.from({ length: 200 }, () => ({ status: 400, body: 'out of order sample' }));
    const r = await cli(['push', dir, '--url', rx.url, '--once']);
    rx.script = [];
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^pushed nothing: the receiver refused all 40 samples of 2 series in \d+ ms \(final\)\n$/,
    );
    assert.match(r.stderr, /the receiver refused \d+ samples \(HTTP 400\): out of order sample/);
    assert.equal(rx.accepted.length, 0);
    // They were dropped (committed), not kept: nothing is left to push.
    const again = await cli(['push', dir, '--url', rx.url, '--once']);
    assert.equal(again.stdout, 'nothing new to push\n');
  });

  test('--name keeps a cursor per destination', async () => {
    reset();
    const { dir, store, hs } = newStore();
    for (let i = 0; i < 10; i++) store.record(hs[0]!, i, T0 + i * SEC);
    store.close();
    const a = await cli(['push', dir, '--url', rx.url, '--once', '--name', 'site-a']);
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /^pushed 10 samples, 1 series/);
    const a2 = await cli(['push', dir, '--url', rx.url, '--once', '--name', 'site-a']);
    assert.equal(a2.stdout, 'nothing new to push\n');
    const b = await cli(['push', dir, '--url', rx.url, '--once', '--name', 'site.b_2']);
    assert.match(b.stdout, /^pushed 10 samples, 1 series/);
    assert.equal(rx.accepted.length, 20);
    for (const n of ['site-a', 'site.b_2'])
      assert.ok(readFileSync(join(dir, 'cursors', `${n}.json`), 'utf8'));
  });

  test('--tier 1 pushes the consolidated tier; a tier no schema has exits 1 with a push hint', async () => {
    reset();
    const dir = join(tmp, `sample${stores++}`);
    makeSampleStore(dir);
    const r = await cli(['push', dir, '--url', rx.url, '--once', '--tier', '1']);
    assert.equal(r.code, 0, r.stderr);
    // Schema web has tier 1 (1m avg) for its 4 series; schema db has no tier 1 and is skipped.
    assert.match(r.stdout, /^pushed \d+ samples, 4 series in \d+ ms \(final\)\n$/);
    const web1 = rx.accepted.filter((s) => s.series === '__name__="cpu_usage",host="web1"');
    assert.ok(web1.length >= 59 && web1.length <= 60, `${web1.length} windows`);
    assert.ok(!rx.accepted.some((s) => s.series.includes('role="db"')));
    for (const s of web1) {
      const k = (s.t - Date.UTC(2024, 4, 1, 12)) / 60_000;
      assert.equal(s.v, k * 60 + 29.5, `window ${k}`);
    }
    const bad = await cli(['push', dir, '--url', rx.url, '--once', '--tier', '2']);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /^rondo: ERR_RONDO_INVALID_TIER: startPush: no schema of .* has tier 2 \(its schemas have tiers 0…1\) — pick one of the tiers `rondo info` lists\n$/,
    );
    assert.doesNotMatch(bad.stderr, /auto/);
  });

  test('while a writer is active the open slot is left out; once none is, it is pushed', async () => {
    reset();
    const { dir, store, hs } = newStore();
    for (let i = 0; i < 10; i++) for (const h of hs) store.record(h, i, T0 + i * SEC);
    // This process holds the store as its writer: slot 9 is still open.
    const busy = await cli(['push', dir, '--url', rx.url, '--once']);
    assert.equal(busy.code, 0, busy.stderr);
    assert.match(busy.stdout, /^pushed 18 samples, 2 series/);
    assert.equal(Math.max(...rx.accepted.map((s) => s.t)), T0 + 8 * SEC);
    store.close();
    const idle = await cli(['push', dir, '--url', rx.url, '--once']);
    assert.equal(idle.code, 0, idle.stderr);
    assert.match(idle.stdout, /^pushed 2 samples, 2 series/);
    assert.deepEqual(
      rx.accepted.slice(18).map((s) => s.t),
      [T0 + 9 * SEC, T0 + 9 * SEC],
    );
  });

  test('HTTP 404 exits 1 with one line and a hint; the data is kept for a good receiver', async () => {
    reset();
    const { dir, store, hs } = newStore();
    for (let i = 0; i < 7; i++) store.record(hs[1]!, i, T0 + i * SEC);
    store.close();
    rx.script = [{ status: 404, body: 'not found' }];
    const r = await cli(['push', dir, '--url', rx.url, '--once']);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^rondo: ERR_RONDO_PUSH: .*HTTP 404: not found.* — fix --url .*nothing was lost.*\n$/,
    );
    assert.equal(r.stdout, '');
    const ok = await cli(['push', dir, '--url', rx.url, '--once']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^pushed 7 samples, 1 series/);
    assert.equal(rx.accepted.length, 7);
  });

  test('a receiver that keeps failing at --once: one line with a hint, no "will retry"', async () => {
    reset();
    const { dir, store, hs } = newStore();
    for (let i = 0; i < 3; i++) store.record(hs[0]!, i, T0 + i * SEC);
    store.close();
    rx.script = Array.from({ length: 100 }, () => ({ status: 503, body: 'busy' }));
    const r = await cli(['push', dir, '--url', rx.url, '--once', '--stop-timeout', '1s']);
    rx.script = [];
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^rondo: ERR_RONDO_PUSH: remote write to .* — .*nothing was lost.*\n$/);
    assert.doesNotMatch(r.stderr, /will retry/);
    const ok = await cli(['push', dir, '--url', rx.url, '--once']);
    assert.match(ok.stdout, /^pushed 3 samples, 1 series/);
  });

  test('--every: SIGINT pushes what is left (open slot too, no writer) and exits 0', async () => {
    reset();
    const { dir, store, hs } = newStore();
    for (let i = 0; i < 5; i++) for (const h of hs) store.record(h, i, T0 + i * SEC);
    const p = startCli(['push', dir, '--url', rx.url, '--every', '50ms', '--verbose']);
    let out = '';
    p.child.stdout!.on('data', (d) => (out += d));
    // A push, then a tick that found nothing: the first push is over.
    await until('an idle tick', () => /nothing new to push/.test(out));
    assert.equal(rx.accepted.length, 8);
    for (let i = 5; i < 9; i++) for (const h of hs) store.record(h, i, T0 + i * SEC);
    store.close();
    await new Promise((r) => setTimeout(r, 200));
    p.child.kill('SIGINT');
    const r = await p.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.signal, null);
    assert.equal(rx.bySample().size, 18, 'every point, the open slot included');
    assert.match(r.stdout, /^pushed 8 samples, 2 series in \d+ ms\n/);
    assert.match(r.stdout, /^pushed 2 samples, 2 series in \d+ ms \(final\)\n$/m);
    // --verbose shows the ticks that found nothing (without it they stay quiet).
    assert.match(r.stdout, /^nothing new to push\n/m);
    assert.equal(r.stderr, '');
  });

  for (const [first, second, code] of [
    ['SIGINT', 'SIGTERM', 143],
    ['SIGTERM', 'SIGINT', 130],
  ] as const) {
    test(`--every: ${second} during the final push after ${first} exits ${code} at once; the data stays`, async () => {
      reset();
      const { dir, store, hs } = newStore();
      for (let i = 0; i < 5; i++) store.record(hs[0]!, i, T0 + i * SEC);
      store.close();
      // The periodic push and the final one hang on the receiver; --stop-timeout would wait 5 s.
      rx.script = ['stall', 'stall'];
      const p = startCli(['push', dir, '--url', rx.url, '--every', '50ms', '--stop-timeout', '5s']);
      // A periodic push under way: the signal handlers are in place.
      await until('a periodic push', () => rx.requests.length === 1);
      p.child.kill(first);
      await until('the final push', () => rx.requests.length === 2);
      const started = Date.now();
      p.child.kill(second);
      const r = await p.done;
      assert.ok(Date.now() - started < 3000, `exited after ${Date.now() - started} ms`);
      assert.equal(r.code, code, r.stderr);
      assert.match(r.stderr, new RegExp(`^rondo push: ${second} during the final push: exiting now`));
      // Nothing was committed: a later push sends it all.
      const again = await cli(['push', dir, '--url', rx.url, '--once']);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(rx.accepted.length, 5);
    });
  }

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
