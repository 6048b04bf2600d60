// OpenTelemetry → Prometheus names: units as suffixes, _total for monotonic sums, labels made valid.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type PromKind, promLabels, promMetricName, unitSuffix } from './naming.js';

describe('promMetricName', () => {
  const cases: [string, string, PromKind, string][] = [
    ['http.server.duration', 's', 'histogram', 'http_server_duration_seconds'],
    ['http.server.requests', '{request}', 'counter', 'http_server_requests_total'],
    ['requests_total', '1', 'counter', 'requests_total'],
    ['cpu.utilization', '1', 'gauge', 'cpu_utilization_ratio'],
    ['queue.size', 'By', 'gauge', 'queue_size_bytes'],
    ['net.io', 'By', 'counter', 'net_io_bytes_total'],
    ['net.io_bytes_total', 'By', 'counter', 'net_io_bytes_total'],
    ['throughput', 'By/s', 'gauge', 'throughput_bytes_per_second'],
    ['arrivals', '{req}/s', 'gauge', 'arrivals_per_second'],
    ['latency_seconds', 's', 'histogram', 'latency_seconds'],
    ['gc.pause', 'ms', 'counter', 'gc_pause_milliseconds_total'],
    ['room.temperature', 'Cel', 'gauge', 'room_temperature_celsius'],
    ['widgets', 'widget', 'gauge', 'widgets_widget'],
    ['2xx.responses', '', 'counter', '_2xx_responses_total'],
    ['a..b--c', '', 'gauge', 'a_b_c'],
    ['memory', 'MiBy', 'gauge', 'memory_mebibytes'],
  ];
  for (const [name, unit, kind, want] of cases) {
    it(`${name} [${unit || 'no unit'}] as a ${kind} is ${want}`, () => {
      assert.equal(promMetricName(name, unit, kind), want);
    });
  }

  it('unitSuffix: annotations only, or 1 outside gauges, give no suffix', () => {
    assert.equal(unitSuffix('{packets}', 'gauge'), '');
    assert.equal(unitSuffix('1', 'counter'), '');
    assert.equal(unitSuffix('', 'gauge'), '');
    assert.equal(unitSuffix('m/s', 'gauge'), 'meters_per_second');
  });
});

describe('promLabels', () => {
  it('makes names valid, joins colliding ones, writes values as text and drops empty ones', () => {
    assert.deepEqual(
      promLabels({
        'http.route': '/',
        '2xx': 'a',
        __x: 'b',
        'a.b': '1',
        a_b: '2',
        list: [1, 2],
        flag: true,
        n: 3.5,
        empty: '',
        '': 'no key',
      }),
      { http_route: '/', key_2xx: 'a', key__x: 'b', a_b: '1;2', list: '[1,2]', flag: 'true', n: '3.5' },
    );
  });
});
