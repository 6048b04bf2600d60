// `rondo push` as a real process: usage errors, --once, --name, --tier, errors (401, 404, a
// missing store, a receiver that keeps failing), what it prints (distinct series, refused
// samples, nothing new), the open slot and an active writer, and a pusher killed with SIGKILL
// right after a batch was delivered and before it was committed: restarted, it resends at most
// that batch, and with SIGTERM or SIGINT it pushes what is left and exits 0.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Store } from 'rondo';
import { type Child, freePort, type RunResult, scratchDirs, T0, waitUntil } from 'rondo-testkit';
import { FakeReceiver } from 'rondo-testkit/fake-receiver';
import { assertCliError, makeSampleStore, rondo, startRondo } from './test-fixtures/run.js';

const SEC = 1000;
const cli = (args: string[]): Promise<RunResult> => rondo(args);
const tmp = scratchDirs('cli-push')();

let rx: FakeReceiver;
before(async () => {
  rx = await new FakeReceiver().start();
});
after(async () => {
  await rx.close();
});

/** Waits for a started `rondo` to end; what it printed and how it ended. */
async function ended(child: Child): Promise<RunResult> {
  const { code, signal } = await child.exited;
  return { code, signal, stdout: child.stdout, stderr: child.stderr };
}

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
  test('usage errors exit 2 with one line that says what is wrong', async () => {
    const { dir, store } = newStore();
    store.close();
    const cases: [string[], RegExp][] = [
      [[dir], /^missing --url/],
      [[dir, '--url', 'ftp://x'], /^--url must be http\(s\), got ftp:/],
      [[dir, '--url', rx.url, '--every', 'soon'], /^cannot parse --every "soon"/],
      [[dir, '--url', rx.url, '--every', '1s', '--once'], /--every and --once exclude each other/],
      [[dir, '--url', rx.url, '--label', 'novalue'], /--label must be k=v, got "novalue"/],
      [[dir, '--url', rx.url, '--tier', '-1'], /--tier must be a whole number ≥ 0, got "-1"/],
      [[dir, '--url', rx.url, '--tier', '99999999999999999999'], /--tier must be a whole number ≥ 0/],
      [[dir, '--url', rx.url, '--bogus'], /^unknown option --bogus/],
      [[dir, '--url', rx.url, '--stop-timeout', 'soon'], /^cannot parse --stop-timeout "soon"/],
      // Zero, no unit, negative: each says so (not "cannot parse").
      [[dir, '--url', rx.url, '--timeout', '0'], /^--timeout must be longer than 0, got "0"/],
      [[dir, '--url', rx.url, '--every', '0s'], /^--every must be longer than 0, got "0s"/],
      [[dir, '--url', rx.url, '--stop-timeout', '0ms'], /^--stop-timeout must be longer than 0/],
      [[dir, '--url', rx.url, '--every', '10'], /^--every 10 needs a unit: 10ms, 10s/],
      [[dir, '--url', rx.url, '--timeout', '-5s'], /^--timeout -5s: a negative duration is not allowed/],
      // Longer than a timer can wait (Node would wait 1 ms instead).
      [[dir, '--url', rx.url, '--every', '30d'], /^--every 30d is longer than a timer can wait/],
      [[dir, '--url', rx.url, '--timeout', '30d'], /^--timeout 30d is longer than a timer can wait/],
      [
        [dir, '--url', rx.url, '--stop-timeout', '30d'],
        /^--stop-timeout 30d is longer than a timer can wait/,
      ],
      [[dir, '--url', rx.url, '--max-samples', '1e3'], /--max-samples must be a whole number ≥ 1, got "1e3"/],
      [[dir, '--url', rx.url, '--max-samples', '0'], /--max-samples must be a whole number ≥ 1, got "0"/],
      [
        [dir, '--url', rx.url, '--max-samples', '99999999999'],
        /--max-samples must be at most 10,000,000, got 99999999999/,
      ],
      [[dir, '--url', rx.url, '--label', 'k='], /--label k=: the value is empty/],
    ];
    for (const [args, message] of cases)
      assertCliError(await cli(['push', ...args]), 2, 'ERR_RONDO_USAGE', message);
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

  test('a receiver that refuses every sample: one error line, exit 1, nothing committed', async () => {
    reset();
    const { dir, store, hs } = newStore();
    for (let i = 0; i < 20; i++) for (const h of hs) store.record(h, i, T0 + i * SEC);
    store.close();
    // Enough 400s for every request, including those the bisection sends.
    rx.script = Array.from({ length: 200 }, () => ({ status: 400, body: 'out of order sample' }));
    const r = await cli(['push', dir, '--url', rx.url, '--once']);
    rx.script = [];
    assertCliError(
      r,
      1,
      'ERR_RONDO_PUSH',
      /^the receiver refused all 40 samples of a batch \(HTTP 400: out of order sample\); nothing of it was committed — .*--drop-refused/,
    );
    assert.equal(rx.accepted.length, 0);
    // Kept, not dropped: a receiver that takes them gets them all.
    const again = await cli(['push', dir, '--url', rx.url, '--once']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^pushed 40 samples, 2 series in \d+ ms \(final\)\n$/);
  });

  test('--every stops at a receiver that refuses everything (exit 1) instead of dropping batch after batch', async () => {
    reset();
    const { dir, store, hs } = newStore();
    for (let i = 0; i < 5; i++) for (const h of hs) store.record(h, i, T0 + i * SEC);
    store.close();
    rx.script = Array.from({ length: 200 }, () => ({ status: 400, body: 'too old' }));
    const r = await cli(['push', dir, '--url', rx.url, '--every', '50ms']);
    rx.script = [];
    assertCliError(
      r,
      1,
      'ERR_RONDO_PUSH',
      /^the receiver refused all 8 samples of a batch \(HTTP 400: too old\)/,
    );
  });

  test('--drop-refused: all refused is summed up in one line, dropped, and still exit 1 (nothing went in)', async () => {
    reset();
    const { dir, store, hs } = newStore();
    for (let i = 0; i < 20; i++) for (const h of hs) store.record(h, i, T0 + i * SEC);
    store.close();
    rx.script = Array.from({ length: 200 }, () => ({ status: 400, body: 'out of order sample' }));
    const r = await cli(['push', dir, '--url', rx.url, '--once', '--drop-refused', '--max-samples', '10']);
    rx.script = [];
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stdout,
      /^pushed nothing: the receiver refused all 40 samples of 2 series in \d+ ms \(final\)\n$/,
    );
    // Four batches, many bisected requests: one line.
    assert.equal(
      r.stderr,
      'rondo push: the receiver refused 40 samples (HTTP 400: out of order sample); they were dropped\n',
    );
    const again = await cli(['push', dir, '--url', rx.url, '--once']);
    assert.equal(again.stdout, 'nothing new to push\n');
  });

  test('some samples refused: the push goes on, exit 0, one summary line for the refusals', async () => {
    reset();
    const { dir, store, hs } = newStore();
    for (let i = 0; i < 20; i++) for (const h of hs) store.record(h, i, T0 + i * SEC);
    store.close();
    // Like Prometheus: a request with a sample before the window is refused as a whole.
    rx.rejectBefore = T0 + 5 * SEC;
    try {
      const r = await cli(['push', dir, '--url', rx.url, '--once', '--max-samples', '8']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^pushed 30 samples, 2 series in \d+ ms \(final\); 10 refused\n$/);
      assert.equal(
        r.stderr,
        'rondo push: the receiver refused 10 samples (HTTP 400: out of bounds); they were dropped\n',
      );
    } finally {
      rx.rejectBefore = Number.NEGATIVE_INFINITY;
    }
  });

  test('--once against a closed port says that it is retrying while it retries', async () => {
    const { dir, store, hs } = newStore();
    store.record(hs[0] ?? 0, 1, T0);
    store.close();
    const url = `http://127.0.0.1:${await freePort()}/api/v1/write`;
    // Ten retries with backoff take ~15 s; the notice comes with the first one.
    const p = startRondo(['push', dir, '--url', url, '--once', '--stop-timeout', '60s']);
    await waitUntil('the retry notice', () => /retrying/.test(p.stderr) || p.proc.exitCode !== null, 20_000);
    assert.equal(p.proc.exitCode, null, `still retrying when it says so: ${p.stderr}`);
    assert.match(
      p.stderr,
      /^rondo push: http:\/\/127\.0\.0\.1:\d+\/api\/v1\/write did not take the push \(.*ECONNREFUSED.*\); retrying up to 10 times with growing delays \(--verbose shows each\)\n$/,
    );
    await p.kill('SIGTERM');
  });

  test('one sample, one series: no "1 samples"', async () => {
    reset();
    const { dir, store, hs } = newStore();
    store.record(hs[0] ?? 0, 1, T0);
    store.close();
    const r = await cli(['push', dir, '--url', rx.url, '--once']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^pushed 1 sample, 1 series in \d+ ms \(final\)\n$/);
  });

  test('--name keeps a cursor per destination', async () => {
    reset();
    const { dir, store, hs } = newStore();
    for (let i = 0; i < 10; i++) store.record(hs[0] ?? 0, i, T0 + i * SEC);
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
    for (let i = 0; i < 7; i++) store.record(hs[1] ?? 0, i, T0 + i * SEC);
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

  test('a receiver that keeps failing at --once: a retry notice, then one error line with a hint', async () => {
    reset();
    const { dir, store, hs } = newStore();
    for (let i = 0; i < 3; i++) store.record(hs[0] ?? 0, i, T0 + i * SEC);
    store.close();
    rx.script = Array.from({ length: 100 }, () => ({ status: 503, body: 'busy' }));
    const r = await cli(['push', dir, '--url', rx.url, '--once', '--stop-timeout', '1s']);
    rx.script = [];
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^rondo push: .* did not take the push \(HTTP 503: busy\); retrying up to 10 times .*\nrondo: ERR_RONDO_PUSH: .* — .*nothing was lost.*\n$/,
    );
    assert.doesNotMatch(r.stderr, /will retry/);
    const ok = await cli(['push', dir, '--url', rx.url, '--once']);
    assert.match(ok.stdout, /^pushed 3 samples, 1 series/);
  });

  test('--every: SIGINT pushes what is left (open slot too, no writer) and exits 0', async () => {
    reset();
    const { dir, store, hs } = newStore();
    for (let i = 0; i < 5; i++) for (const h of hs) store.record(h, i, T0 + i * SEC);
    const p = startRondo(['push', dir, '--url', rx.url, '--every', '50ms', '--verbose']);
    // A push, then a tick that found nothing: the first push is over.
    await waitUntil('an idle tick', () => /nothing new to push/.test(p.stdout));
    assert.equal(rx.accepted.length, 8);
    for (let i = 5; i < 9; i++) for (const h of hs) store.record(h, i, T0 + i * SEC);
    store.close();
    await new Promise((r) => setTimeout(r, 200));
    p.proc.kill('SIGINT');
    const r = await ended(p);
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
      for (let i = 0; i < 5; i++) store.record(hs[0] ?? 0, i, T0 + i * SEC);
      store.close();
      // The periodic push and the final one hang on the receiver; --stop-timeout would wait 5 s.
      rx.script = ['stall', 'stall'];
      const p = startRondo(['push', dir, '--url', rx.url, '--every', '50ms', '--stop-timeout', '5s']);
      // A periodic push under way: the signal handlers are in place.
      await waitUntil('a periodic push', () => rx.requests.length === 1);
      p.proc.kill(first);
      await waitUntil('the final push', () => rx.requests.length === 2);
      const started = Date.now();
      p.proc.kill(second);
      const r = await ended(p);
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
    for (let i = 0; i < 5; i++) store.record(hs[0] ?? 0, i, T0 + i * SEC);
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
    const first = startRondo(args);
    await waitUntil('three requests', () => rx.requests.length >= 3);
    first.proc.kill('SIGKILL');
    const killed = await ended(first);
    assert.equal(killed.signal, 'SIGKILL');
    const uncommitted = new Set(rx.requests[2]!.samples.map((s) => `${s.series}@${s.t}`));
    assert.ok(uncommitted.size > 0 && uncommitted.size <= 20, `batch of ${uncommitted.size}`);
    const cursor = JSON.parse(readFileSync(join(dir, 'cursors', 'prometheus.json'), 'utf8'));
    assert.notEqual(cursor.tiers['0'].pending, null, 'the killed batch is pending, not committed');

    const second = startRondo(args);
    write(40);
    await waitUntil('every closed point', () => rx.bySample().size >= (i - 1) * hs.length);
    store.close(); // no writer left: the final push includes the open slot
    second.proc.kill('SIGTERM');
    const r = await ended(second);
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
