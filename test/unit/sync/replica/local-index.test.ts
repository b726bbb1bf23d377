import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeHasher } from '../../../../src/node/workers/node-hasher';
import { fromUtf8, utf8 } from '../../../../src/sync/util/bytes';
import { LocalIndex } from '../../../../src/sync/replica/local-index';
import { merge, type VersionVector } from '../../../../src/sync/model/version-vector';
import { bareRecord } from './engine-harness';

const rec = (path: string, sequence: number) => bareRecord(path, sequence, { version: [{ id: 'r', counter: sequence }] });

test('since() yields ascending sequences whatever order records were set in (state loads in path order)', () => {
  const index = new LocalIndex(new NodeHasher());
  for (const [p, s] of [
    ['a', 5],
    ['b', 2],
    ['c', 9],
    ['d', 1],
    ['a', 12],
    ['e', 7],
  ] as const)
    index.set(rec(p, s));
  assert.deepEqual(
    [...index.since(0)].map((r) => r.sequence),
    [1, 2, 7, 9, 12],
  );
  assert.deepEqual(
    [...index.since(7)].map((r) => r.path),
    ['c', 'a'],
  );
});

test('a leading byte order mark survives a UTF-8 round trip', () => {
  assert.equal(fromUtf8(utf8('\ufeffname.txt')), '\ufeffname.txt');
});

test('the index vector is the merge of the current records, whatever replaced what', () => {
  const seed = Number(process.env['SEED'] ?? Math.floor(Math.random() * 2 ** 31));
  let state = seed;
  const next = (n: number): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state % n;
  };
  const index = new LocalIndex(new NodeHasher());
  for (let step = 0; step < 2_000; step++) {
    // Same, newer, older and concurrent versions replace each other; some paths go entirely.
    const path = `p${next(20)}`;
    if (next(10) === 0) index.delete(path);
    else {
      const version: VersionVector = ['a', 'b', 'c'].flatMap((id) => (next(3) === 0 ? [] : [{ id, counter: 1 + next(6) }]));
      index.set(bareRecord(path, step + 1, { version }));
    }
    const expected = [...index.records()].reduce<VersionVector>((v, r) => merge(v, r.version), []);
    assert.deepEqual(index.vector, expected, `step ${step}; replay with SEED=${seed}`);
  }
});
