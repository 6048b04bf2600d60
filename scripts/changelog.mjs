// Writes CHANGELOG.md from the git history's conventional commits (`feat(cli): …`, `fix: …`,
// `perf(ring): …`, a `!` or a `BREAKING CHANGE:` footer for breaking changes). Releases are the
// tags `v<version>`; commits after the newest tag are "Unreleased". Only what users notice is
// listed (breaking changes, features, fixes, performance); docs, tests, refactors, style and build
// commits, and merges, are left out.
//
//   npm run changelog                      rewrites CHANGELOG.md
//   node scripts/changelog.mjs --check     exits 1 when CHANGELOG.md is not what it would write (CI)
//   node scripts/changelog.mjs --repo DIR --out FILE
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** The sections, in order, and the commit types that fill them. */
const SECTIONS = [
  ['breaking', 'Breaking changes'],
  ['feat', 'Features'],
  ['fix', 'Fixes'],
  ['perf', 'Performance'],
];

const HEADER = `# Changelog

What changed in rondo (the \`rondo\` and \`rondo-cli\` packages): breaking changes, features, fixes
and performance work, by release, newest first. Generated from the conventional commits by
\`npm run changelog\` (scripts/changelog.mjs), so do not edit it by hand: write a good commit
subject instead. CI checks that it is current.
`;

function git(repo, args) {
  return execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

/** A conventional commit subject split up, or undefined when the subject is not one. */
export function parseSubject(subject) {
  const m = /^([a-z]+)(?:\(([^)]+)\))?(!)?: (.+)$/.exec(subject);
  if (!m) return undefined;
  return { type: m[1], scope: m[2], bang: m[3] === '!', text: m[4] };
}

/**
 * Markdown's special characters escaped outside code spans: `<` (so `rondo migrate <store>` is not
 * read as an HTML tag), `*` and `_` (so `__proto__` stays itself, not bold).
 */
function markdown(text) {
  return text
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/[<*_]/g, '\\$&')))
    .join('');
}

/** The listed commits of `range`, in git's order (newest first), as section entries. */
function entries(repo, range) {
  const out = git(repo, ['log', '--no-merges', '--topo-order', '--format=%h%x1f%s%x1f%b%x1e', range]);
  const list = [];
  for (const record of out.split('\x1e')) {
    const [hash, subject, body] = record.replace(/^\n/, '').split('\x1f');
    if (!hash || subject === undefined) continue;
    const c = parseSubject(subject);
    if (!c) continue;
    const footer = /^BREAKING[ -]CHANGE: ?([\s\S]+?)(?:\n\n|$)/m.exec(body ?? '');
    const section = c.bang || footer ? 'breaking' : c.type;
    if (!SECTIONS.some(([key]) => key === section)) continue;
    const text = footer ? `${c.text} — ${footer[1].replace(/\s+/g, ' ').trim()}` : c.text;
    list.push({
      section,
      scope: c.scope ?? '',
      line: `- ${c.scope ? `**${c.scope}:** ` : ''}${markdown(text)} (${hash})`,
    });
  }
  return list;
}

/** One release's part: its heading and a section per kind of change, entries grouped by scope. */
function release(heading, list) {
  let text = `\n## ${heading}\n`;
  for (const [key, title] of SECTIONS) {
    // Stable sort: by scope (none first), keeping git's newest-first order within a scope.
    const lines = list
      .filter((e) => e.section === key)
      .sort((a, b) => (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0));
    if (lines.length > 0) text += `\n### ${title}\n\n${lines.map((e) => e.line).join('\n')}\n`;
  }
  return text;
}

/** The whole CHANGELOG.md for the repository at `repo`. */
export function changelog(repo) {
  if (git(repo, ['rev-parse', '--is-shallow-repository']).trim() === 'true')
    throw new Error('the clone is shallow: the changelog needs the whole history (git fetch --unshallow)');
  const tags = git(repo, ['tag', '--list', 'v*', '--sort=v:refname']).split('\n').filter(Boolean);
  const parts = [];
  let previous;
  for (const tag of tags) {
    const date = git(repo, ['log', '-1', '--format=%cs', tag]).trim();
    const list = entries(repo, previous ? `${previous}..${tag}` : tag);
    parts.unshift(release(`${tag.slice(1)} (${date})`, list));
    previous = tag;
  }
  const unreleased = entries(repo, previous ? `${previous}..HEAD` : 'HEAD');
  if (unreleased.length > 0 || tags.length === 0) parts.unshift(release('Unreleased', unreleased));
  return HEADER + parts.join('');
}

function main() {
  const { values } = parseArgs({
    options: { check: { type: 'boolean' }, repo: { type: 'string' }, out: { type: 'string' } },
  });
  const repo = resolve(values.repo ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
  const file = resolve(values.out ?? join(repo, 'CHANGELOG.md'));
  let text;
  try {
    text = changelog(repo);
  } catch (err) {
    console.error(`changelog: ${err.message.trim()}`);
    process.exit(1);
  }
  if (values.check) {
    const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (current !== text) {
      console.error(
        `changelog: ${file} is not current with the commits: run \`npm run changelog\` and commit it`,
      );
      process.exit(1);
    }
    console.log(`changelog: ${file} is current`);
    return;
  }
  writeFileSync(file, text);
  console.log(`changelog: wrote ${file}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
