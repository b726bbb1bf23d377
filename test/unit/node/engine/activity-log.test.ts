import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { ActivityLog, KEEP } from '../../../../src/node/engine/activity-log';
import type { ActivityView } from '../../../../src/node/engine/engine-protocol';

const SPACE = 's'.repeat(32);

/** A log on a hand-driven clock, with every emitted entry recorded. */
function setup(groupWithinMs = 60_000): { log: ActivityLog; sent: ActivityView[]; clock: { now: number } } {
  const clock = { now: 1_000_000 };
  const sent: ActivityView[] = [];
  const log = new ActivityLog(
    (a) => sent.push(a),
    groupWithinMs,
    () => clock.now,
  );
  return { log, sent, clock };
}

function memoryStore(): { store: { load: () => unknown; save: (v: unknown) => void }; saved: () => unknown; put: (v: unknown) => void } {
  let saved: unknown = [];
  return {
    store: { load: () => saved, save: (v) => void (saved = JSON.parse(JSON.stringify(v))) },
    saved: () => saved,
    put: (v) => void (saved = v),
  };
}

test('activity: changes by one author within the window grow one entry, most recent file first, sent again with its id', () => {
  const { log, sent, clock } = setup();
  log.changed(SPACE, 'bob', ['a.md']);
  clock.now += 3_000;
  log.changed(SPACE, 'bob', ['b.md']);
  clock.now += 3_000;
  log.changed(SPACE, 'bob', ['a.md']);
  const entries = log.recentActivity();
  assert.equal(entries.length, 1);
  assert.deepEqual(entries[0]!.paths, ['a.md', 'b.md']);
  assert.deepEqual(entries[0]!.changedAt, [1_006_000, 1_003_000]);
  assert.equal(entries[0]!.at, 1_006_000);
  assert.equal(sent.length, 3, 'each change is sent at once');
  assert.equal(new Set(sent.map((a) => a.id)).size, 1, 'as the same entry');
  assert.equal(log.unseen(SPACE), 1);
});

test('activity: a change more than the window after the last one is an entry of its own; so is another author, space or a seen entry', () => {
  const { log, clock } = setup(60_000);
  log.changed(SPACE, 'bob', ['a.md']);
  clock.now += 59_000;
  log.changed(SPACE, 'bob', ['b.md']);
  clock.now += 61_000;
  log.changed(SPACE, 'bob', ['c.md']);
  log.changed(SPACE, 'carol', ['d.md']);
  log.changed('other', 'bob', ['e.md']);
  log.markSeen(SPACE, log.recentActivity()[1]!.id);
  log.changed(SPACE, 'bob', ['f.md']);
  assert.deepEqual(
    log.recentActivity().map((a) => `${a.user}:${a.space === SPACE ? 's' : 'o'}:${a.paths.join(',')}${a.seen ? ':seen' : ''}`),
    ['bob:s:b.md,a.md', 'bob:s:c.md:seen', 'carol:s:d.md', 'bob:o:e.md', 'bob:s:f.md'],
  );
  assert.equal(log.unseen(SPACE), 3);
});

test('activity: the window can be changed while running', () => {
  const { log, clock } = setup(60_000);
  log.groupWithin(5_000);
  log.changed(SPACE, 'bob', ['a.md']);
  clock.now += 6_000;
  log.changed(SPACE, 'bob', ['b.md']);
  assert.equal(log.recentActivity().length, 2);
  log.groupWithin(-1);
  clock.now += 4_000;
  log.changed(SPACE, 'bob', ['c.md']);
  assert.equal(log.recentActivity().length, 2, 'a negative window is refused; 5 s still holds');
});

test('activity: unseen counts the entries not seen, whatever their size; errors are never news; markSeen sends each entry again', () => {
  const { log, sent } = setup();
  log.changed(SPACE, 'bob', ['a.md', 'b.md', 'c.md']);
  log.add('joined', SPACE, [], 'carol');
  log.add('conflict', SPACE, ['x.md'], 'bob');
  log.add('error', SPACE, ['big.bin']);
  assert.equal(log.unseen(SPACE), 3);
  assert.equal(log.recentActivity().filter((a) => a.seen !== true).length, 3, 'the same entries the view marks new');
  const joined = log.recentActivity()[1]!;
  sent.length = 0;
  log.markSeen(SPACE, joined.id);
  assert.equal(log.unseen(SPACE), 2);
  assert.deepEqual(
    sent.map((a) => [a.id, a.seen]),
    [[joined.id, true]],
  );
  log.markSeen(SPACE);
  assert.equal(log.unseen(SPACE), 0);
  assert.equal(sent.length, 3);
  log.markSeen(SPACE);
  assert.equal(sent.length, 3, 'nothing left to send');
});

test('activity: conflict copies are left out of changes; a change of copies only is no entry', () => {
  const { log } = setup();
  log.changed(SPACE, 'bob', ['notes.conflict-bob-20261201-120000.md']);
  assert.equal(log.recentActivity().length, 0);
  log.changed(SPACE, 'bob', ['a.md', 'notes.conflict-bob-20261201-120000.md']);
  assert.deepEqual(log.recentActivity()[0]!.paths, ['a.md']);
  assert.equal(log.unseen(SPACE), 1);
});

