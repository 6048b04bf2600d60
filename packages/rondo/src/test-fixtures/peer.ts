// Importing a rondo entry point as an application would where an optional peer dependency is not
// installed: a temporary project whose node_modules has only a link to this rondo package, run
// with --preserve-symlinks so that packages are looked for there, not in the workspace.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeDir, runNode, tempDir } from 'rondo-testkit';

/** The rondo package directory (packages/rondo). */
const PACKAGE = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** What importing `specifier` did in a project without rondo's optional peers. */
export interface PeerlessImport {
  /** 'loaded', or the error's code. */
  code: string;
  /** The error's message ('' when it loaded). */
  message: string;
}

/** Imports `specifier` (e.g. 'rondo/prom-client') in a fresh project that has rondo and nothing else. */
export async function importWithoutPeers(specifier: string): Promise<PeerlessImport> {
  const dir = tempDir('peerless');
  try {
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(PACKAGE, join(dir, 'node_modules', 'rondo'), 'dir');
    const script = join(dir, 'app.mjs');
    writeFileSync(
      script,
      `try { await import(${JSON.stringify(specifier)}); console.log(JSON.stringify({ code: 'loaded', message: '' })); }
catch (err) { console.log(JSON.stringify({ code: String(err.code), message: String(err.message) })); }\n`,
    );
    const run = await runNode('--preserve-symlinks', ['--preserve-symlinks-main', script]);
    if (run.code !== 0) throw new Error(`the import script failed: ${run.stderr}`);
    return JSON.parse(run.stdout) as PeerlessImport;
  } finally {
    removeDir(dir);
  }
}
