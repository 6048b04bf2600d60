// rondo's dashboard: the series list, one uPlot chart per selected metric, a time range, live
// follow and the store's info(). Plain JavaScript, no build step; talks only to /api/rondo/*.
/* global uPlot */

const RANGES = { '5m': 300, '1h': 3600, '6h': 21600, '7d': 604800 };
const FOLLOW_MS = 1000;
const MAX_POINTS = 1000000;
const COLOURS = ['#2f6fde', '#d9480f', '#2b8a3e', '#ae3ec9', '#e67700', '#0c8599', '#c2255c', '#5c940d'];

const $ = (id) => document.getElementById(id);
const state = {
  token: localStorage.getItem('rondo.token') || '',
  range: '1h',
  custom: null, // { start, end } in seconds for a custom range
  series: [],
  selected: new Set(),
  raw: new Set(), // counters the user chose to see as raw values instead of rates
  charts: new Map(), // metric → chart
};

/** True when the metric has a series registered as a counter: its chart shows rates by default. */
const isCounter = (name) => state.series.some((s) => s.name === name && s.type === 'counter');

/** Decodes base64 columns (little-endian float64, NaN = no point) to numbers and nulls. */
function decodeValues(series) {
  for (const s of series) {
    if (s.encoding !== 'base64') continue;
    const text = atob(s.values);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    const floats = new Float64Array(bytes.buffer);
    const values = new Array(floats.length);
    for (let i = 0; i < floats.length; i++) values[i] = Number.isNaN(floats[i]) ? null : floats[i];
    s.values = values;
  }
  return series;
}

/** Fetches JSON from this server; asks for the token once on 401. */
async function api(path) {
  const headers = state.token ? { Authorization: `Bearer ${state.token}` } : {};
  const res = await fetch(path, { headers });
  if (res.status === 401) {
    await askToken();
    return api(path);
  }
  const body = await res.json();
  if (body.status !== 'success') throw new Error(body.error || `HTTP ${res.status}`);
  return body.data;
}

let asking = null;
function askToken() {
  asking ??= new Promise((resolve) => {
    const dialog = $('login');
    $('login-form').addEventListener(
      'submit',
      () => {
        state.token = $('token').value.trim();
        localStorage.setItem('rondo.token', state.token);
        asking = null;
        resolve();
      },
      { once: true },
    );
    dialog.showModal();
  });
  return asking;
}

const metricSelector = (name) => `{__name__=${JSON.stringify(name)}}`;
const labelText = (labels) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ') || '(no labels)';

function duration(ms) {
  for (const [unit, size] of [
    ['d', 86400000],
    ['h', 3600000],
    ['m', 60000],
    ['s', 1000],
  ]) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/** Axis labels: 12.5k, 2.1G rather than 2,100,000,000. */
function compact(v) {
  const a = Math.abs(v);
  for (const [size, unit] of [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ]) {
    if (a >= size) return `${+(v / size).toFixed(2)}${unit}`;
  }
  return `${+v.toFixed(6)}`;
}

const iso = (ms) => (ms === null ? '-' : new Date(ms).toISOString().replace('.000Z', 'Z'));

/** The series list, grouped by metric, filtered by the search box. */
function renderList() {
  const filter = $('filter').value.trim().toLowerCase();
  const byMetric = new Map();
  for (const s of state.series) {
    if (filter && !s.id.toLowerCase().includes(filter)) continue;
    if (!byMetric.has(s.name)) byMetric.set(s.name, []);
    byMetric.get(s.name).push(s);
  }
  const list = $('metrics');
  list.replaceChildren();
  for (const [name, members] of [...byMetric].sort((a, b) => a[0].localeCompare(b[0]))) {
    const li = document.createElement('li');
    const label = document.createElement('label');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.checked = state.selected.has(name);
    box.addEventListener('change', () => toggle(name, box.checked));
    label.append(box, name);
    const sub = document.createElement('ul');
    for (const s of members) {
      const item = document.createElement('li');
      item.textContent = labelText(s.labels);
      sub.append(item);
    }
    li.append(label, sub);
    list.append(li);
  }
}

function toggle(name, on) {
  if (on) state.selected.add(name);
  else state.selected.delete(name);
  saveSelection();
  syncCharts();
}

function saveSelection() {
  const params = new URLSearchParams({ range: state.range, m: [...state.selected].join('\n') });
  if (state.raw.size > 0) params.set('raw', [...state.raw].join('\n'));
  history.replaceState(null, '', `#${params}`);
}

function loadSelection() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.get('range') in RANGES) state.range = params.get('range');
  const names = (params.get('m') || '').split('\n').filter(Boolean);
  for (const n of names) state.selected.add(n);
  for (const n of (params.get('raw') || '').split('\n').filter(Boolean)) state.raw.add(n);
  return names.length > 0;
}

