// Every error code the core store throws, with the call that triggers it.
import assert from 'node:assert/strict';
import { existsSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isRondoError, RondoError } from './errors.js';
import { Store, writerActive } from './index.js';
import type { SchemaConfig } from './schema.js';
import { Child, oneTier, refusesConfig, scratchDirs, T0, throwsCode } from './test-fixtures/helpers.js';
import { MAX_TIMESTAMP_MS } from './timestamp.js';

const dir = scratchDirs('errors');
function fresh(schemas: SchemaConfig[] = [oneTier('s', 1000, 10)]): Store {
  return Store.open(dir(), { schemas });
}

test('RondoError carries a stable code and is an Error', () => {
  const err = throwsCode(() => Store.open(join(dir(), 'nope')), 'ERR_RONDO_NOT_FOUND');
  assert.ok(err instanceof Error);
  assert.equal(err.name, 'RondoError');
  assert.ok(isRondoError(err));
  assert.ok(isRondoError(err, 'ERR_RONDO_NOT_FOUND'));
  assert.ok(!isRondoError(err, 'ERR_RONDO_CONFIG'));
  assert.ok(!isRondoError(new Error('x')));
  assert.ok(new RondoError('ERR_RONDO_IO', 'm', { cause: 1 }).cause === 1);
});

