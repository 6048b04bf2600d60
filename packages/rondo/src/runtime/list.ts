// The series the runtime collector records, named as prom-client's default metrics where the same
// quantity exists (dashboards and PromQL habits carry over). docs/instrument.md lists them; a test
// checks that the page and this list agree.

/** One metric of the runtime collector. */
export interface RuntimeMetric {
  /** Series name. */
  name: string;
  /** 'counter' (cumulative; rate() applies) or 'gauge'. */
  type: 'counter' | 'gauge';
  /** The label that tells its series apart, if it has several. */
  label?: string;
  /** What it measures. */
  help: string;
  /** True when prom-client's default metrics have a metric of this name and meaning. */
  promClient: boolean;
}

/** Every metric {@link RuntimeMetrics} records, in the order it records them. */
export const RUNTIME_METRICS: readonly RuntimeMetric[] = [
  m('process_cpu_user_seconds_total', 'counter', 'User CPU time spent, seconds'),
  m('process_cpu_system_seconds_total', 'counter', 'System CPU time spent, seconds'),
  m('process_cpu_seconds_total', 'counter', 'User and system CPU time spent, seconds'),
  m('process_resident_memory_bytes', 'gauge', 'Resident memory size (RSS), bytes'),
  m('process_start_time_seconds', 'gauge', 'Start time of the process since the Unix epoch, seconds'),
  m('process_open_fds', 'gauge', 'Open file descriptors (Linux: /proc/self/fd)'),
  m('process_max_fds', 'gauge', 'Limit of open file descriptors (Linux: /proc/self/limits)'),
  m('nodejs_heap_size_total_bytes', 'gauge', 'V8 heap size, bytes'),
  m('nodejs_heap_size_used_bytes', 'gauge', 'V8 heap used, bytes'),
  m('nodejs_external_memory_bytes', 'gauge', 'Memory of C++ objects bound to JavaScript objects, bytes'),
  m(
    'nodejs_array_buffers_bytes',
    'gauge',
    'Memory of ArrayBuffers and SharedArrayBuffers (part of external), bytes',
    false,
  ),
  m('nodejs_heap_space_size_total_bytes', 'gauge', 'Size of each V8 heap space, bytes', true, 'space'),
  m('nodejs_heap_space_size_used_bytes', 'gauge', 'Used size of each V8 heap space, bytes', true, 'space'),
  m(
    'nodejs_heap_space_size_available_bytes',
    'gauge',
    'Available size of each V8 heap space, bytes',
    true,
    'space',
  ),
  m('nodejs_eventloop_lag_min_seconds', 'gauge', 'Smallest event-loop delay since the last sample, seconds'),
  m('nodejs_eventloop_lag_max_seconds', 'gauge', 'Largest event-loop delay since the last sample, seconds'),
  m('nodejs_eventloop_lag_mean_seconds', 'gauge', 'Mean event-loop delay since the last sample, seconds'),
  m('nodejs_eventloop_lag_p50_seconds', 'gauge', 'Median event-loop delay since the last sample, seconds'),
  m(
    'nodejs_eventloop_lag_p90_seconds',
    'gauge',
    '90th percentile of the event-loop delay since the last sample, seconds',
  ),
  m(
    'nodejs_eventloop_lag_p99_seconds',
    'gauge',
    '99th percentile of the event-loop delay since the last sample, seconds',
  ),
  m(
    'nodejs_eventloop_utilization_ratio',
    'gauge',
    'Event-loop utilization since the last sample (0 idle … 1 always busy)',
    false,
  ),
  m('nodejs_active_handles_total', 'gauge', 'Active libuv handles (sockets, servers, timers, …)'),
  m('nodejs_active_requests_total', 'gauge', 'Active libuv requests (file system calls, DNS look-ups, …)'),
  m('nodejs_active_resources_total', 'gauge', 'Active resources keeping the event loop alive'),
  m(
    'nodejs_gc_duration_seconds_count',
    'counter',
    'Garbage collections, by kind (major, minor, incremental, weakcb)',
    true,
    'kind',
  ),
  m(
    'nodejs_gc_duration_seconds_sum',
    'counter',
    'Time spent in garbage collection, by kind, seconds',
    true,
    'kind',
  ),
  m(
    'nodejs_version_info',
    'gauge',
    'Node.js version (labels version, major, minor, patch; value 1)',
    true,
    'version',
  ),
];

function m(
  name: string,
  type: 'counter' | 'gauge',
  help: string,
  promClient = true,
  label?: string,
): RuntimeMetric {
  return label === undefined ? { name, type, help, promClient } : { name, type, help, promClient, label };
}
