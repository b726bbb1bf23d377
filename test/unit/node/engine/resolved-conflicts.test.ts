import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResolvedConflicts } from '../../../../src/node/engine/resolved-conflicts';

const a = { space: 's1', path: 'a.md', copy: 'a.conflict-bob-20260101-000000.md' };
const b = { space: 's1', path: 'b.md', copy: 'b.conflict-bob-20260101-000000.md' };

test('a conflict listed before and not now is gone; a first listing reports nothing; spaces are apart', () => {
  const resolved = new ResolvedConflicts();
  assert.deepEqual(resolved.gone('s1', [a, b]), [], 'the first listing has no past');
  assert.deepEqual(resolved.gone('s1', [a, b]), []);
  assert.deepEqual(resolved.gone('s1', [b]), [a]);
  assert.deepEqual(resolved.gone('s1', [b]), [], 'reported once');
  assert.deepEqual(resolved.gone('s2', []), [], 'another space has its own listing');
  assert.deepEqual(resolved.gone('s1', []), [b]);
  // The same copy again (made anew) and gone again is news again.
  assert.deepEqual(resolved.gone('s1', [a]), []);
  assert.deepEqual(resolved.gone('s1', []), [a]);
});
