// Child-process fixture for the store tests: `node child.js <mode> <dir> [args…]`.
// Modes print "ready"/"done"-style lines on stdout (synchronously, so a SIGKILL cannot lose a line
// that was printed) and those that stay alive close the store and exit when stdin ends.
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { RondoError } from '../errors.js';
import { Store } from '../store.js';
import { T0 } from './helpers.js';

const [mode, dir, ...args] = process.argv.slice(2);

function say(line: string): void {
  writeSync(1, `${line}\n`);
}

/** Keeps the process alive until stdin ends, then runs `done` and exits. */
function untilStdinEnds(done: () => void): void {
  process.stdin.on('end', () => {
    done();
    process.exit(0);
  });
  process.stdin.resume();
}

// Guard against orphans: a fixture never outlives a test run.
const HARD_LIMIT_MS = 30_000;
setTimeout(() => process.exit(3), HARD_LIMIT_MS).unref();

switch (mode) {
  case 'hold': {
    const store = Store.open(dir!);
    say('ready');
    untilStdinEnds(() => store.close());
    break;
  }
  case 'trylock': {
    try {
      Store.open(dir!).close();
      say('result opened');
    } catch (err) {
      say(`result ${err instanceof RondoError ? err.code : String(err)}`);
    }
    break;
  }
  case 'register': {
    // Registers, reports the handle, then idles until the parent SIGKILLs it.
    const store = Store.open(dir!);
    const h = store.register(args[0]!, JSON.parse(args[1]!) as Record<string, string>);
    say(`registered ${h}`);
    untilStdinEnds(() => store.close());
    break;
  }
  case 'append': {
    // Registers a new series and records points on it and on handle 0, starting at args[0] ms.
    const store = Store.open(dir!);
    const interval = store.info().schemas[0]!.tiers[0]!.interval;
    const t0 = Number(args[0]);
    const h = store.register('late', { host: 'x' });
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = t0 + i * interval;
      store.record(0, i, t);
      store.record(h, 100 + i, t);
      times.push(t);
    }
    say(`done ${JSON.stringify({ handle: h, times })}`);
    untilStdinEnds(() => store.close());
    break;
  }
  case 'crash': {
    // Records forever, one slot per iteration (value = slot number, -slot for the second series,
    // plus a late rewrite now and then); after a record returns, every 50th time stamp is written to
    // the side file args[0], fixed width at offset 0, so the parent knows what must have survived.
    const store = Store.open(dir!);
    const a = store.register('a');
    const b = store.register('b');
    const interval = store.info().schemas[0]!.tiers[0]!.interval;
    const newest = store.info().schemas[0]!.tiers[0]!.newest;
    const start = newest === null ? T0 : newest + interval;
    const side = openSync(args[0]!, 'w');
    const handles = [a, b];
    const values = [0, 0];
    const deadline = Date.now() + HARD_LIMIT_MS;
    for (let i = 0; ; i++) {
      const t = start + i * interval;
      const n = t / interval;
      values[0] = n;
      values[1] = -n;
      store.recordBatch(handles, values, t);
      if (i % 7 === 3) store.record(a, n - 3, t - 3 * interval);
      if (i % 50 === 0) {
        writeSync(side, String(t).padStart(20, ' '), 0, 'latin1');
        if (i === 0) say(`ready ${start}`);
        if (Date.now() > deadline) break;
      }
    }
    closeSync(side);
    store.close();
    break;
  }
  case 'wrap': {
    // Wraps a small ring as fast as it can for args[0] ms, and then, when a stop file args[1] is
    // named, on until that file exists (the parent's reader decides when it has seen enough): series
    // 0 gets value = t at every slot, series 1 gets value = -t on even slots only; some steps jump
    // ahead (past a lap or not), some write late. A reader can check every (t, v) pair it sees.
    const store = Store.open(dir!);
    const interval = store.info().schemas[0]!.tiers[0]!.interval;
    const newest = store.info().schemas[0]!.tiers[0]!.newest;
    let n = newest === null ? T0 / interval : newest / interval + 1;
    const until = Date.now() + Number(args[0]);
    const stopFile = args[1];
    const deadline = Date.now() + HARD_LIMIT_MS - 5000;
    const finished = (): boolean =>
      Date.now() > deadline || (Date.now() > until && (stopFile === undefined || existsSync(stopFile)));
    say('ready');
    let count = 0;
    for (let i = 0; ; i++) {
      const t = n * interval;
      store.record(0, t, t);
      if (n % 2 === 0) store.record(1, -t, t);
      if (i % 5 === 4) {
        const late = t - 3 * interval;
        store.record(0, late, late);
        if ((late / interval) % 2 === 0) store.record(1, -late, late);
      }
      count++;
      n += i % 1000 === 999 ? 45 : i % 300 === 299 ? 7 : 1;
      if (i % 1024 === 0 && finished()) break;
    }
    store.close();
    say(`done ${count}`);
    break;
  }
  default:
    process.stderr.write(`unknown mode ${String(mode)}\n`);
    process.exit(2);
}
