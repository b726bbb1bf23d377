import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ActivityView } from '../../../../src/node/engine/engine-protocol';
import { ActivityFeed, activityNodes, activityText, relativeTime } from '../../../../src/vscode/activity/activity-feed';
import { englishLocalizer as l10n } from '../../../../src/vscode/app/localizer';
import { member, space, status } from '../fixtures';

const st = status({
  spaces: [space('s1', 'design-notes', { members: [member('u-alice', 'alice'), member('u-bob', 'bob'), member('u-carol', 'carol')] })],
});
let next = 0;
function activity(kind: ActivityView['kind'], at: number, paths: string[], user?: string, spaceId = 's1'): ActivityView {
  return { id: `a${next++}`, at, space: spaceId, kind, paths, ...(user ? { user } : {}) };
}

test('changes by one user in one space within the window coalesce into one row', () => {
  const feed = new ActivityFeed();
  feed.add(activity('changed', 1_000, ['a.md'], 'u-bob'));
  feed.add(activity('changed', 2_000, ['b.md', 'a.md'], 'u-bob'));
  feed.add(activity('changed', 3_000, ['c.md'], 'u-bob'));
  assert.equal(feed.entries.length, 1);
  const [row] = feed.entries;
  assert.ok(row);
  assert.deepEqual(row.paths, ['a.md', 'b.md', 'c.md']);
  assert.equal(row.firstAt, 1_000);
  assert.equal(row.at, 3_000);
  assert.equal(activityText(row, st, l10n), 'bob changed 3 files in design-notes');
});

test('another user, another kind, another space or a long pause starts a new row; order is kept', () => {
  const feed = new ActivityFeed({ coalesceWindowMs: 60_000 });
  feed.add(activity('changed', 0, ['a.md'], 'u-bob'));
  feed.add(activity('joined', 1_000, [], 'u-carol'));
  feed.add(activity('changed', 2_000, ['b.md'], 'u-bob'));
  feed.add(activity('changed', 3_000, ['c.md'], 'u-carol'));
  feed.add(activity('changed', 4_000, ['d.md'], 'u-carol', 's2'));
  feed.add(activity('changed', 200_000, ['e.md'], 'u-carol', 's2'));
  assert.deepEqual(
    feed.entries.map((e) => `${e.kind}:${e.user}:${e.space}:${e.paths.join(',')}`),
    [
      'changed:u-carol:s2:e.md',
      'changed:u-carol:s2:d.md',
      'changed:u-carol:s1:c.md',
      'changed:u-bob:s1:b.md',
      'joined:u-carol:s1:',
      'changed:u-bob:s1:a.md',
    ],
  );
});

test('joins never coalesce, even back to back', () => {
  const feed = new ActivityFeed();
  feed.add(activity('joined', 0, [], 'u-carol'));
  feed.add(activity('joined', 1, [], 'u-carol'));
  assert.equal(feed.entries.length, 2);
});

test('texts of every kind', () => {
  const feed = new ActivityFeed();
  const text = (a: ActivityView): string => activityText(feed.add(a)!, st, l10n);
  assert.equal(text(activity('joined', 0, [], 'u-carol')), 'carol joined design-notes');
  assert.equal(text(activity('changed', 10, ['notes/a.md'], 'u-bob')), 'bob changed notes/a.md in design-notes');
  assert.equal(text(activity('conflict', 20, ['src/app.ts'])), 'conflict in src/app.ts');
  assert.equal(text(activity('conflict', 30, ['src/b.ts'])), '2 conflicts in design-notes');
  assert.equal(text(activity('left', 40, [], 'u-bob')), 'bob left design-notes');
  assert.equal(text(activity('changed', 50, ['x', 'y'])), '2 files changed in design-notes');
  assert.equal(text(activity('error', 60, ['big.bin'])), 'sync error in big.bin');
  assert.equal(text(activity('merged', 65, ['notes.md'])), 'concurrent edits merged in notes.md');
  assert.equal(text(activity('merged', 66, ['todo.md'])), 'concurrent edits merged in 2 files in design-notes');
  assert.equal(text({ ...activity('invited', 70, [], 'zed', 'unknown-space-id'), invitedMe: true }), 'zed invited you to a shared folder');
  assert.equal(text(activity('invited', 75, [], 'dave')), 'dave was invited to design-notes');
  assert.equal(text(activity('changed', 80, ['q'], '0123456789abcdef0123', '89abcdef01234567')), '01234567 changed q in 89abcdef');
});

test('the feed keeps at most maxEntries rows, dropping the oldest', () => {
  const feed = new ActivityFeed({ maxEntries: 3 });
  for (let i = 0; i < 5; i++) feed.add(activity('joined', i, [], `u-${i}`));
  assert.deepEqual(
    feed.entries.map((e) => e.user),
    ['u-4', 'u-3', 'u-2'],
  );
});

test('rows are clickable, with a relative time', () => {
  const feed = new ActivityFeed();
  const row = feed.add(activity('changed', 0, ['a.md'], 'u-bob'))!;
  const [node] = activityNodes(feed, st, 5 * 60_000, l10n);
  assert.equal(node?.label, 'bob changed a.md in design-notes');
  assert.equal(node?.description, '5 min ago');
  assert.equal(node?.command?.command, 'sharedFolders.openActivity');
  assert.deepEqual(node?.command?.arguments, [{ kind: 'activity', entry: row.id }]);
  assert.equal(feed.entry(row.id), row);
});

test('relative times', () => {
  assert.equal(relativeTime(0, 10_000, l10n), 'just now');
  assert.equal(relativeTime(0, 90_000, l10n), '2 min ago');
  assert.equal(relativeTime(0, 3 * 3600_000, l10n), '3 h ago');
  assert.equal(relativeTime(0, 49 * 3600_000, l10n), '2 d ago');
  assert.equal(relativeTime(10_000, 0, l10n), 'just now', 'a clock a little ahead is not "in the future"');
});

test('conflict copies are left out of change rows; a change of copies only is no row', () => {
  const feed = new ActivityFeed();
  assert.equal(feed.add(activity('changed', 0, ['notes.conflict-bob-20261201-120000.md'], 'bob')), undefined);
  assert.deepEqual(feed.add(activity('changed', 1, ['a.md', 'notes.conflict-bob-20261201-120000.md'], 'bob'))?.paths, ['a.md']);
  assert.equal(feed.entries.length, 1);
});

test('a folder no longer shared reads by the name its entry kept, and says who stopped sharing it', () => {
  const feed = new ActivityFeed();
  const gone: ActivityView = { id: 'g1', at: 1_000, space: 'f'.repeat(32), kind: 'stopped', paths: [], user: 'alice', spaceName: 'docs' };
  feed.add(gone);
  feed.add({ ...gone, id: 'g2', at: 2_000, user: 'u-alice' });
  const [mine, theirs] = feed.entries;
  const asBob = status({ identity: { ...st.identity!, user: 'u-bob', name: 'bob' }, spaces: [] });
  assert.equal(activityText(theirs!, asBob, l10n), 'alice stopped sharing docs with you');
  assert.equal(activityText(mine!, status({ spaces: [] }), l10n), 'You stopped sharing docs');
  const nameless: ActivityView = { id: 'g3', at: 3_000, space: 'f'.repeat(32), kind: 'left', paths: [], user: 'bob' };
  feed.add(nameless);
  assert.equal(activityText(feed.entries[0]!, asBob, l10n), 'bob left ffffffff', 'without a kept name, the short id');
});
