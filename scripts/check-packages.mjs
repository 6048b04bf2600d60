// Checks what npm would publish for every public workspace package (each package.json without
// "private": true, so a new package is checked as soon as it is added): @arethetypeswrong/cli
// packs it (`npm pack`, which runs the package's prepack build) and resolves every entry point
// as TypeScript (node10, node16, bundler) and Node would. One rule is not held: the packages are
// ES modules only, so `require()` resolving to ESM (cjs-resolves-to-esm) is by design; Node 20.19
// and later load them that way too.
//
//   npm run check:packages
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const attw = join(
  dirname(createRequire(import.meta.url).resolve('@arethetypeswrong/cli/package.json')),
  'dist',
  'index.js',
);
const workspaces = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces;

let failed = 0;
for (const dir of workspaces) {
  const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  if (pkg.private) continue;
  console.log(`== ${pkg.name} (${dir})`);
  const r = spawnSync(
    process.execPath,
    [attw, '--pack', join(root, dir), '--ignore-rules', 'cjs-resolves-to-esm', '--format', 'ascii'],
    {
      stdio: 'inherit',
      cwd: root,
    },
  );
  if (r.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