describe('ERR_RONDO_CONFIG', () => {
  const tier0 = { interval: 1000, retention: 10_000 };
  const bad: [string, unknown][] = [
    ['no schemas', []],
    ['schemas not an array', {}],
    ['schema not an object', [null]],
    [
      'interval not a duration',
      [{ name: 's', maxSeries: 1, tiers: [{ interval: 'fast', retention: 10_000 }] }],
    ],
    ['interval 0', [{ name: 's', maxSeries: 1, tiers: [{ interval: 0, retention: 10_000 }] }]],
    ['interval negative', [{ name: 's', maxSeries: 1, tiers: [{ interval: -1000, retention: 10_000 }] }]],
    ['interval fractional', [{ name: 's', maxSeries: 1, tiers: [{ interval: 1.5, retention: 15 }] }]],
    ['retention not a duration', [{ name: 's', maxSeries: 1, tiers: [{ interval: '1s', retention: '10' }] }]],
    [
      'retention not a multiple',
      [{ name: 's', maxSeries: 1, tiers: [{ interval: '1s', retention: 10_500 }] }],
    ],
    ['retention one interval', [{ name: 's', maxSeries: 1, tiers: [{ interval: '1s', retention: '1s' }] }]],
    ['name empty', [{ name: '', maxSeries: 1, tiers: [tier0] }]],
    ['name with slash', [{ name: 'a/b', maxSeries: 1, tiers: [tier0] }]],
    ['name with space', [{ name: 'a b', maxSeries: 1, tiers: [tier0] }]],
    ['name starting with a dot', [{ name: '.hidden', maxSeries: 1, tiers: [tier0] }]],
    ['name of 65 characters', [{ name: 'a'.repeat(65), maxSeries: 1, tiers: [tier0] }]],
    ['name not a string', [{ name: 7, maxSeries: 1, tiers: [tier0] }]],
    [
      'duplicate names',
      [
        { name: 's', maxSeries: 1, tiers: [tier0] },
        { name: 's', maxSeries: 2, tiers: [tier0] },
      ],
    ],
    ['maxSeries 0', [{ name: 's', maxSeries: 0, tiers: [tier0] }]],
    ['maxSeries fractional', [{ name: 's', maxSeries: 1.5, tiers: [tier0] }]],
    ['maxSeries missing', [{ name: 's', tiers: [tier0] }]],
    ['no tiers', [{ name: 's', maxSeries: 1, tiers: [] }]],
    ['consolidation on tier 0', [{ name: 's', maxSeries: 1, tiers: [{ ...tier0, consolidation: 'avg' }] }]],
    ['xff on tier 0', [{ name: 's', maxSeries: 1, tiers: [{ ...tier0, xff: 0.5 }] }]],
    [
      'tier 1 without consolidation',
      [{ name: 's', maxSeries: 1, tiers: [tier0, { interval: 5000, retention: 50_000 }] }],
    ],
    ['match value empty', [{ name: 's', match: { job: '' }, maxSeries: 1, tiers: [tier0] }]],
    // A matcher no series could satisfy.
    ['match on __name__', [{ name: 's', match: { __name__: 'cpu' }, maxSeries: 1, tiers: [tier0] }]],
    ['match with an empty label name', [{ name: 's', match: { '': 'x' }, maxSeries: 1, tiers: [tier0] }]],
  ];
  for (const [what, schemas] of bad) {
    test(what, () => {
      refusesConfig({ schemas });
    });
  }
  test('bad dir or options', () => {
    throwsCode(() => Store.open(''), 'ERR_RONDO_CONFIG');
    throwsCode(() => Store.open(7 as never), 'ERR_RONDO_CONFIG');
    throwsCode(() => Store.open(dir(), null as never), 'ERR_RONDO_CONFIG');
  });
  test('unknown keys in a schema, a tier or the options name the key and the closest valid one', () => {
    const cases: [string, unknown, RegExp][] = [
      [
        'mach for match',
        { schemas: [{ name: 's', mach: { a: 'b' }, maxSeries: 1, tiers: [tier0] }] },
        /"mach".*did you mean match\?/,
      ],
      [
        'maxseries',
        { schemas: [{ name: 's', maxseries: 1, maxSeries: 1, tiers: [tier0] }] },
        /"maxseries".*maxSeries/,
      ],
      [
        'schema-level retention',
        { schemas: [{ name: 's', retention: '1h', maxSeries: 1, tiers: [tier0] }] },
        /"retention".*belongs to each tier/,
      ],
      [
        'consolidate for consolidation',
        {
          schemas: [
            {
              name: 's',
              maxSeries: 1,
              tiers: [tier0, { interval: 5000, retention: 50_000, consolidate: 'avg' }],
            },
          ],
        },
        /schema s tier 1: unknown option "consolidate".*consolidation/,
      ],
      [
        'retension',
        {
          schemas: [
            { name: 's', maxSeries: 1, tiers: [{ interval: 1000, retension: 10_000, retention: 10_000 }] },
          ],
        },
        /"retension".*did you mean retention\?/,
      ],
      ['readonly in the options', { readonly: true }, /Store.open: unknown option "readonly".*readOnly/],
      ['schema (singular) in the options', { schema: [] }, /unknown option "schema".*schemas/],
    ];
    for (const [what, options, message] of cases) refusesConfig(options, message, what);
    const store = fresh();
    const h = store.register('m');
    throwsCode(() => store.query(h, { form: 0 } as never), 'ERR_RONDO_INVALID_ARGUMENT', /"form"/);
    throwsCode(
      () => store.drain('x', { tiers: 0 } as never),
      'ERR_RONDO_INVALID_ARGUMENT',
      /did you mean tier\?/,
    );
    throwsCode(() => store.startMaintenance({ evry: '1s' } as never), 'ERR_RONDO_INVALID_ARGUMENT');
    store.close();
  });
  test('bad maintenance interval', () => {
    const store = fresh();
    for (const every of ['0s', 'soon', 0]) {
      throwsCode(() => store.startMaintenance({ every }), 'ERR_RONDO_CONFIG', undefined, String(every));
    }
    store.close();
  });
});

test('ERR_RONDO_SCHEMA_MISMATCH: an existing store opened with other schemas', () => {
  const d = dir();
  const schemas = [oneTier('s', 1000, 10)];
  Store.open(d, { schemas }).close();
  for (const other of [
    [oneTier('s', 1000, 20)],
    [oneTier('s', 1000, 10, 5)],
    [oneTier('t', 1000, 10)],
    [oneTier('s', 1000, 10), oneTier('t', 1000, 10)],
    [{ ...oneTier('s', 1000, 10), match: { job: 'x' } }],
  ]) {
    throwsCode(() => Store.open(d, { schemas: other }), 'ERR_RONDO_SCHEMA_MISMATCH', d);
    throwsCode(() => Store.open(d, { schemas: other, readOnly: true }), 'ERR_RONDO_SCHEMA_MISMATCH');
  }
  // The same schemas written differently are not a mismatch, and the failed opens left no lock.
  Store.open(d, {
    schemas: [{ name: 's', maxSeries: 4, tiers: [{ interval: '1s', retention: '10s' }] }],
  }).close();
});

