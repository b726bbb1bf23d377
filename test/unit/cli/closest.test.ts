import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { closest, distance } from '../../../src/cli/closest';

test('distance counts edits, a swap of neighbours as one', () => {
  assert.equal(distance('status', 'status'), 0);
  assert.equal(distance('stauts', 'status'), 1);
  assert.equal(distance('--prot', '--port'), 1);
  assert.equal(distance('join', 'joint'), 1);
  assert.equal(distance('', 'abc'), 3);
  assert.equal(distance('kitten', 'sitting'), 3);
});

test('closest suggests a near candidate or a unique prefix, and nothing far off', () => {
  const commands = ['server', 'init', 'status', 'share', 'chat', 'conflicts', 'resolve'];
  assert.equal(closest('stauts', commands), 'status');
  assert.equal(closest('conflict', commands), 'conflicts');
  assert.equal(closest('resol', commands), 'resolve');
  assert.equal(closest('sh', commands), 'share');
  assert.equal(closest('frobnicate', commands), undefined);
  assert.equal(closest('s', commands), undefined, 'a one-letter word is no prefix to guess from');
  assert.equal(closest('xyz', ['abc']), undefined);
});
