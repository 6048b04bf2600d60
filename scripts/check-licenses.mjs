// Checks that every dependency in package-lock.json (runtime, development and optional, installed
// or not) is under a permissive licence, and that our own packages are MIT. The licence is read
// from the installed package.json when the package is installed, else from the lock file (npm
// records it there). SPDX expressions are evaluated: `A OR B` passes when either passes,
// `A AND B` when both do. Anything else (copyleft, a custom licence, none) fails the check.
//
//   npm run licenses                  prints the count per licence; exits 1 naming any offender
//   node scripts/check-licenses.mjs --lock path/to/package-lock.json
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/**
 * Permissive licences (SPDX ids) we accept. Each allows use, change and redistribution in closed
 * and open software alike, asking at most for the notice to be kept.
 */
export const PERMISSIVE = new Set([
  'MIT',
  'MIT-0',
  'ISC',
  '0BSD',
  'BSD-2-Clause',
  'BSD-3-Clause',
  'Apache-2.0',
  'BlueOak-1.0.0', // isaacs' packages (glob, lru-cache, …): permissive, OSI-approved
  'CC0-1.0',
  'Unlicense',
  'Python-2.0',
]);

/** Splits an SPDX expression into ids, operators and parentheses. */
function tokens(expression) {
  return expression.replace(/[()]/g, ' $& ').trim().split(/\s+/).filter(Boolean);
}

/**
 * True when the SPDX `expression` lets us use the package under a licence of `allowed` (OR: one
 * alternative suffices; AND: every part must pass; `X WITH exception` is judged by X).
 */
export function isPermissive(expression, allowed = PERMISSIVE) {
  if (typeof expression !== 'string' || expression.trim() === '') return false;
  const list = tokens(expression);
  let at = 0;
  const factor = () => {
    const token = list[at++];
    if (token === '(') {
      const value = disjunction();
      if (list[at++] !== ')') throw new Error('unbalanced parentheses');
      return value;
    }
    if (token === undefined || ['AND', 'OR', 'WITH', ')'].includes(token))
      throw new Error(`unexpected ${token}`);
    if (list[at] === 'WITH') at += 2;
    return allowed.has(token.replace(/\+$/, ''));
  };
  const conjunction = () => {
    let value = factor();
    while (list[at] === 'AND') {
      at++;
      value = factor() && value;
    }
    return value;
  };
  const disjunction = () => {
    let value = conjunction();
    while (list[at] === 'OR') {
      at++;
      value = conjunction() || value;
    }
    return value;
  };
  try {
    const value = disjunction();
    return at === list.length && value;
  } catch {
    return false; // not an SPDX expression ("SEE LICENSE IN …", "UNLICENSED"): not known permissive
  }
}

/** The licence of a package.json: `license`, or the old `licenses: [{ type }]` form (a choice: OR). */
function licenseOf(manifest) {
  if (typeof manifest.license === 'string') return manifest.license;
  if (manifest.license && typeof manifest.license.type === 'string') return manifest.license.type;
  if (Array.isArray(manifest.licenses)) return manifest.licenses.map((l) => l.type ?? l).join(' OR ');
  return undefined;
}

/**
 * Every package of the lock file with its licence and whether it passes; our own workspace
 * packages must be MIT.
 */
export function checkLock(lockPath) {
  const root = dirname(lockPath);
  const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
  const results = [];
  for (const [path, entry] of Object.entries(lock.packages ?? {})) {
    if (path === '' || entry.link) continue;
    const installed = join(root, path, 'package.json');
    const manifest = existsSync(installed) ? JSON.parse(readFileSync(installed, 'utf8')) : entry;
    const license = licenseOf(manifest) ?? licenseOf(entry);
    const name = entry.name ?? manifest.name ?? path.slice(path.lastIndexOf('node_modules/') + 13);
    const ours = !path.includes('node_modules/');
    const ok = ours ? license === 'MIT' : isPermissive(license);
    results.push({ path, name, version: entry.version ?? manifest.version, license, ok });
  }
  return results;
}

function main() {
  const { values } = parseArgs({ options: { lock: { type: 'string' } } });
  const here = dirname(fileURLToPath(import.meta.url));
  const lockPath = resolve(values.lock ?? join(here, '..', 'package-lock.json'));
  const results = checkLock(lockPath);
  const counts = new Map();
  for (const r of results) counts.set(r.license ?? '(none)', (counts.get(r.license ?? '(none)') ?? 0) + 1);
  const summary = [...counts].sort((a, b) => b[1] - a[1]).map(([l, n]) => `${l} ${n}`);
  console.log(`licenses: ${results.length} packages in ${lockPath}: ${summary.join(', ')}`);
  const bad = results.filter((r) => !r.ok);
  for (const r of bad)
    console.error(
      `licenses: ${r.name}@${r.version} (${r.path}) is under ${r.license ?? 'no licence'}, which is not on the permissive list`,
    );
  if (bad.length > 0) {
    console.error(
      'licenses: replace these packages, or add a licence to PERMISSIVE in scripts/check-licenses.mjs if it truly is permissive',
    );
    process.exit(1);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
