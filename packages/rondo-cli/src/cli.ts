/**
 * What every command shares: error reporting and exit codes, option parsing, opening a store
 * read-only, and writing to stdout.
 *
 * Exit codes: 0 success, 1 runtime error (anything that depends on the store or the system),
 * 2 usage error (anything wrong with the command line itself, found before a store is opened).
 */
import { existsSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isRondoError, Store, storeExists } from 'rondo';

/** Exit code of a usage error. */
const EXIT_USAGE = 2;
/** Exit code of a runtime error. */
export const EXIT_FAILURE = 1;

/** An error the CLI reports as one line: `rondo: CODE: message — hint`. */
export class CliError extends Error {
  /** Stable code printed first, e.g. `ERR_RONDO_USAGE`. */
  readonly code: string;
  /** Process exit code: 1 runtime, 2 usage. */
  readonly exitCode: number;
  /** What the user can do about it (printed after a dash). */
  readonly hint: string | undefined;

  constructor(code: string, message: string, exitCode: number, hint?: string) {
    super(message);
    this.name = 'CliError';
    this.code = code;
    this.exitCode = exitCode;
    this.hint = hint;
  }
}

/** A usage error of command `cmd` (exit 2), pointing at its --help (or at `rondo --help` without one). */
export function usageError(cmd: string | null, message: string): CliError {
  return new CliError(
    'ERR_RONDO_USAGE',
    message,
    EXIT_USAGE,
    `see rondo ${cmd === null ? '' : `${cmd} `}--help`,
  );
}

/**
 * Parses a count: decimal digits only, optionally grouped with `_` (`1_000_000`); null when
 * `text` is not one or it is too large to be exact. The one rule of every count option.
 */
export function parseCount(text: string): number | null {
  if (!/^\d+(?:_\d+)*$/.test(text)) return null;
  const n = Number(text.replaceAll('_', ''));
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * The value of count option `what` of command `cmd` (from `min` to `max`), `fallback` when
 * absent; else a usage error that says the range.
 */
export function countOption(
  cmd: string,
  what: string,
  text: string | undefined,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (text === undefined) return fallback;
  const n = parseCount(text);
  if (n === null || n < min)
    throw usageError(cmd, `${what} must be a whole number ≥ ${min}, got ${JSON.stringify(text)}`);
  if (n > max) throw usageError(cmd, `${what} must be at most ${max.toLocaleString('en-US')}, got ${text}`);
  return n;
}

/** Hints of one command that replace the shared ones, by error code. */
export type Hints = Partial<Record<string, string>>;

/** Hints for core error codes, so every message says what to do next. */
const HINTS: Hints = {
  ERR_RONDO_CORRUPT: 'the store files are damaged or not a rondo store',
  ERR_RONDO_INVALID_TIER: "pick one of the tiers `rondo info` lists, or 'auto'",
};

/**
 * Formats any thrown value as the CLI's one-line error message (without the trailing newline);
 * `hints` replace the shared hints of core error codes.
 */
export function formatError(err: unknown, hints: Hints = {}): string {
  if (err instanceof CliError) return `rondo: ${err.code}: ${err.message}${err.hint ? ` — ${err.hint}` : ''}`;
  if (isRondoError(err)) {
    const hint = hints[err.code] ?? HINTS[err.code];
    return `rondo: ${err.code}: ${err.message}${hint ? ` — ${hint}` : ''}`;
  }
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === 'object' && typeof e.code === 'string') return `rondo: ${e.code}: ${e.message}`;
  return `rondo: ERR_RONDO_INTERNAL: ${e instanceof Error ? e.message : String(err)} — rerun with --verbose and report it`;
}

/** Option definitions in node:util parseArgs form. */
export type OptionSpec = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

/** Options every command takes. */
const COMMON = {
  help: { type: 'boolean', short: 'h' },
  verbose: { type: 'boolean' },
} as const;

/** Parsed command line: option values by name and the positionals. */
export interface ParsedArgs {
  /** Option values (strings or booleans), undefined when absent. */
  values: Record<string, string | boolean | undefined>;
  /** Positional arguments in order. */
  positionals: string[];
}

/**
 * Joins `--opt -5` into `--opt=-5` for string options when the next argument looks like a
 * negative number (`-5`, `-1h`, `-.5`): parseArgs rejects that form as ambiguous, so both
 * spellings would otherwise get different errors. Options never start with a dash and a digit.
 */