test('ERR_RONDO_NOT_FOUND: open without schemas, or read-only, where there is no store', () => {
  const d = dir();
  throwsCode(() => Store.open(d), 'ERR_RONDO_NOT_FOUND');
  throwsCode(() => Store.open(join(d, 'missing')), 'ERR_RONDO_NOT_FOUND');
  throwsCode(() => Store.open(join(d, 'missing'), { readOnly: true }), 'ERR_RONDO_NOT_FOUND');
  throwsCode(
    () => Store.open(join(d, 'missing'), { readOnly: true, schemas: [oneTier('s', 1000, 10)] }),
    'ERR_RONDO_NOT_FOUND',
  );
  assert.equal(existsSync(join(d, 'missing')), false);
});

test('ERR_RONDO_NO_MATCHING_SCHEMA', () => {
  const store = fresh([
    { ...oneTier('web', 1000, 10), match: { job: 'web' } },
    { ...oneTier('db', 1000, 10), match: { job: 'db', env: 'prod' } },
  ]);
  throwsCode(() => store.register('cpu'), 'ERR_RONDO_NO_MATCHING_SCHEMA');
  throwsCode(() => store.register('cpu', { job: 'other' }), 'ERR_RONDO_NO_MATCHING_SCHEMA');
  throwsCode(() => store.register('cpu', { job: 'db' }), 'ERR_RONDO_NO_MATCHING_SCHEMA');
  assert.equal(store.register('cpu', { job: 'db', env: 'prod' }), 0);
  assert.equal(store.series().length, 1);
  store.close();
});

test('ERR_RONDO_MAX_SERIES', () => {
  const store = fresh([oneTier('s', 1000, 10, 2)]);
  store.register('a');
  store.register('b');
  throwsCode(() => store.register('c'), 'ERR_RONDO_MAX_SERIES');
  // Existing series still resolve once the schema is full.
  assert.equal(store.register('b'), 1);
  assert.equal(store.series().length, 2);
  store.close();
});

test('ERR_RONDO_INVALID_LABEL', () => {
  const store = fresh();
  for (const [name, labels] of [
    ['', {}],
    [7, {}],
    ['m', { '': 'v' }],
    ['m', { k: '' }],
    ['m', { k: 1 }],
    ['m', { __name__: 'x' }],
    ['m', { __k: 'v' }],
    ['m', ['a']],
    ['m', 'k=v'],
  ] as const) {
    throwsCode(() => store.register(name as string, labels as never), 'ERR_RONDO_INVALID_LABEL');
    throwsCode(() => store.lookup(name as string, labels as never), 'ERR_RONDO_INVALID_LABEL');
  }
  assert.equal(store.series().length, 0);
  // A single underscore is fine.
  assert.equal(store.register('m', { _k: 'v' }), 0);
  store.close();
});

test('ERR_RONDO_INVALID_VALUE: strings and infinities; NaN means no value', () => {
  const store = fresh();
  const h = store.register('m');
  for (const v of ['1', Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, null, undefined, 1n, {}]) {
    throwsCode(() => store.record(h, v as number, T0), 'ERR_RONDO_INVALID_VALUE');
    throwsCode(() => store.record(h, v as number), 'ERR_RONDO_INVALID_VALUE');
    throwsCode(() => store.recordBatch([h], [v as number], T0), 'ERR_RONDO_INVALID_VALUE');
  }
  assert.equal(store.stats().recorded, 0);
  store.record(h, Number.NaN, T0);
  store.record(h, -0, T0 + 1000);
  store.record(h, Number.MAX_VALUE, T0 + 2000);
  const r = store.query(h);
  assert.deepEqual(Array.from(r.timestamps), [T0 + 1000, T0 + 2000]);
  assert.ok(Object.is(r.values[0], -0));
  assert.equal(r.values[1], Number.MAX_VALUE);
  store.close();
});

