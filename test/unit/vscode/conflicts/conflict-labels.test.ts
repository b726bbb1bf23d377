import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConflictView } from '../../../../src/node/engine/engine-protocol';
import { englishLocalizer as l10n } from '../../../../src/vscode/app/localizer';
import { conflictTooltip, sideLabels, timeFormat } from '../../../../src/vscode/conflicts/conflict-labels';
import { allConflicts, conflictKey, conflictOfFile, currentConflict } from '../../../../src/vscode/conflicts/conflict-lookup';
import { space, status } from '../fixtures';

const time = (at: number): string => `t${at}`;

/** bob's edit won (at the path), alice's lost (in her copy). */
const ALICE_LOST: ConflictView = {
  space: 's1',
  path: 'plan.md',
  copy: 'plan.conflict-alice-20261207-190000.md',
  fileAuthor: { name: 'bob', at: 2000 },
  copyAuthor: { name: 'alice', at: 1000 },
  base: 'ab'.repeat(32),
};

/** alice's edit won, bob's is the copy. */
const BOB_LOST: ConflictView = {
  space: 's1',
  path: 'notes.md',
  copy: 'notes.conflict-bob-20261207-190000.md',
  fileAuthor: { name: 'alice', at: 3000 },
  copyAuthor: { name: 'bob', at: 2500 },
};

test('merge editor titles: input 1 is theirs, input 2 yours, wherever the engine put each side', () => {
  // For alice, whose version is the copy: theirs is the file (bob's).
  assert.deepEqual(sideLabels(ALICE_LOST, 'alice', l10n, time), {
    theirs: { title: 'Theirs (bob)', description: 'changed t2000' },
    mine: { title: 'Yours (alice)', description: 'changed t1000' },
  });
  // For bob, whose version is at the path: theirs is the copy (alice's).
  assert.deepEqual(sideLabels(ALICE_LOST, 'bob', l10n, time), {
    theirs: { title: 'Theirs (alice)', description: 'changed t1000' },
    mine: { title: 'Yours (bob)', description: 'changed t2000' },
  });
  assert.deepEqual(sideLabels(BOB_LOST, 'alice', l10n, time).theirs, { title: 'Theirs (bob)', description: 'changed t2500' });
});

test('merge editor titles: a third member sees two other people; a view without authors still names the copy author', () => {
  const forCarol = sideLabels(ALICE_LOST, 'carol', l10n, time);
  assert.equal(forCarol.theirs.title, 'Theirs (alice)');
  assert.equal(forCarol.mine.title, 'Theirs (bob)');
  const bare = sideLabels({ space: 's1', path: 'plan.md', copy: ALICE_LOST.copy }, 'bob', l10n, time);
  assert.deepEqual(bare, { theirs: { title: 'Theirs (alice)', description: '' }, mine: { title: 'Yours (bob)', description: '' } });
});

test('the Explorer tooltip names who changed the file on each side and when', () => {
  assert.equal(conflictTooltip(ALICE_LOST, 'alice', l10n, time), 'Conflict: bob changed it at t2000; you changed it at t1000');
  assert.equal(conflictTooltip(ALICE_LOST, 'bob', l10n, time), 'Conflict: alice changed it at t1000; you changed it at t2000');
  assert.equal(conflictTooltip(ALICE_LOST, 'carol', l10n, time), 'Conflict: alice changed it at t1000; bob changed it at t2000');
  const twoDevices: ConflictView = { ...ALICE_LOST, fileAuthor: { name: 'alice', at: 2000 } };
  assert.equal(conflictTooltip(twoDevices, 'alice', l10n, time), 'Conflict: alice changed it on two devices, at t1000 and at t2000');
  assert.equal(
    conflictTooltip({ space: 's1', path: 'a', copy: 'a.conflict-x-20260101-000000' }, 'alice', l10n, time),
    'Conflict: changed on two devices',
  );
});

test('times are formatted in the given language, and an unknown language falls back to the machine default', () => {
  const at = Date.UTC(2026, 11, 7, 19, 2);
  assert.match(timeFormat('en')(at), /2026/);
  assert.match(timeFormat('de')(at), /2026/);
  assert.match(timeFormat('not a language tag!')(at), /2026/);
});

test('conflict look-ups: by file or copy on disk, as listed now, one key per copy', () => {
  const s = status({ spaces: [space('s1', 'project', { path: '/home/alice/project', conflicts: [ALICE_LOST, BOB_LOST] })] });
  assert.equal(allConflicts(s).length, 2);
  assert.equal(allConflicts(undefined).length, 0);
  assert.equal(conflictOfFile(s, '/home/alice/project/plan.md'), ALICE_LOST);
  assert.equal(conflictOfFile(s, `/home/alice/project/${BOB_LOST.copy}`), BOB_LOST);
  assert.equal(conflictOfFile(s, '/home/alice/project/other.md'), undefined);
  assert.equal(conflictOfFile(s, '/home/alice/elsewhere/plan.md'), undefined);
  assert.equal(currentConflict(s, { space: 's1', path: 'plan.md', copy: ALICE_LOST.copy }), ALICE_LOST);
  assert.equal(currentConflict(s, { space: 's1', path: 'plan.md', copy: 'plan.conflict-alice-20200101-000000.md' }), undefined);
  assert.equal(currentConflict(s, { space: 's2', path: 'plan.md' }), undefined);
  assert.notEqual(conflictKey(ALICE_LOST), conflictKey(BOB_LOST));
  assert.equal(conflictKey({ space: 's1', copy: ALICE_LOST.copy }), conflictKey(ALICE_LOST));
});
