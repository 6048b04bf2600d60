// Odd inputs at the API's edges get a RondoError with a clear code, never a TypeError.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { RondoError, Store } from './index.js';
import { throwsCode } from './test-fixtures/helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'rondo-edges-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const schemas = [{ name: 's', maxSeries: 4, tiers: [{ interval: '1s', retention: '1m' }] }];

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof RondoError, `a RondoError, got ${String(err)}`);
    return err.code;
  }
  return 'no error';
}

test('query options that are not an object, and a tier given as a string', () => {
  const store = Store.open(join(tmp, 'q'), { schemas });
  const h = store.register('x');
  assert.equal(
    code(() => store.query(h, null as never)),
    'ERR_RONDO_INVALID_ARGUMENT',
  );
  assert.equal(
    code(() => store.query(h, 5 as never)),
    'ERR_RONDO_INVALID_ARGUMENT',
  );
  assert.throws(() => store.query(h, { tier: '0' as never }), /tier "0" does not exist/);
  store.close();
});

test('record() with a string handle is ERR_RONDO_INVALID_HANDLE, whatever the string', () => {
  const store = Store.open(join(tmp, 'strings'), { schemas });
  store.register('x');
  for (const h of ['0', 'length', '__proto__', 'constructor']) {
    assert.equal(
      code(() => store.record(h as never, 1, 1_700_000_000_000)),
      'ERR_RONDO_INVALID_HANDLE',
      h,
    );
    assert.equal(
      code(() => store.recordBatch([h as never], [1], 1_700_000_000_000)),
      'ERR_RONDO_INVALID_HANDLE',
      h,
    );
  }
  assert.deepEqual([...store.query(0).values], [], 'nothing was recorded');
  store.close();
});

test('a schema matcher no series could satisfy is ERR_RONDO_CONFIG', () => {
  const matchers: Record<string, string>[] = [{ __name__: 'cpu' }, { '': 'x' }, { k: '' }];
  for (const match of matchers) {
    assert.equal(
      code(() =>
        Store.open(join(tmp, 'never'), {
          schemas: [{ name: 's', match, maxSeries: 1, tiers: [{ interval: '1s', retention: '1m' }] }],
        }),
      ),
      'ERR_RONDO_CONFIG',
      JSON.stringify(match),
    );
  }
});

test('a store path that cannot be created is ERR_RONDO_IO naming it', () => {
  const file = join(tmp, 'a-file');
  writeFileSync(file, 'not a directory');
  for (const dir of [file, join(file, 'below')]) {
    assert.throws(
      () => Store.open(dir, { schemas }),
      (err: RondoError) =>
        err instanceof RondoError && err.code === 'ERR_RONDO_IO' && err.message.includes(file),
    );
  }
});

test('newestEnd() is the end of the newest tier-0 slot over all schemas, for writers and readers', () => {
  const dir = join(tmp, 'newest-end');
  const store = Store.open(dir, {
    schemas: [
      { name: 'a', match: { s: 'a' }, maxSeries: 2, tiers: [{ interval: '1s', retention: '1m' }] },
      { name: 'b', maxSeries: 2, tiers: [{ interval: '10s', retention: '10m' }] },
    ],
  });
  assert.equal(store.newestEnd(), null);
  const a = store.register('x', { s: 'a' });
  const b = store.register('y');
  store.record(a, 1, 1_700_000_001_500);
  store.record(b, 1, 1_700_000_000_000);
  assert.equal(store.newestEnd(), 1_700_000_010_000, "b's 10 s slot ends last");
  store.record(a, 1, 1_700_000_012_000);
  const reader = Store.open(dir, { readOnly: true });
  assert.equal(reader.newestEnd(), 1_700_000_013_000);
  throwsCode(() => reader.newestEnd(5), 'ERR_RONDO_INVALID_TIER');
  assert.equal(reader.newestEnd(0, ['a']), 1_700_000_013_000);
  assert.equal(reader.newestEnd(0, ['b']), 1_700_000_010_000, 'only the schemas named count');
  throwsCode(() => reader.newestEnd(0, ['nope']), 'ERR_RONDO_NOT_FOUND');
  reader.close();
  store.close();
});
