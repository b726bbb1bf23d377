import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeHasher } from '../../../../src/node/workers/node-hasher';
import { fromUtf8, utf8 } from '../../../../src/sync/util/bytes';
import { LocalIndex } from '../../../../src/sync/replica/local-index';
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
