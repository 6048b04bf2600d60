// The dashboard in a real browser (Debian's chromium, driven by playwright-core, which downloads
// nothing): against a store another process is writing, the page finds its charts with data,
// follows new points, asks for a token once when the server needs one, draws a day of 1 s
// points, and logs no console errors. It keeps a screenshot (RONDO_SCREENSHOT=path to choose
// where; the README's picture comes from this step).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { Child, needsCommand, scratchDirs, T0 } from 'rondo-testkit';
import { Store } from '../index.js';
import { serveOn } from '../test-fixtures/serve.js';
import type { RondoServer } from './serve.js';

const CHROMIUM = '/usr/bin/chromium';
const options = needsCommand('chromium', 'apt-get install -y chromium');
const scratch = scratchDirs('serve-ui');
const WRITER = fileURLToPath(new URL('../test-fixtures/serve-writer.js', import.meta.url));

/** Chromium flags for a closed network, as root, with nothing running in the background. */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let browser: Browser;
let writer: Child;
let reader: Store;
let server: RondoServer;

/** A page that records console errors and uncaught exceptions. */
async function openPage(url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  return { page, errors };
}

// What page functions use in the browser (this package compiles without the DOM library;
// the page's CSP forbids string evaluation, so they must be functions).
declare const document: { querySelector(s: string): { getAttribute(n: string): string | null } | null };
declare const localStorage: { getItem(k: string): string | null };

const chart = (page: Page, metric: string) => page.locator(`.chart[data-metric="${metric}"]`);

