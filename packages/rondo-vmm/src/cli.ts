/**
 * What the rondo-vmm commands share: option parsing, value parsers, error lines and exit
 * codes (0 success, 1 failure, 2 usage error, 128 + n after signal n).
 */
import { constants } from 'node:os';
import { parseArgs } from 'node:util';
import { isRondoError, type Labels, parseDuration } from 'rondo';
import { isVmmError, VmmError } from './errors.js';

/** A subcommand: one-line summary, --help text, runner returning the exit code. */
export interface Command {
  summary: string;
  help: string;
  run(args: string[]): Promise<number>;
}

/** Option definitions in node:util parseArgs form. */
export type OptionSpec = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>;

/** Parsed options: values by name (strings, booleans or string lists). */
export type Values = Record<string, string | boolean | string[] | undefined>;

/** A usage error (exit 2) of command `cmd`. */
export function usage(cmd: string, message: string): VmmError {
  return new VmmError('ERR_VMM_USAGE', `${message} — see rondo-vmm ${cmd} --help`);
}

/** The exit code after signal `sig`: 128 + its number (SIGINT 130, SIGTERM 143). */
export function signalExitCode(sig: NodeJS.Signals): number {
  return 128 + constants.signals[sig];
}

/** parseArgs with --help, no positionals; its errors become usage errors. */
export function parseOptions(cmd: string, args: string[], options: OptionSpec): Values {
  try {
    const { values } = parseArgs({
      args,
      options: { help: { type: 'boolean', short: 'h' }, verbose: { type: 'boolean' }, ...options },
      strict: true,
    });
    return values as Values;
  } catch (err) {
    throw usage(cmd, (err as Error).message.split('\n')[0] ?? 'bad arguments');
  }
}

/** A duration option (`5s`, `1m30s`, `500ms`, or `0` when `zero` is allowed) in ms. */
export function durationOption(cmd: string, name: string, text: string, zero = false): number {
  if (zero && /^0+(ms|s|m|h)?$/.test(text.trim())) return 0;
  try {
    return parseDuration(text, `--${name}`);
  } catch (err) {
    throw usage(cmd, (err as Error).message);
  }
}

/** A whole-number option within [min, max]. */
export function intOption(
  cmd: string,
  name: string,
  text: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw usage(
      cmd,
      `--${name} must be a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ' up'}, got ${JSON.stringify(text)}`,
    );
  return n;
}

/** `--label k=v` options (repeatable) as labels. */
export function labelOptions(cmd: string, texts: readonly string[]): Labels {
  const labels: Record<string, string> = {};
  for (const t of texts) {
    const eq = t.indexOf('=');
    const key = t.slice(0, eq);
    if (eq <= 0 || eq === t.length - 1 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
      throw usage(cmd, `--label must be key=value with a Prometheus label name, got ${JSON.stringify(t)}`);
    labels[key] = t.slice(eq + 1);
  }
  return labels;
}

/** The one-line message of any error. */
export function formatError(err: unknown): string {
  if (isRondoError(err, 'ERR_RONDO_SCHEMA_MISMATCH'))
    return `rondo-vmm: ${err.code}: ${err.message} — the store was created with another --capacity or --retention: give those again, or use another --store`;
  if (isVmmError(err) || isRondoError(err)) return `rondo-vmm: ${err.code}: ${err.message}`;
  const e = err as NodeJS.ErrnoException;
  if (e instanceof Error && typeof e.code === 'string') return `rondo-vmm: ${e.code}: ${e.message}`;
  return `rondo-vmm: ERR_VMM_INTERNAL: ${e instanceof Error ? e.message : String(err)} — rerun with --verbose and report it`;
}

/** Runs a command body: --help, one-line errors (stack with --verbose), exit codes. */
export async function execute(help: string, args: string[], body: () => Promise<number>): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(help.endsWith('\n') ? help : `${help}\n`);
    return 0;
  }
  try {
    return await body();
  } catch (err) {
    process.stderr.write(`${formatError(err)}\n`);
    if (args.includes('--verbose') && err instanceof Error && err.stack)
      process.stderr.write(`${err.stack}\n`);
    return isVmmError(err, 'ERR_VMM_USAGE') ? 2 : 1;
  }
}

/** Bytes as KiB/MiB/GiB with one decimal. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}