test('activity: the version a change replaced is known per path, from the entry’s first change to it', () => {
  const { log, clock } = setup();
  log.changed(SPACE, 'bob', ['a.md', 'new.md'], (p) => (p === 'a.md' ? { notedAt: clock.now, inode: 7 } : null));
  const id = log.recentActivity()[0]!.id;
  clock.now += 1_000;
  log.changed(SPACE, 'bob', ['a.md', 'b.md'], () => ({ notedAt: clock.now, inode: 9 }));
  assert.deepEqual(log.priorVersion(id, 'a.md'), { notedAt: 1_000_000, inode: 7 });
  assert.equal(log.priorVersion(id, 'new.md'), null);
  assert.deepEqual(log.priorVersion(id, 'b.md'), { notedAt: 1_001_000, inode: 9 });
  assert.equal(log.priorVersion(id, 'other.md'), undefined);
  assert.equal(log.priorVersion('nope', 'a.md'), undefined);
});

test('activity: entries, seen flags and prior versions are kept where the log is told, and come back', () => {
  const { store, saved } = memoryStore();
  const { log } = setup();
  log.keepRecentIn(store);
  log.changed(SPACE, 'bob', ['a.md'], () => ({ notedAt: 5, inode: 3 }));
  log.add('joined', SPACE, [], 'carol');
  log.add('invited', SPACE, [], 'alice', { invitedMe: true });
  log.markSeen(SPACE, log.recentActivity()[1]!.id);
  const again = new ActivityLog(() => undefined);
  again.keepRecentIn(store);
  assert.deepEqual(
    again.recentActivity().map((a) => [a.kind, a.user, a.seen, a.invitedMe]),
    [
      ['changed', 'bob', undefined, undefined],
      ['joined', 'carol', true, undefined],
      ['invited', 'alice', undefined, true],
    ],
  );
  assert.equal(again.unseen(SPACE), 2);
  assert.deepEqual(again.priorVersion(again.recentActivity()[0]!.id, 'a.md'), { notedAt: 5, inode: 3 });
  assert.equal((saved() as { version: number }).version, 2);
});

test('activity: a list kept by an older version comes back seen, so an upgrade brings no badge of old news', () => {
  const { store, put } = memoryStore();
  put([{ id: 'x', at: 1, space: SPACE, kind: 'joined', paths: [], user: 'bob' }]);
  const log = new ActivityLog(() => undefined);
  log.keepRecentIn(store);
  assert.equal(log.recentActivity().length, 1);
  assert.equal(log.unseen(SPACE), 0);
});

test('activity: the last KEEP entries are kept, oldest first; damaged entries are dropped on load', () => {
  const { store, put, saved } = memoryStore();
  const { log } = setup();
  log.keepRecentIn(store);
  for (let i = 0; i < KEEP + 5; i++) log.add('conflict', SPACE, [`f${i}.txt`], 'bob');
  assert.equal(log.unseen(SPACE), KEEP, 'an entry no longer kept is no longer counted');
  const again = new ActivityLog(() => undefined);
  again.keepRecentIn(store);
  const recent = again.recentActivity();
  assert.equal(recent.length, KEEP);
  assert.deepEqual([recent[0]!.paths, recent[KEEP - 1]!.paths], [['f5.txt'], [`f${KEEP + 4}.txt`]]);
  const entries = (saved() as { entries: unknown[] }).entries;
  put({
    version: 2,
    entries: [
      entries[0],
      { view: { id: 'x', at: 'soon', space: SPACE, kind: 'changed', paths: [] }, prior: {} },
      { view: { ...(entries[1] as { view: object }).view, kind: 'exploded' }, prior: {} },
      { view: (entries[1] as { view: object }).view, prior: { 'a.md': { notedAt: 'x' } } },
      null,
      entries[2],
    ],
  });
  const damaged = new ActivityLog(() => undefined);
  damaged.keepRecentIn(store);
  assert.deepEqual(
    damaged.recentActivity().map((a) => a.paths[0]),
    ['f5.txt', 'f7.txt'],
  );
  put({ not: 'a list' });
  const junk = new ActivityLog(() => undefined);
  junk.keepRecentIn(store);
  assert.equal(junk.recentActivity().length, 0);
});

test('activity: each entry names its folder as it was, so a space that is gone (unshared) still reads by name', () => {
  const { store } = memoryStore();
  const names = new Map([[SPACE, 'docs']]);
  const feed = new ActivityLog(() => undefined);
  feed.nameOf = (space) => names.get(space);
  feed.keepRecentIn(store);
  feed.add('stopped', SPACE, [], 'alice');
  names.clear();
  feed.add('left', 'f'.repeat(32), [], 'bob');
  const again = new ActivityLog(() => undefined);
  again.keepRecentIn(store);
  assert.deepEqual(
    again.recentActivity().map((a) => [a.kind, a.spaceName]),
    [
      ['stopped', 'docs'],
      ['left', undefined],
    ],
  );
});
