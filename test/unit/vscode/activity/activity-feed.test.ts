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

test('the feed shows the engine’s entries newest first; an entry sent again replaces its row', () => {
  const feed = new ActivityFeed();
  const a = feed.add(activity('changed', 1_000, ['a.md'], 'u-bob'));
  feed.add(activity('joined', 2_000, [], 'u-carol'));
  feed.add({ ...a, at: 3_000, paths: ['b.md', 'a.md'], changedAt: [3_000, 1_000] });
  assert.deepEqual(
    feed.entries.map((e) => `${e.kind}:${e.paths.join(',')}`),
    ['changed:b.md,a.md', 'joined:'],
  );
  assert.equal(activityText(feed.entries[0]!, st, l10n), 'bob changed 2 files in design-notes');
  feed.add(activity('changed', 500, ['old.md'], 'u-bob'));
  assert.equal(feed.entries.at(-1)!.paths[0], 'old.md', 'history arriving late lands in time order');
});

test('unseen counts exactly the rows marked new', () => {
  const feed = new ActivityFeed();
  const a = feed.add(activity('changed', 0, ['a.md', 'b.md', 'c.md'], 'u-bob'));
  feed.add(activity('joined', 1, [], 'u-carol'));
  feed.add({ ...activity('error', 2, ['x']), seen: true });
  const marked = (): number => activityNodes(feed, st, 10, l10n).filter((n) => n.description?.startsWith('new')).length;
  assert.equal(feed.unseen, 2);
  assert.equal(marked(), 2);
  feed.add({ ...a, seen: true });
  assert.equal(feed.unseen, 1);
  assert.equal(marked(), 1);
});

test('a change to several files lists them as child rows in the entry’s order, each opening its own file', () => {
  const feed = new ActivityFeed();
  const row = feed.add({ ...activity('changed', 0, ['b.md', 'a.md'], 'u-bob'), changedAt: [0, 0] });
  const [node] = activityNodes(feed, st, 0, l10n);
  assert.equal(node?.command, undefined, 'the row expands');
  assert.deepEqual(
    node?.children?.map((c) => [c.label, c.command?.arguments]),
    [
      ['b.md', [{ kind: 'activity', entry: row.id, path: 'b.md' }]],
      ['a.md', [{ kind: 'activity', entry: row.id, path: 'a.md' }]],
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
  const text = (a: ActivityView): string => activityText(feed.add(a), st, l10n);
  assert.equal(text(activity('joined', 0, [], 'u-carol')), 'carol joined design-notes');
  assert.equal(text(activity('changed', 10, ['notes/a.md'], 'u-bob')), 'bob changed notes/a.md in design-notes');
  assert.equal(text(activity('conflict', 20, ['src/app.ts'])), 'conflict in src/app.ts');
  assert.equal(text(activity('conflict', 30, ['src/a.ts', 'src/b.ts'])), '2 conflicts in design-notes');
  assert.equal(text(activity('left', 40, [], 'u-bob')), 'bob left design-notes');
  assert.equal(text(activity('changed', 50, ['x', 'y'])), '2 files changed in design-notes');
  assert.equal(text(activity('error', 60, ['big.bin'])), 'sync error in big.bin');
  assert.equal(text(activity('merged', 65, ['notes.md'])), 'concurrent edits merged in notes.md');
  assert.equal(text(activity('merged', 66, ['notes.md', 'todo.md'])), 'concurrent edits merged in 2 files in design-notes');
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
  const row = feed.add(activity('changed', 0, ['a.md'], 'u-bob'));
  const [node] = activityNodes(feed, st, 5 * 60_000, l10n);
  assert.equal(node?.label, 'bob changed a.md in design-notes');
  assert.equal(node?.description, 'new · 5 min ago');
  feed.add({ ...row, seen: true });
  assert.equal(activityNodes(feed, st, 5 * 60_000, l10n)[0]?.description, '5 min ago');
  assert.equal(node?.command?.command, 'sharedFolders.openActivity');
  assert.deepEqual(node?.command?.arguments, [{ kind: 'activity', entry: row.id }]);
  assert.equal(feed.entry(row.id)?.seen, true);
});

test('relative times', () => {
  assert.equal(relativeTime(0, 10_000, l10n), 'just now');
  assert.equal(relativeTime(0, 90_000, l10n), '2 min ago');
  assert.equal(relativeTime(0, 3 * 3600_000, l10n), '3 h ago');
  assert.equal(relativeTime(0, 49 * 3600_000, l10n), '2 d ago');
  assert.equal(relativeTime(10_000, 0, l10n), 'just now', 'a clock a little ahead is not "in the future"');
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