/** Query parameters for the current range: relative to the store's newest point, or custom. */
function rangeParams() {
  if (state.custom) return `start=${state.custom.start}&end=${state.custom.end}`;
  return `range=${state.range}`;
}

/** Aligns the columns of several series on one time axis (seconds) for uPlot. */
function align(columns) {
  const times = new Set();
  const perSeries = columns.map((c) => {
    const m = new Map();
    c.values.forEach((v, i) => {
      if (v === null) return;
      const t = (c.first + i * c.interval) / 1000;
      m.set(t, v);
      times.add(t);
    });
    return m;
  });
  const xs = Float64Array.from(times).sort();
  return [xs, ...perSeries.map((m) => Array.from(xs, (t) => m.get(t) ?? null))];
}

/** Faster path for the common case: every series on the same grid. */
function alignGrid(columns) {
  const interval = columns[0].interval;
  const withData = columns.filter((c) => c.first !== null);
  if (withData.some((c) => c.interval !== interval || (c.first - withData[0].first) % interval !== 0)) {
    return align(columns);
  }
  if (withData.length === 0) return [[], ...columns.map(() => [])];
  const first = Math.min(...withData.map((c) => c.first));
  const last = Math.max(...withData.map((c) => c.first + (c.values.length - 1) * c.interval));
  const n = Math.round((last - first) / interval) + 1;
  const xs = new Float64Array(n);
  for (let i = 0; i < n; i++) xs[i] = (first + i * interval) / 1000;
  const ys = columns.map((c) => {
    const out = new Array(n).fill(null);
    if (c.first === null) return out;
    const off = Math.round((c.first - first) / interval);
    for (let i = 0; i < c.values.length; i++) out[off + i] = c.values[i];
    return out;
  });
  return [xs, ...ys];
}

function tierText(series, fn) {
  const tiers = [...new Set(series.map((s) => `tier ${s.tier} (${duration(s.interval)})`))];
  const short = series.some((s) => !s.covered) ? ' · range reaches past the retention' : '';
  return `${tiers.join(', ')}${fn === 'rate' ? ' · rate per second' : ''}${short}`;
}

/** One chart card for a metric: all its series, a legend, the tier it reads. */
class Chart {
  constructor(metric) {
    this.metric = metric;
    this.el = document.createElement('article');
    this.el.className = 'chart';
    this.el.dataset.metric = metric;
    this.title = document.createElement('h2');
    this.tier = document.createElement('span');
    this.tier.className = 'tier';
    // Counters: rate per second by default, raw values on request.
    this.mode = document.createElement('button');
    this.mode.type = 'button';
    this.mode.className = 'mode';
    this.mode.hidden = true;
    this.mode.addEventListener('click', () => {
      if (state.raw.has(metric)) state.raw.delete(metric);
      else state.raw.add(metric);
      saveSelection();
      this.load();
    });
    this.title.append(metric, this.mode, this.tier);
    this.message = document.createElement('p');
    this.plotEl = document.createElement('div');
    this.plotEl.className = 'plot';
    this.el.append(this.title, this.message, this.plotEl);
    this.plot = null;
    this.ids = [];
    this.tiers = [];
    this.busy = false;
  }

  /** 'rate' for a counter not switched to raw values, else '' (the values as recorded). */
  fn() {
    return isCounter(this.metric) && !state.raw.has(this.metric) ? 'rate' : '';
  }

  /** The query parameters every request of this chart shares. */
  params() {
    const fn = this.fn();
    return `query=${encodeURIComponent(metricSelector(this.metric))}&max_points=${MAX_POINTS}&encoding=base64${fn ? `&fn=${fn}` : ''}`;
  }

  /** Loads the whole range (again). */
  async load() {
    this.busy = true;
    try {
      this.shownFn = this.fn();
      this.mode.hidden = !isCounter(this.metric);
      this.mode.textContent = this.shownFn === 'rate' ? 'show raw values' : 'show rate';
      const q = `${this.params()}&${rangeParams()}`;
      const data = await api(`/api/rondo/query?${q}`);
      this.start = data.start;
      this.end = data.end;
      this.show(decodeValues(data.series));
      this.message.textContent = '';
      this.message.className = '';
    } catch (err) {
      this.fail(err);
    } finally {
      this.busy = false;
    }
  }

