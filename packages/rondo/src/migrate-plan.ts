// How two schema lists differ, in one line: the message of ERR_RONDO_SCHEMA_MISMATCH and the
// summary of a migration.
import { formatDuration } from './duration.js';
import type { Schema, Tier } from './schema.js';

function tierText(t: Tier): string {
  const fn = t.consolidation === null ? '' : ` ${t.consolidation}${t.xff === 0 ? '' : ` xff ${t.xff}`}`;
  return `${formatDuration(t.interval)}/${formatDuration(t.retention)}${fn}`;
}

/** What differs in the layout of one schema present in both lists; empty when nothing does. */
function schemaChanges(a: Schema, b: Schema): string[] {
  const out: string[] = [];
  if (JSON.stringify(Object.entries(a.match).sort()) !== JSON.stringify(Object.entries(b.match).sort()))
    out.push(`match ${JSON.stringify(a.match)} → ${JSON.stringify(b.match)}`);
  if (a.maxSeries !== b.maxSeries) out.push(`maxSeries ${a.maxSeries} → ${b.maxSeries}`);
  const n = Math.max(a.tiers.length, b.tiers.length);
  for (let k = 0; k < n; k++) {
    const x = a.tiers[k];
    const y = b.tiers[k];
    if (x === undefined) out.push(`tier ${k} added (${tierText(y!)})`);
    else if (y === undefined) out.push(`tier ${k} removed (${tierText(x)})`);
    else if (tierText(x) !== tierText(y)) out.push(`tier ${k} ${tierText(x)} → ${tierText(y)}`);
  }
  return out;
}

/**
 * What differs between the stored schemas and the given ones, as one line (layout only: names,
 * order, matchers, capacity, tiers; retireAfter is a policy and may change freely); null when
 * the layouts agree.
 */
export function describeMismatch(stored: readonly Schema[], given: readonly Schema[]): string | null {
  const parts: string[] = [];
  const names = (l: readonly Schema[]) => l.map((s) => s.name);
  for (const s of given) if (!stored.some((x) => x.name === s.name)) parts.push(`schema ${s.name} added`);
  for (const s of stored) if (!given.some((x) => x.name === s.name)) parts.push(`schema ${s.name} removed`);
  for (const s of stored) {
    const g = given.find((x) => x.name === s.name);
    const changes = g === undefined ? [] : schemaChanges(s, g);
    if (changes.length > 0) parts.push(`schema ${s.name}: ${changes.join(', ')}`);
  }
  const common = (l: readonly Schema[], other: readonly Schema[]) =>
    names(l).filter((n) => other.some((x) => x.name === n));
  if (parts.length === 0 && common(stored, given).join() !== common(given, stored).join())
    parts.push(`schemas reordered (${names(stored).join(', ')} → ${names(given).join(', ')})`);
  return parts.length === 0 ? null : parts.join('; ');
}