describe('maxFutureSkew: a point far ahead of the clock is refused without touching the rings', () => {
  test('the default (5 minutes), a larger one, Infinity, and bad values', () => {
    const d = dir();
    const store = Store.open(d, { schemas: [oneTier('s', 1000, 600)] });
    const h = store.register('m');
    const now = Date.now();
    store.record(h, 1, now);
    const end = store.newestEnd();
    const err = throwsCode(
      () => store.record(h, 2, now + 3_600_000),
      'ERR_RONDO_INVALID_TIMESTAMP',
      /ahead of the clock, beyond maxFutureSkew \(5m\)/,
    );
    assert.match(err.message, /Infinity for replay/);
    throwsCode(
      () => store.recordBatch([h], [2], now + 3_600_000),
      'ERR_RONDO_INVALID_TIMESTAMP',
      /maxFutureSkew/,
    );
    assert.equal(store.newestEnd(), end, 'the ring did not move');
    assert.deepEqual([...store.query(h).values], [1]);
    store.record(h, 3, now + 60_000); // within the skew
    assert.deepEqual([...store.query(h).values], [1, 3]);
    store.close();
    const wide = Store.open(d, { maxFutureSkew: '2h' });
    wide.record(h, 4, now + 3_600_000);
    wide.close();
    const replay = Store.open(d, { maxFutureSkew: Number.POSITIVE_INFINITY });
    replay.record(h, 5, now + 365 * 86_400_000);
    replay.close();
    for (const bad of ['soon', 0, -1, null]) {
      throwsCode(
        () => Store.open(d, { maxFutureSkew: bad as never }),
        'ERR_RONDO_CONFIG',
        /maxFutureSkew/,
        String(bad),
      );
      assert.equal(writerActive(d), false, 'a bad option leaves no lock');
    }
  });

  test('MAX_TIMESTAMP_MS + 1 is refused even when it falls in the current slot', () => {
    const store = Store.open(dir(), {
      schemas: [oneTier('s', 1000, 10)],
      maxFutureSkew: Number.POSITIVE_INFINITY,
    });
    const h = store.register('m');
    const last = Math.floor(MAX_TIMESTAMP_MS / 1000) * 1000;
    store.record(h, 1, last);
    store.record(h, 2, MAX_TIMESTAMP_MS);
    throwsCode(() => store.record(h, 3, MAX_TIMESTAMP_MS + 1), 'ERR_RONDO_INVALID_TIMESTAMP', /year 2554/);
    assert.deepEqual([...store.query(h).values], [2]);
    store.close();
  });
});

test('ERR_RONDO_INVALID_TIMESTAMP: NaN, Infinity, 0, negative, before the first slot, non-numbers', () => {
  const store = fresh();
  const h = store.register('m');
  for (const t of [
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    0,
    -1,
    -T0,
    999,
    '5',
    null,
  ]) {
    throwsCode(() => store.record(h, 1, t as number), 'ERR_RONDO_INVALID_TIMESTAMP');
    throwsCode(() => store.recordBatch([h], [1], t as number), 'ERR_RONDO_INVALID_TIMESTAMP');
  }
  // Also once the ring has a current slot (record's fast path is taken first).
  store.record(h, 1, T0);
  for (const t of [Number.NaN, Number.POSITIVE_INFINITY, 0, -T0]) {
    throwsCode(() => store.record(h, 1, t), 'ERR_RONDO_INVALID_TIMESTAMP');
  }
  assert.equal(store.stats().recorded, 1);
  assert.equal(store.stats().droppedLate, 0);
  store.close();
});

test('recordBatch validates every element before writing any', () => {
  const store = fresh([
    { ...oneTier('fine', 1, 100), match: { k: 'fine' } },
    oneTier('coarse', 3_600_000, 10),
  ]);
  const a = store.register('a', { k: 'fine' });
  const b = store.register('b');
  throwsCode(() => store.recordBatch([a, 99], [1, 2], T0), 'ERR_RONDO_INVALID_HANDLE');
  throwsCode(() => store.recordBatch([a, b], [1, Number.POSITIVE_INFINITY], T0), 'ERR_RONDO_INVALID_VALUE');
  // 1000 ms is a valid time for schema "fine" but before the first slot of "coarse" (1 h).
  throwsCode(() => store.recordBatch([a, b], [1, 2], 1000), 'ERR_RONDO_INVALID_TIMESTAMP');
  throwsCode(() => store.recordBatch([a, b], [1], T0), 'ERR_RONDO_INVALID_ARGUMENT');
  throwsCode(() => store.recordBatch(null as never, [], T0), 'ERR_RONDO_INVALID_ARGUMENT');
  assert.equal(store.query(a).timestamps.length, 0);
  assert.equal(store.query(b).timestamps.length, 0);
  assert.equal(store.stats().recorded, 0);
  store.close();
});

