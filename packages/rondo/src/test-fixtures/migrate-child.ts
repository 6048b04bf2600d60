// Child-process fixture for the migration tests: `node migrate-child.js <mode> <dir> [args…]`.
// Lines go to stdout synchronously, so a SIGKILL cannot lose a line that was printed.
//
//   hold <dir>                       opens the store as its writer, prints "ready", closes when stdin ends
//   record <dir>                     records series a and b, one slot after another (consolidating now and
//                                    then), prints "ready" after 200 slots and goes on until it is killed
//   migrate <dir> <schemas.json> [at] Store.migrate, printing "start" then "done <result JSON>"
//   open <dir> <schemas.json> [at]    the same through Store.open(dir, { schemas, migrate: true })
//
// `at` kills the process (SIGKILL, by itself) at a chosen moment of the migration, found by
// watching the file system calls the migration makes (node:fs is patched before rondo is loaded,
// and syncBuiltinESMExports() carries the patch into rondo's named imports), so that migrate.ts
// needs no test hook:
//   journal       when the new generation's series journal is about to be renamed into place
//   before-switch when rondo.json is about to be replaced (everything new written, not switched)
//   after-switch  just after rondo.json was replaced (switched; nothing old marked or removed)
//   mid-cleanup   after the first file of the old generation was removed
//   call:<n>      before the n-th file system call of the migration (a random one, chosen by the test)
//   progress:<n>  at the n-th progress report (in the middle of the copy)
//   count         not killed: prints "calls <n>", the file system calls the migration made
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { basename } from 'node:path';

const [mode, dir, schemasFile, at] = process.argv.slice(2);

function say(line: string): void {
  fs.writeSync(1, `${line}\n`);
}

function die(): never {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
}

// Guard against orphans: a fixture never outlives a test run.
setTimeout(() => process.exit(3), 30_000).unref();

let switched = false;
let calls = 0;
let counting = false;
const killAtCall = at?.startsWith('call:') ? Number(at.slice(5)) : -1;
/** The synchronous calls rondo's store code makes (the migration uses no others). */
const WATCHED = [
  'openSync',
  'closeSync',
  'readSync',
  'writeSync',
  'fsyncSync',
  'fstatSync',
  'ftruncateSync',
  'renameSync',
  'rmSync',
  'mkdirSync',
  'readdirSync',
  'readFileSync',
  'existsSync',
  'statSync',
] as const;
const fsAny = fs as unknown as Record<string, (...args: unknown[]) => unknown>;
for (const name of WATCHED) {
  const original = fsAny[name]!;
  fsAny[name] = (...args: unknown[]) => {
    if (counting && ++calls === killAtCall) die();
    return original(...args);
  };
}
const rename = fs.renameSync;
fs.renameSync = (from: fs.PathLike, to: fs.PathLike): void => {
  const name = basename(String(to));
  if (at === 'journal' && name === 'series.journal') die();
  if (at === 'before-switch' && name === 'rondo.json') die();
  rename(from, to);
  if (name === 'rondo.json') {
    switched = true;
    if (at === 'after-switch') die();
  }
};
const rm = fs.rmSync;
fs.rmSync = (path: fs.PathLike, options?: fs.RmOptions): void => {
  rm(path, options);
  if (at === 'mid-cleanup' && switched) die();
};
syncBuiltinESMExports();

const { Store } = await import('../index.js');

switch (mode) {
  case 'hold': {
    const store = Store.open(dir!);
    say('ready');
    process.stdin.on('end', () => {
      store.close();
      process.exit(0);
    });
    process.stdin.resume();
    break;
  }
  case 'record': {
    const store = Store.open(dir!);
    const handles = [store.register('a'), store.register('b')];
    const newest = store.newestEnd();
    const start = newest ?? 1_700_000_000_000;
    for (let i = 0; ; i++) {
      const t = start + i * 1000;
      store.recordBatch(handles, [i, -i], t);
      if (i % 7 === 3) store.record(handles[0]!, i - 3, t - 3000); // a late rewrite
      if (i % 50 === 49) store.consolidate();
      if (i === 200) say('ready');
    }
  }
  case 'migrate':
  case 'open': {
    const schemas = JSON.parse(fs.readFileSync(schemasFile!, 'utf8'));
    const killAt = at?.startsWith('progress:') ? Number(at.slice(9)) : -1;
    let reports = 0;
    say('start');
    counting = true;
    try {
      if (mode === 'migrate') {
        const result = Store.migrate(dir!, {
          schemas,
          onProgress: () => {
            if (++reports === killAt) die();
          },
        });
        counting = false;
        if (at === 'count') say(`calls ${calls}`);
        say(`done ${JSON.stringify(result)}`);
      } else {
        Store.open(dir!, { schemas, migrate: true }).close();
        counting = false;
        if (at === 'count') say(`calls ${calls}`);
        say('done {}');
      }
    } catch (err) {
      say(`error ${(err as { code?: string }).code ?? String(err)}`);
    }
    break;
  }
  default:
    process.stderr.write(`unknown mode ${String(mode)}\n`);
    process.exit(2);
}
