/** `rondo migrate`: rewrites a store into new schemas (Store.migrate), with a progress bar. */
import { readFileSync } from 'node:fs';
import { formatSeries, type MigrationResult, type SchemaConfig, Store } from 'rondo';
import {
  CliError,
  EXIT_FAILURE,
  execute,
  Output,
  parseCommandArgs,
  positionals,
  usageError,
} from '../cli.js';
import type { Command } from '../command.js';
import { progressBar } from '../progress.js';
import { plural } from '../text.js';

const help = `Usage: rondo migrate <store> --schemas FILE.json [--json]

Rewrites a store into the schemas in FILE.json: more or fewer series slots, longer or shorter
retention, tiers added, removed or changed, another consolidation function, schemas added or
reordered. Every point that still fits the new layout is kept, a new coarse tier is filled by
consolidating the finest data there is, and series are routed again by the new matchers (each
keeps its handle). docs/architecture.md ("Migration") says exactly what is kept.

The writer lock is needed: stop the program that writes the store first. Killed at any moment,
the store opens afterwards as either the old or the new version. Drain cursors are carried over.

FILE.json holds the schemas as Store.open takes them: an array, or { "schemas": [...] }.

Options:
  --schemas FILE  the new schemas (JSON)
  --json          print the result as one JSON document
  --verbose       print the stack trace of an error
  -h, --help      show this help

Example:
  rondo migrate ./metrics --schemas new-schemas.json
`;

/** The schemas in `file`: an array of schemas or an object with a `schemas` array. */
function readSchemas(file: string): SchemaConfig[] {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CliError(
      'ERR_RONDO_CONFIG',
      `cannot read the schemas in ${file}: ${(err as Error).message}`,
      EXIT_FAILURE,
    );
  }
  const schemas = Array.isArray(doc) ? doc : (doc as { schemas?: unknown } | null)?.schemas;
  if (!Array.isArray(schemas)) {
    throw new CliError(
      'ERR_RONDO_CONFIG',
      `${file} holds no schemas: expected an array of schemas or { "schemas": [...] }`,
      EXIT_FAILURE,
    );
  }
  return schemas as SchemaConfig[];
}

/** The result as lines for people. */
function report(dir: string, r: MigrationResult): string[] {
  if (!r.changed) return [`${dir} already has these schemas: nothing to migrate`];
  const out = [`migrated ${dir} (data generation ${r.generation}): ${r.summary}`];
  out.push(
    `  series   ${plural(r.series, 'series carried over', 'series carried over')}, ${r.dropped.length} dropped`,
  );
  out.push(`  points   ${r.points.toLocaleString('en-US')} written`);
  for (const c of r.cursors) out.push(`  cursor   ${c.name}: ${c.kept ? 'kept' : 'reset'} (${c.note})`);
  for (const d of r.dropped) out.push(`  dropped  ${formatSeries(d.name, d.labels)} (${d.reason})`);
  return out;
}

export const command: Command = {
  summary: 'rewrite a store into new schemas, keeping every point that fits',
  help,
  run: (args) =>
    execute(
      help,
      args,
      async () => {
        const parsed = parseCommandArgs('migrate', args, {
          schemas: { type: 'string' },
          json: { type: 'boolean' },
        });
        const [dir = ''] = positionals('migrate', parsed, ['<store>']);
        const file = parsed.values['schemas'];
        if (typeof file !== 'string') throw usageError('migrate', 'missing --schemas FILE.json');
        const schemas = readSchemas(file);
        const bar = progressBar('migrate', 'steps');
        let result: MigrationResult;
        try {
          result = Store.migrate(dir, { schemas, onProgress: (p) => bar.onProgress(p.done, p.total) });
        } finally {
          bar.clear();
        }
        const out = new Output();
        if (parsed.values['json'] === true) await out.line(JSON.stringify(result, null, 2));
        else for (const line of report(dir, result)) await out.line(line);
        await out.flush();
        return 0;
      },
      {
        ERR_RONDO_LOCKED: 'stop the program that writes the store, then migrate',
        ERR_RONDO_MAX_SERIES: 'raise maxSeries in the new schemas, or retire series first',
        ERR_RONDO_NOT_FOUND: 'check the path: it must be a store directory',
      },
    ),
};