test('ERR_RONDO_IO: a store path that cannot be created, naming it', () => {
  const file = join(dir(), 'a-file');
  writeFileSync(file, 'not a directory');
  for (const d of [file, join(file, 'below')]) {
    throwsCode(() => Store.open(d, { schemas: [oneTier('s', 1000, 10)] }), 'ERR_RONDO_IO', file, d);
  }
});

test('ERR_RONDO_INVALID_ARGUMENT: query options that are not an object', () => {
  const store = fresh();
  const h = store.register('m');
  throwsCode(() => store.query(h, null as never), 'ERR_RONDO_INVALID_ARGUMENT');
  throwsCode(() => store.query(h, 5 as never), 'ERR_RONDO_INVALID_ARGUMENT');
  store.close();
});

test('ERR_RONDO_INVALID_HANDLE', () => {
  const store = fresh();
  const h = store.register('m');
  for (const bad of [1, -1, 0.5, 99, Number.NaN, undefined, null]) {
    throwsCode(() => store.record(bad as number, 1, T0), 'ERR_RONDO_INVALID_HANDLE');
    throwsCode(() => store.recordBatch([bad as number], [1], T0), 'ERR_RONDO_INVALID_HANDLE');
    throwsCode(() => store.query(bad as number), 'ERR_RONDO_INVALID_HANDLE');
  }
  assert.equal(store.query(h).timestamps.length, 0);
  store.close();
});

test('ERR_RONDO_INVALID_HANDLE: a string handle, whatever the string', () => {
  const store = fresh();
  store.register('m');
  for (const h of ['0', 'length', '__proto__', 'constructor']) {
    throwsCode(() => store.record(h as never, 1, T0), 'ERR_RONDO_INVALID_HANDLE', undefined, h);
    throwsCode(() => store.recordBatch([h as never], [1], T0), 'ERR_RONDO_INVALID_HANDLE', undefined, h);
  }
  assert.deepEqual([...store.query(0).values], [], 'nothing was recorded');
  store.close();
});

test('ERR_RONDO_INVALID_RANGE', () => {
  const store = fresh();
  const h = store.register('m');
  for (const range of [
    { start: 2000, end: 1000 },
    { start: Number.NaN },
    { end: Number.NaN },
    { start: Number.NEGATIVE_INFINITY },
    { end: Number.POSITIVE_INFINITY },
    { start: '1000' },
  ]) {
    throwsCode(() => store.query(h, range as never), 'ERR_RONDO_INVALID_RANGE');
  }
  assert.equal(store.query(h, { start: 1000, end: 1000 }).timestamps.length, 0);
  store.close();
});

test('ERR_RONDO_INVALID_TIER', () => {
  const store = fresh();
  const h = store.register('m');
  for (const tier of [1, -1, 0.5, 'fine', Number.NaN]) {
    throwsCode(() => store.query(h, { tier: tier as never }), 'ERR_RONDO_INVALID_TIER');
  }
  // A tier given as a string is not read as a number.
  throwsCode(
    () => store.query(h, { tier: '0' as never }),
    'ERR_RONDO_INVALID_TIER',
    /tier "0" does not exist/,
  );
  assert.equal(store.query(h, { tier: 'auto' }).tier, 0);
  store.close();
});

