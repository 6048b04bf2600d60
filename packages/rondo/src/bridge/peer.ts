// Loading an optional peer dependency (prom-client, @opentelemetry/sdk-metrics): a missing one is
// a RondoError that says what to install, not a bare ERR_MODULE_NOT_FOUND.
import { RondoError } from '../index.js';

/** True when `err` says that the package `pkg` itself (not one of its own dependencies) is missing. */
function isMissing(err: unknown, pkg: string): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  const message = String((err as Error).message);
  return message.includes(`'${pkg}'`) || message.includes(`"${pkg}"`);
}

/**
 * Runs `load` (a dynamic `import()` of `pkg`) and returns the module; when `pkg` is not
 * installed, throws ERR_RONDO_MISSING_PEER naming `entry` (the rondo module that needs it) and
 * the npm command that installs it. Any other failure passes through unchanged.
 */
export async function importPeer<T>(load: () => Promise<T>, pkg: string, entry: string): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if (!isMissing(err, pkg)) throw err;
    throw new RondoError(
      'ERR_RONDO_MISSING_PEER',
      `${entry} needs the package ${pkg}, an optional peer dependency of rondo, and it is not installed here: run \`npm install ${pkg}\``,
      { cause: err },
    );
  }
}
