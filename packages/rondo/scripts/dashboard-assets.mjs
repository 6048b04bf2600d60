// Copies the dashboard's files (src/server/dashboard) and uPlot's minified script, stylesheet
// and licence (from the uplot devDependency) to dist/server/dashboard, where serve() reads them.
// Part of the build: rondo has no runtime dependency and the page loads nothing from a CDN.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(pkg, 'src', 'server', 'dashboard');
const out = join(pkg, 'dist', 'server', 'dashboard');
mkdirSync(out, { recursive: true });
for (const file of readdirSync(src)) copyFileSync(join(src, file), join(out, file));

const uplot = dirname(createRequire(join(pkg, 'package.json')).resolve('uplot/package.json'));
copyFileSync(join(uplot, 'dist', 'uPlot.iife.min.js'), join(out, 'uPlot.iife.min.js'));
copyFileSync(join(uplot, 'dist', 'uPlot.min.css'), join(out, 'uPlot.min.css'));
copyFileSync(join(uplot, 'LICENSE'), join(out, 'uPlot.LICENSE.txt'));
