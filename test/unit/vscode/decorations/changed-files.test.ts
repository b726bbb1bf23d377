import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ActivityView } from '../../../../src/node/engine/engine-protocol';
import { ChangedFiles } from '../../../../src/vscode/decorations/changed-files';

const abs = (p: string): string => `/work/notes/${p}`;
function changed(paths: string[], changedAt: number[], user = 'u-bob', extra: Partial<ActivityView> = {}): ActivityView {
  return { id: 'e1', at: Math.max(...changedAt), space: 's1', kind: 'changed', user, paths, changedAt, ...extra };
}

test('files changed by others are marked with who and when, until opened', () => {
  const files = new ChangedFiles();
  assert.deepEqual(files.note(changed(['a.md', 'b.md'], [2_000, 1_000]), abs), [abs('a.md'), abs('b.md')]);
  assert.deepEqual(files.change(abs('a.md')), { user: 'u-bob', at: 2_000 });
  assert.equal(files.open(abs('a.md'), 3_000), true);
  assert.equal(files.change(abs('a.md')), undefined);
  assert.equal(files.open(abs('a.md'), 3_500), false, 'nothing left to clear');
  assert.deepEqual(files.files, [abs('b.md')]);
});

test('an entry sent again (grown or seen) never brings back the mark of a file opened since its change', () => {
  const files = new ChangedFiles();
  files.note(changed(['a.md'], [1_000]), abs);
  files.open(abs('a.md'), 2_000);
  assert.deepEqual(files.note(changed(['b.md', 'a.md'], [3_000, 1_000]), abs), [abs('b.md')]);
  assert.deepEqual(files.note(changed(['b.md', 'a.md'], [3_000, 1_000], 'u-bob', { seen: true }), abs), [], 'nothing new');
  assert.deepEqual(files.note(changed(['a.md', 'b.md'], [4_000, 3_000]), abs), [abs('a.md')], 'a.md changed again after it was opened');
});

test('only changes, with an author, in spaces on this device', () => {
  const files = new ChangedFiles();
  assert.deepEqual(files.note({ id: 'j', at: 1, space: 's1', kind: 'joined', user: 'u-bob', paths: [] }, abs), []);
  assert.deepEqual(files.note({ id: 'c', at: 1, space: 's1', kind: 'changed', paths: ['a.md'] }, abs), []);
  assert.deepEqual(
    files.note(changed(['a.md'], [1]), () => undefined),
    [],
  );
});

test('the marks survive a reload through their kept state; junk in it is dropped', () => {
  const files = new ChangedFiles();
  files.note(changed(['a.md', 'b.md'], [2_000, 1_000]), abs);
  files.open(abs('b.md'), 5_000);
  const again = new ChangedFiles(JSON.parse(JSON.stringify(files.toJSON())));
  assert.deepEqual(again.files, [abs('a.md')]);
  assert.deepEqual(again.note(changed(['b.md'], [4_000]), abs), [], 'b.md was opened after that change');
  const junk = new ChangedFiles({ changed: { x: { user: 3 }, y: null }, opened: { z: 'soon' } });
  assert.deepEqual(junk.files, []);
  assert.deepEqual(new ChangedFiles('nonsense').files, []);
});
