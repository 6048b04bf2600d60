/**
 * A series under its Prometheus labels (remote write's mapping), cached per store and handle:
 * handles are never reused for another series, and mapping 10,000 label sets on every scrape or
 * remote read would cost tens of milliseconds on the writer's event loop.
 */
import { promLabels } from '../codec/labels.js';
import type { PromLabel } from '../codec/protobuf.js';
import type { SeriesInfo, Store } from '../index.js';

/** A series as remote read and /metrics show it. */
export interface PromView {
  /** Labels with `__name__`, sorted by name. */
  labels: PromLabel[];
  /** The mapped metric name. */
  name: string;
  /** The mapped labels without `__name__`. */
  rest: Record<string, string>;
  /** The labels as one string: two series with the same key are one series to Prometheus. */
  key: string;
}

const cache = new WeakMap<Store, Map<number, PromView>>();

/** The Prometheus view of `info` (a series of `store`). */
export function promView(store: Store, info: SeriesInfo): PromView {
  let views = cache.get(store);
  if (views === undefined) {
    views = new Map();
    cache.set(store, views);
  }
  let view = views.get(info.handle);
  if (view === undefined) {
    const labels = promLabels(info.name, info.labels);
    const rest: Record<string, string> = {};
    let name = '';
    for (const l of labels) {
      if (l.name === '__name__') name = l.value;
      else rest[l.name] = l.value;
    }
    view = { labels, name, rest, key: JSON.stringify(labels) };
    views.set(info.handle, view);
  }
  return view;
}
