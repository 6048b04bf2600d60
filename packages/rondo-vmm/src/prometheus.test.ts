import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { needsCommand, scratchDirs } from 'rondo-testkit';
import { liveChildCount } from './children.js';
import { jobName, prometheusConfig, rawSamples, startPrometheus, waitForScrapes } from './prometheus.js';

const scratch = scratchDirs('vmm-prom');

test('one scrape job per interval, timeouts within the interval', () => {
  assert.equal(jobName(15_000), 'scrape_15s');
  assert.equal(jobName(1500), 'scrape_1500ms');
  assert.equal(
    prometheusConfig('127.0.0.1:9100', [1000, 15_000]),
    [
      '# written by rondo-vmm compare',
      'scrape_configs:',
      '  - job_name: scrape_1s',
      '    scrape_interval: 1000ms',
      '    scrape_timeout: 1000ms',
      '    static_configs:',
      "      - targets: ['127.0.0.1:9100']",
      '  - job_name: scrape_15s',
      '    scrape_interval: 15000ms',
      '    scrape_timeout: 10000ms',
      '    static_configs:',
      "      - targets: ['127.0.0.1:9100']",
      '',
    ].join('\n'),
  );
});

test(
  'a real Prometheus scrapes the target at each interval; its raw samples come back',
  needsCommand('prometheus', 'apt-get install -y prometheus'),
  async () => {
    const target = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
      res.end('vm_up{vm="vm-1"} 1\n');
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    const { port } = target.address() as { port: number };
    const prom = await startPrometheus('prometheus', scratch(), `127.0.0.1:${port}`, [1000, 3000]);
    try {
      await waitForScrapes(prom, [1000, 3000], 20_000);
      const from = Date.now();
      await new Promise((r) => setTimeout(r, 3500));
      const to = Date.now();
      const fast = await rawSamples(prom, 'vm_up{job="scrape_1s"}', to, 60_000);
      assert.equal(fast.length, 1);
      assert.equal(fast[0]!.labels['vm'], 'vm-1');
      const inWindow = fast[0]!.times.filter((t) => t >= from && t < to);
      assert.ok(inWindow.length >= 2 && inWindow.length <= 5, `1 s scrapes in 3.5 s: ${inWindow.length}`);
      const slow = await rawSamples(prom, 'vm_up{job="scrape_3s"}', to, 60_000);
      const gaps = slow[0]!.times.slice(1).map((t, i) => t - slow[0]!.times[i]!);
      for (const g of gaps) assert.ok(Math.abs(g - 3000) < 500, `3 s apart: ${gaps}`);
    } finally {
      await prom.stop();
      target.close();
    }
    assert.equal(liveChildCount(), 0);
  },
);

test('Prometheus not installed is ERR_VMM_PROMETHEUS naming the package', async () => {
  await assert.rejects(startPrometheus('/nonexistent/prometheus', scratch(), '127.0.0.1:1', [1000]), {
    code: 'ERR_VMM_PROMETHEUS',
    message: /not installed — apt-get install -y prometheus/,
  });
});