  show(series) {
    this.ids = series.map((s) => s.id);
    this.tiers = series.map((s) => s.tier);
    this.interval = Math.min(...series.map((s) => s.interval));
    this.tier.textContent = series.length ? tierText(series, this.shownFn) : 'no series';
    this.data = alignGrid(series.length ? series : [{ interval: 1000, first: null, values: [] }]);
    if (series.length === 0) this.data = [[]];
    this.draw(series);
    this.mark();
  }

  draw(series) {
    const width = Math.max(300, this.plotEl.clientWidth || this.el.clientWidth - 24);
    const opts = {
      width,
      height: 240,
      scales: { x: { time: true } },
      axes: [
        {},
        {
          values: (_u, splits) => splits.map(compact),
          size: (_u, values) => (values ? Math.max(...values.map((v) => v.length)) * 8 + 24 : 50),
        },
      ],
      series: [
        {},
        ...series.map((s, i) => ({
          label: labelText(s.labels),
          stroke: COLOURS[i % COLOURS.length],
          width: 1.25,
          points: { show: false },
          spanGaps: false,
        })),
      ],
      legend: { live: true },
    };
    this.plot?.destroy();
    this.plot = new uPlot(opts, this.data, this.plotEl);
  }

  /** Data attributes that tell what the chart holds (the browser test reads them). */
  mark() {
    const xs = this.data[0];
    let points = 0;
    let max = null;
    for (let k = 1; k < this.data.length; k++) {
      for (const v of this.data[k]) {
        if (v === null) continue;
        points++;
        if (max === null || v > max) max = v;
      }
    }
    this.el.dataset.points = String(points);
    this.el.dataset.max = max === null ? '' : String(max);
    this.el.dataset.fn = this.shownFn;
    this.el.dataset.last = xs.length ? String(Math.round(xs[xs.length - 1] * 1000)) : '';
    this.el.dataset.tier = [...new Set(this.tiers)].join(',');
  }

  /** Appends the points after the newest shown; reloads when the tier or the series change. */
  async follow() {
    if (this.busy || !this.plot) return;
    // The series list now says it is a counter (or no longer): show it the new way.
    if (this.fn() !== this.shownFn) return this.load();
    const xs = this.data[0];
    const last = xs.length ? Math.round(xs[xs.length - 1] * 1000) : this.end;
    this.busy = true;
    try {
      const range = RANGES[state.range] * 1000;
      const q = `${this.params()}&range=${state.range}&after=${last}`;
      const data = await api(`/api/rondo/query?${q}`);
      decodeValues(data.series);
      const ids = data.series.map((s) => s.id);
      const tiers = data.series.map((s) => s.tier);
      if (ids.join('\n') !== this.ids.join('\n') || tiers.join() !== this.tiers.join()) {
        this.busy = false;
        return this.load();
      }
      this.append(data.series, (data.end - range) / 1000);
      this.message.textContent = '';
    } catch (err) {
      this.fail(err);
    } finally {
      this.busy = false;
    }
  }

  append(series, from) {
    const fresh = alignGrid(series);
    const [xs, ...ys] = this.data;
    const lastX = xs.length ? xs[xs.length - 1] : Number.NEGATIVE_INFINITY;
    let keep = 0;
    while (keep < xs.length && xs[keep] < from) keep++;
    const nx = [];
    const nys = ys.map(() => []);
    for (let i = 0; i < fresh[0].length; i++) {
      if (fresh[0][i] <= lastX) continue;
      nx.push(fresh[0][i]);
      for (let k = 0; k < nys.length; k++) nys[k].push(fresh[k + 1][i]);
    }
    if (nx.length === 0 && keep === 0) return;
    this.data = [
      Float64Array.from([...xs.subarray(keep), ...nx]),
      ...ys.map((y, k) => y.slice(keep).concat(nys[k])),
    ];
    this.plot.setData(this.data);
    this.mark();
  }

  fail(err) {
    this.message.textContent = err.message;
    this.message.className = 'error';
  }

  resize() {
    if (this.plot) this.plot.setSize({ width: Math.max(300, this.plotEl.clientWidth), height: 240 });
  }
}