describe('dashboard in headless Chromium', options, () => {
  before(async () => {
    const dir = scratch();
    writer = new Child(WRITER, [dir]);
    await writer.waitFor('ready', 30_000);
    reader = Store.open(dir, { readOnly: true });
    server = await serveOn(reader);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 60_000 });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    reader?.close();
    await writer?.finish();
  });

  test('charts with data from the writer, live follow, info, no console errors; screenshot', async () => {
    const { page, errors } = await openPage(`${server.url}#range=5m`);
    const cpu = chart(page, 'cpu_usage');
    await cpu.and(page.locator('[data-points]')).waitFor({ timeout: 30_000 });
    await chart(page, 'mem.used_bytes').and(page.locator('[data-points]')).waitFor({ timeout: 30_000 });
    assert.ok(Number(await cpu.getAttribute('data-points')) >= 3 * 250, 'three series, 5 minutes each');
    assert.match((await cpu.locator('.tier').textContent()) ?? '', /tier 0 \(1s\)/);
    assert.equal(await cpu.locator('.u-legend .u-series').count(), 4, 'time plus three series in the legend');
    // Live follow: a newer point arrives without reloading.
    const last = Number(await cpu.getAttribute('data-last'));
    // Page functions as strings: they run in the browser, where document exists.
    await page.waitForFunction(
      (before) =>
        Number(document.querySelector('.chart[data-metric="cpu_usage"]')?.getAttribute('data-last')) > before,
      last,
      { timeout: 30_000 },
    );
    // info(): the writer's pid and the tiers.
    assert.match((await page.locator('#store').textContent()) ?? '', new RegExp(`writer pid ${writer.pid}`));
    await page.locator('#info summary').click();
    assert.match(
      (await page.locator('#info-body').textContent()) ?? '',
      /schema host[\s\S]*10s[\s\S]*6h[\s\S]*avg/,
    );
    const path = process.env['RONDO_SCREENSHOT'] ?? join(scratch(), 'dashboard.png');
    const png = await page.screenshot({ path, fullPage: true });
    assert.deepEqual([...png.subarray(1, 4)], [...Buffer.from('PNG')]);
    assert.ok(readFileSync(path).length > 10_000);
    // The filter narrows the series list.
    await page.locator('#filter').fill('mem');
    assert.deepEqual(await page.locator('#metrics > li > label').allInnerTexts(), ['mem.used_bytes']);
    await page.locator('#filter').fill('');
    // Switching the range reloads the charts from a coarser tier (1 or 2: whether tier 1's 6 h
    // reach back to the start depends on where its newest window is).
    await page.locator('#ranges button[data-range="6h"]').click();
    await page.waitForFunction(
      () =>
        ['1', '2'].includes(
          document.querySelector('.chart[data-metric="cpu_usage"]')?.getAttribute('data-tier') ?? '',
        ),
      undefined,
      { timeout: 30_000 },
    );
    // A custom range (local time, as the inputs show it): the 60 s from 2 minutes ago, tier 0.
    await page.locator('#ranges button[data-range="custom"]').click();
    const local = (ms: number) =>
      new Date(ms - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
    const to = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    await page.locator('#custom-start').fill(local(to - 60_000));
    await page.locator('#custom-end').fill(local(to));
    await page.locator('#custom button').click();
    await page.waitForFunction(
      () => {
        const el = document.querySelector('.chart[data-metric="cpu_usage"]');
        return el?.getAttribute('data-tier') === '0' && el.getAttribute('data-points') === String(3 * 61);
      },
      undefined,
      { timeout: 30_000 },
    );
    assert.equal(await cpu.getAttribute('data-last'), String(to));
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('a counter is charted as its rate per second by default; the button shows its raw values', async () => {
    const { page, errors } = await openPage(`${server.url}#range=5m&m=http_requests_total`);
    const c = chart(page, 'http_requests_total');
    await c.and(page.locator('[data-fn="rate"][data-points]')).waitFor({ timeout: 30_000 });
    assert.match((await c.locator('.tier').textContent()) ?? '', /rate per second/);
    // The writer adds 40–59 per record, once a second and then every 250 ms: rates stay below
    // 240/s, while the raw count is past 24,000 after the 10 minutes it filled first.
    const rate = Number(await c.getAttribute('data-max'));
    assert.ok(rate >= 40 && rate < 240, `rate ${rate}`);
    await c.locator('button.mode').click();
    await c.and(page.locator('[data-fn=""][data-points]')).waitFor({ timeout: 30_000 });
    assert.ok(Number(await c.getAttribute('data-max')) > 24_000);
    assert.match(page.url(), /raw=http_requests_total/);
    assert.equal(await c.locator('button.mode').textContent(), 'show rate');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('with a token, the page asks for it once and then shows the charts', async () => {
    const secured = await serveOn(reader, { token: 'let-me-in' });
    try {
      const { page, errors } = await openPage(`${secured.url}#range=5m`);
      await page.locator('#login').waitFor({ state: 'visible', timeout: 30_000 });
      await page.locator('#token').fill('let-me-in');
      await page.locator('#login button').click();
      await chart(page, 'cpu_usage').and(page.locator('[data-points]')).waitFor({ timeout: 30_000 });
      assert.equal(await page.evaluate(() => localStorage.getItem('rondo.token')), 'let-me-in');
      // The 401s before the token were the server's answers, not page errors.
      assert.deepEqual(
        errors.filter((e) => !/401/.test(e)),
        [],
      );
      await page.close();
    } finally {
      await secured.close();
    }
  });

  test('a day of 1 s points (86,400) in one chart, and the page stays responsive', async () => {
    const store = Store.open(scratch(), {
      schemas: [{ name: 'day', maxSeries: 1, tiers: [{ interval: '1s', retention: '1d' }] }],
    });
    const h = store.register('big');
    for (let i = 0; i < 86_400; i++) store.record(h, Math.sin(i / 1000) + (i % 60) / 60, T0 + i * 1000);
    const big = await serveOn(store);
    try {
      const { page, errors } = await openPage(`${big.url}#range=7d&m=big`);
      const c = chart(page, 'big');
      await c.and(page.locator('[data-points="86400"]')).waitFor({ timeout: 60_000 });
      assert.equal(await page.evaluate(() => 1 + 1), 2);
      assert.match((await c.locator('.tier').textContent()) ?? '', /tier 0 \(1s\)/);
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      await big.close();
      store.close();
    }
  });
});
