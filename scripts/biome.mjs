// Runs Biome (our one lint + format tool) from its platform package. We depend on the platform
// package directly because npm ci rejects the lock file of @biomejs/biome when the registry lacks
// some of its optional per-platform binaries (npm/cli#9846), as this machine's registry does.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const pkg = `@biomejs/cli-${process.platform}-${process.arch}`;
let bin;
try {
  bin = join(
    dirname(require.resolve(`${pkg}/package.json`)),
    process.platform === 'win32' ? 'biome.exe' : 'biome',
  );
} catch {
  bin = undefined;
}
if (!bin || !existsSync(bin)) {
  console.error(`biome: ${pkg} is not installed; add it with: npm install -O ${pkg}@2.6.8`);
  process.exit(1);
}
const result = spawnSync(bin, process.argv.slice(2), { stdio: 'inherit' });
process.exit(result.status ?? 1);