describe('ERR_RONDO_LOCKED', () => {
  test('a second writer in the same process', () => {
    const d = dir();
    const schemas = [oneTier('s', 1000, 10)];
    const w = Store.open(d, { schemas });
    throwsCode(() => Store.open(d), 'ERR_RONDO_LOCKED');
    throwsCode(() => Store.open(d, { schemas }), 'ERR_RONDO_LOCKED');
    const r = Store.open(d, { readOnly: true }); // readers are fine
    r.close();
    w.close();
    Store.open(d).close(); // released by close()
  });

  test('a second writer in another process, both ways', async () => {
    const d = dir();
    Store.open(d, { schemas: [oneTier('s', 1000, 10)] }).close();
    const holder = new Child(['hold', d]);
    try {
      await holder.waitFor('ready');
      throwsCode(() => Store.open(d), 'ERR_RONDO_LOCKED', d);
    } finally {
      await holder.finish();
    }
    const w = Store.open(d);
    try {
      const trier = new Child(['trylock', d]);
      assert.equal(await trier.waitFor('result'), 'result ERR_RONDO_LOCKED');
      await trier.exited;
    } finally {
      w.close();
    }
    const trier = new Child(['trylock', d]);
    assert.equal(await trier.waitFor('result'), 'result opened');
  });

  test('names the holder, and holds even when LOCK is unlinked or replaced under the writer', async () => {
    const d = dir();
    Store.open(d, { schemas: [oneTier('s', 1000, 10)] }).close();
    const holder = new Child(['hold', d]);
    try {
      await holder.waitFor('ready');
      throwsCode(() => Store.open(d), 'ERR_RONDO_LOCKED', `pid ${holder.pid}`);
      unlinkSync(join(d, 'LOCK'));
      throwsCode(() => Store.open(d), 'ERR_RONDO_LOCKED');
      writeFileSync(join(d, 'LOCK.new'), '1\n');
      renameSync(join(d, 'LOCK.new'), join(d, 'LOCK'));
      throwsCode(() => Store.open(d), 'ERR_RONDO_LOCKED');
      const trier = new Child(['trylock', d]);
      assert.equal(await trier.waitFor('result'), 'result ERR_RONDO_LOCKED');
      await trier.exited;
      assert.equal(writerActive(d), true);
    } finally {
      await holder.finish();
    }
    Store.open(d).close(); // released when the holder closed
  });

  test('a writer killed by SIGKILL leaves no lock behind', async () => {
    const d = dir();
    Store.open(d, { schemas: [oneTier('s', 1000, 10)] }).close();
    const holder = new Child(['hold', d]);
    await holder.waitFor('ready');
    await holder.kill();
    Store.open(d).close();
  });
});

test('ERR_RONDO_READ_ONLY: every write on a reader', () => {
  const d = dir();
  const w = Store.open(d, { schemas: [oneTier('s', 1000, 10)] });
  const h = w.register('m');
  const r = Store.open(d, { readOnly: true });
  throwsCode(() => r.register('m'), 'ERR_RONDO_READ_ONLY');
  throwsCode(() => r.register('new'), 'ERR_RONDO_READ_ONLY');
  throwsCode(() => r.record(h, 1, T0), 'ERR_RONDO_READ_ONLY');
  throwsCode(() => r.record(h, 1), 'ERR_RONDO_READ_ONLY');
  throwsCode(() => r.recordBatch([h], [1], T0), 'ERR_RONDO_READ_ONLY');
  throwsCode(() => r.consolidate(), 'ERR_RONDO_READ_ONLY');
  throwsCode(() => r.startMaintenance(), 'ERR_RONDO_READ_ONLY');
  r.flush(); // nothing to flush: not an error
  assert.equal(r.readOnly, true);
  assert.equal(w.query(h).timestamps.length, 0);
  assert.equal(w.series().length, 1);
  r.close();
  w.close();
});

test('ERR_RONDO_CLOSED: every method after close, for writers and readers; close twice is fine', () => {
  const d = dir();
  const w = Store.open(d, { schemas: [oneTier('s', 1000, 10)] });
  const h = w.register('m');
  w.record(h, 1, T0);
  const r = Store.open(d, { readOnly: true });
  for (const store of [w, r]) {
    store.close();
    store.close();
    assert.equal(store.isClosed, true);
    const calls: [string, () => unknown][] = [
      ['register', () => store.register('m')],
      ['record', () => store.record(h, 1, T0)],
      ['record default time', () => store.record(h, 1)],
      ['recordBatch', () => store.recordBatch([h], [1], T0)],
      ['query', () => store.query(h)],
      ['series', () => store.series()],
      ['lookup', () => store.lookup('m')],
      ['info', () => store.info()],
      ['stats', () => store.stats()],
      ['consolidate', () => store.consolidate()],
      ['startMaintenance', () => store.startMaintenance()],
      ['flush', () => store.flush()],
    ];
    for (const [name, call] of calls) {
      throwsCode(
        call,
        'ERR_RONDO_CLOSED',
        undefined,
        `${store.readOnly ? 'reader' : 'writer'}.${name} after close`,
      );
    }
  }
  // Closing released the lock.
  Store.open(d).close();
});
