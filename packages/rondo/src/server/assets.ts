/**
 * The dashboard's static files, read once from `dist/server/dashboard/` when the server starts
 * and served from memory by exact name: there is no path to traverse.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { RondoError } from '../index.js';

/** One file: its bytes, type and entity tag. */
interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/** URL path → file name, the only files served. uPlot is copied from the uplot package at build time. */
const FILES: Record<string, [string, string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/dashboard.js': ['dashboard.js', 'text/javascript; charset=utf-8'],
  '/dashboard.css': ['dashboard.css', 'text/css; charset=utf-8'],
  '/uPlot.iife.min.js': ['uPlot.iife.min.js', 'text/javascript; charset=utf-8'],
  '/uPlot.min.css': ['uPlot.min.css', 'text/css; charset=utf-8'],
  '/uPlot.LICENSE.txt': ['uPlot.LICENSE.txt', 'text/plain; charset=utf-8'],
};

/** Reads every dashboard file; ERR_RONDO_NOT_FOUND naming the missing one (the build copies them). */
export function loadAssets(dir: URL = new URL('./dashboard/', import.meta.url)): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const [path, [file, type]] of Object.entries(FILES)) {
    let body: Buffer;
    try {
      body = readFileSync(new URL(file, dir));
    } catch (cause) {
      throw new RondoError(
        'ERR_RONDO_NOT_FOUND',
        `dashboard file ${file} is missing from ${dir.pathname} (build the package with npm run build, or pass dashboard: false)`,
        { cause },
      );
    }
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    assets.set(path, { body, type, etag });
  }
  return assets;
}

/** Answers a GET/HEAD for a dashboard file; false when `path` is not one. */
export function sendAsset(
  assets: Map<string, Asset>,
  path: string,
  ifNoneMatch: string | undefined,
  res: ServerResponse,
): boolean {
  const asset = assets.get(path);
  if (asset === undefined) return false;
  const headers = {
    'Content-Type': asset.type,
    ETag: asset.etag,
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    // The page loads only its own files and talks only to this server.
    'Content-Security-Policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
  };
  if (ifNoneMatch === asset.etag) {
    res.writeHead(304, headers);
    res.end();
    return true;
  }
  res.writeHead(200, { ...headers, 'Content-Length': asset.body.length });
  res.end(asset.body);
  return true;
}