function joinNegativeValues(args: string[], options: OptionSpec): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    const next = args[i + 1];
    const spec = arg.startsWith('--') ? options?.[arg.slice(2)] : undefined;
    if (spec?.type === 'string' && next !== undefined && /^-\.?\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** parseArgs with the common options, turning its errors into short usage errors. */
export function parseCommandArgs(cmd: string, args: string[], options: OptionSpec): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({
      args: joinNegativeValues(args, options),
      options: { ...COMMON, ...options },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as ParsedArgs['values'], positionals };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const quoted = /'([^']+)'/.exec(e.message)?.[1] ?? '';
    const name = quoted.split(' ')[0] ?? '';
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw usageError(cmd, `unknown option ${name}`);
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      if (/argument missing/.test(e.message)) throw usageError(cmd, `option ${name} needs a value`);
      if (/ambiguous/.test(e.message)) {
        // `--opt --other` or `--opt -x`: the next argument is an option, not the value.
        const next = args[args.indexOf(name) + 1] ?? '';
        throw usageError(
          cmd,
          `option ${name} needs a value, got ${JSON.stringify(next)} (write ${name}=${next} if that is the value)`,
        );
      }
      throw usageError(cmd, `option ${name} takes no value`);
    }
    throw usageError(cmd, e.message);
  }
}

/** True when --verbose is among the raw arguments (checked before parsing, which may fail). */
function wantsVerbose(args: string[]): boolean {
  return args.includes('--verbose');
}

/**
 * Runs a command body: prints --help, reports errors as one line (with the stack under
 * --verbose, and `hints` for core error codes) and maps them to exit codes.
 */
export async function execute(
  help: string,
  args: string[],
  body: () => Promise<number | undefined> | number | undefined,
  hints: Hints = {},
): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    await writeOut(help.endsWith('\n') ? help : `${help}\n`);
    return 0;
  }
  try {
    return (await body()) ?? 0;
  } catch (err) {
    process.stderr.write(`${formatError(err, hints)}\n`);
    if (wantsVerbose(args) && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return err instanceof CliError ? err.exitCode : EXIT_FAILURE;
  }
}

/** Requires exactly `names.length` positionals, naming the missing one. */
export function positionals(cmd: string, parsed: ParsedArgs, names: string[]): string[] {
  const got = parsed.positionals;
  if (got.length < names.length) throw usageError(cmd, `missing ${names[got.length]}`);
  if (got.length > names.length)
    throw usageError(cmd, `unexpected argument ${JSON.stringify(got[names.length])}`);
  return got;
}

/** Opens `dir` as a reader, with messages that say what is wrong with the path. */
export function openStore(dir: string): Store {
  if (!storeExists(dir)) {
    const what = !existsSync(dir)
      ? 'the path does not exist'
      : !statSync(dir).isDirectory()
        ? 'the path is a file, not a store directory'
        : 'the directory holds no rondo.json';
    throw new CliError(
      'ERR_RONDO_NOT_FOUND',
      `no rondo store at ${dir} (${what})`,
      EXIT_FAILURE,
      'check the path: a store is the directory a program opened with Store.open(dir, { schemas })',
    );
  }
  return Store.open(dir, { readOnly: true });
}

/**
 * Writes to stdout and resolves once the chunk is handed to the OS, so large outputs stream
 * with bounded memory. EPIPE (reader gone) is handled by main(), which ends the process quietly.
 */
function writeOut(text: string): Promise<void> {
  if (text.length === 0) return Promise.resolve();
  return new Promise((resolve) => {
    if (process.stdout.write(text)) resolve();
    else process.stdout.once('drain', resolve);
  });
}

/** Collects output lines and writes them in chunks of about 64 KiB. */
export class Output {
  private parts: string[] = [];
  private size = 0;

  /** Appends one line (a newline is added). */
  async line(text: string): Promise<void> {
    this.parts.push(text, '\n');
    this.size += text.length + 1;
    if (this.size >= 65536) await this.flush();
  }

  /** Writes what is buffered. */
  async flush(): Promise<void> {
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    await writeOut(text);
  }
}

/** Whether to colour output written to `stream`: only a terminal, and never under NO_COLOR. */
export function useColour(stream: NodeJS.WriteStream): boolean {
  // Empty counts as unset for both, as https://no-color.org asks.
  if (process.env['NO_COLOR']) return false;
  const force = process.env['FORCE_COLOR'];
  if (force && force !== '0' && force !== 'false') return true;
  return stream.isTTY === true;
}
