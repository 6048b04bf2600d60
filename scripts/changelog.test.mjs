// The changelog generator, on a scratch git repository: which commits it lists and where, releases
// from tags, markdown escaping, and --check telling a stale file from a current one.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { changelog, parseSubject } from './changelog.mjs';

const script = fileURLToPath(new URL('./changelog.mjs', import.meta.url));
const dirs = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A scratch repository; `commit(message, date)` makes an empty commit and returns its short hash. */
function scratchRepo() {
  const repo = mkdtempSync(join(tmpdir(), 'rondo-changelog-'));
  dirs.push(repo);
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 't',
    GIT_AUTHOR_EMAIL: 't@example.com',
    GIT_COMMITTER_NAME: 't',
    GIT_COMMITTER_EMAIL: 't@example.com',
  };
  const git = (...args) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', env }).trim();
  git('init', '-q', '-b', 'main');
  const commit = (message, date = '2026-01-01T00:00:00Z') => {
    execFileSync('git', ['-C', repo, 'commit', '-q', '--allow-empty', '-m', message], {
      env: { ...env, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date },
    });
    return git('rev-parse', '--short', 'HEAD');
  };
  return { repo, git, commit };
}

test('conventional subjects are split into type, scope, breaking mark and text', () => {
  assert.deepEqual(parseSubject('feat(cli): rondo serve'), {
    type: 'feat',
    scope: 'cli',
    bang: false,
    text: 'rondo serve',
  });
  assert.deepEqual(parseSubject('fix!: drop Node 18'), {
    type: 'fix',
    scope: undefined,
    bang: true,
    text: 'drop Node 18',
  });
  assert.equal(parseSubject('Merge branch x'), undefined);
  assert.equal(parseSubject('feat:no space'), undefined);
});

test('releases from v* tags, newest first; sections by kind, entries by scope; docs, tests and merges left out', () => {
  const { repo, git, commit } = scratchRepo();
  const a = commit('feat(store): Store.open', '2026-01-01T10:00:00Z');
  commit('docs: the README');
  const b = commit('fix: a bug');
  git('tag', 'v0.1.0');
  const c = commit(
    'perf(ring): faster `record()` for <slot> math on __proto__ and *all* `a_b`',
    '2026-02-01T10:00:00Z',
  );
  commit('test(ring): more tests');
  const d = commit('feat(cli)!: rondo info prints JSON by default');
  const e = commit('feat(cli): rondo query\n\nBREAKING CHANGE: --range takes a unit.\n\nMore text.');
  const f = commit('feat(cli): rondo push');
  const g = commit('feat: top-level thing');
  git('checkout', '-q', '-b', 'side');
  const h = commit('fix(server): side branch fix');
  git('checkout', '-q', 'main');
  git('merge', '-q', '--no-ff', '-m', 'Merge branch side', 'side');
  assert.equal(
    changelog(repo),
    `${changelog(repo).slice(0, changelog(repo).indexOf('\n## '))}
## Unreleased

### Breaking changes

- **cli:** rondo query — --range takes a unit. (${e})
- **cli:** rondo info prints JSON by default (${d})

### Features

- top-level thing (${g})
- **cli:** rondo push (${f})

### Fixes

- **server:** side branch fix (${h})

### Performance

- **ring:** faster \`record()\` for \\<slot> math on \\_\\_proto\\_\\_ and \\*all\\* \`a_b\` (${c})

## 0.1.0 (2026-01-01)

### Features

- **store:** Store.open (${a})

### Fixes

- a bug (${b})
`,
  );
  assert.match(changelog(repo), /^# Changelog\n\n.*Generated from the conventional commits/s);
});

test('--check: exit 1 with what to do when the file is stale, 0 once written', () => {
  const { repo, commit } = scratchRepo();
  commit('feat: one');
  const out = join(repo, 'CHANGELOG.md');
  writeFileSync(out, '# Changelog\n');
  const check = () => spawnSync(process.execPath, [script, '--check', '--repo', repo], { encoding: 'utf8' });
  let r = check();
  assert.equal(r.status, 1);
  assert.match(r.stderr, /is not current with the commits: run `npm run changelog` and commit it/);
  assert.equal(spawnSync(process.execPath, [script, '--repo', repo], { encoding: 'utf8' }).status, 0);
  r = check();
  assert.equal(r.status, 0, r.stderr);
  commit('fix: two');
  assert.equal(check().status, 1, 'a new fix makes it stale');
});