function syncCharts() {
  const box = $('charts');
  for (const [metric, chart] of state.charts) {
    if (!state.selected.has(metric)) {
      chart.plot?.destroy();
      chart.el.remove();
      state.charts.delete(metric);
    }
  }
  for (const metric of [...state.selected].sort()) {
    if (state.charts.has(metric)) continue;
    const chart = new Chart(metric);
    state.charts.set(metric, chart);
    box.append(chart.el);
    chart.load();
  }
  $('empty').hidden = state.charts.size > 0;
}

function reloadAll() {
  for (const chart of state.charts.values()) chart.load();
}

/** The store's info(): schemas, tiers, disk, writer. */
function renderInfo(info) {
  const writer = info.writerPid === null ? 'no writer' : `writer pid ${info.writerPid}`;
  $('store').textContent = `${info.dir} · ${writer} · ${info.seriesCount} series · ${bytes(info.totalBytes)}`;
  const parts = [];
  for (const s of info.schemas) {
    const rows = s.tiers
      .map(
        (t) =>
          `<tr><td>${t.index}</td><td>${duration(t.interval)}</td><td>${duration(t.retention)}</td><td>${t.consolidation ?? '-'}</td>` +
          `<td>${t.slots}</td><td>${t.slotsUsed}</td><td>${bytes(t.bytes)}</td><td>${iso(t.oldest)}</td><td>${iso(t.newest)}</td></tr>`,
      )
      .join('');
    const match = Object.keys(s.match).length ? escapeHtml(JSON.stringify(s.match)) : '{} (any series)';
    parts.push(
      `<p><b>schema ${escapeHtml(s.name)}</b> · match ${match} · ${s.series} of ${s.maxSeries} series</p>` +
        '<table><tr><th>tier</th><th>interval</th><th>retention</th><th>consolidate</th><th>slots</th><th>used</th><th>size</th><th>oldest</th><th>newest</th></tr>' +
        `${rows}</table>`,
    );
  }
  parts.push(`<p>${escapeHtml(info.dir)} · ${writer} · ${bytes(info.totalBytes)} on disk</p>`);
  $('info-body').innerHTML = parts.join('');
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

let ticks = 0;

/** The series list (every second while following); info() only every fifth time, it costs more. */
async function refreshMeta() {
  const series = await api('/api/rondo/series');
  if (ticks++ % 5 === 0) api('/api/rondo/info').then(renderInfo, showError);
  const changed = series.length !== state.series.length;
  state.series = series;
  if (changed) renderList();
  return changed;
}

function showError(err) {
  $('status').textContent = err.message;
}

function setRange(range) {
  for (const b of document.querySelectorAll('#ranges button'))
    b.classList.toggle('on', b.dataset.range === range);
  $('custom').hidden = range !== 'custom';
  if (range === 'custom') {
    const now = new Date(Date.now() - new Date().getTimezoneOffset() * 60000);
    $('custom-end').value ||= now.toISOString().slice(0, 19);
    $('custom-start').value ||= new Date(now - 3600000).toISOString().slice(0, 19);
    return;
  }
  state.range = range;
  state.custom = null;
  saveSelection();
  reloadAll();
}

async function tick() {
  const live = $('follow').checked && !state.custom;
  if (live) {
    try {
      await refreshMeta();
      await Promise.all([...state.charts.values()].map((c) => c.follow()));
      $('status').textContent = `live · ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      $('status').textContent = err.message;
    }
  }
  setTimeout(tick, FOLLOW_MS);
}

async function start() {
  for (const b of document.querySelectorAll('#ranges button'))
    b.addEventListener('click', () => setRange(b.dataset.range));
  $('custom').addEventListener('submit', (e) => {
    e.preventDefault();
    const start = new Date($('custom-start').value).getTime() / 1000;
    const end = new Date($('custom-end').value).getTime() / 1000;
    state.custom = { start, end };
    reloadAll();
  });
  $('filter').addEventListener('input', renderList);
  new ResizeObserver(() => {
    for (const c of state.charts.values()) c.resize();
  }).observe($('charts'));
  const restored = loadSelection();
  try {
    await refreshMeta();
  } catch (err) {
    $('status').textContent = err.message;
  }
  if (!restored)
    for (const name of [...new Set(state.series.map((s) => s.name))].sort().slice(0, 4))
      state.selected.add(name);
  setRange(state.range);
  renderList();
  syncCharts();
  setTimeout(tick, FOLLOW_MS);
}

start();
