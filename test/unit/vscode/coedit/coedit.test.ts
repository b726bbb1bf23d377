import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { planSession, type PeerAnnouncement } from '../../../../src/vscode/coedit/coedit-plan';
import { folderNodes } from '../../../../src/vscode/folders/folders-model';
import {
  cannotFollowText,
  followEndInStatus,
  followEndText,
  followersOf,
  followersText,
  latestEditorOf,
  type Followed,
} from '../../../../src/vscode/coedit/follow-target';
import type { ActiveEditorView, EngineStatus, MemberView } from '../../../../src/node/engine/engine-protocol';
import { englishLocalizer as l10n } from '../../../../src/vscode/app/localizer';
import { CursorActivity, cursorMarks, safeColour, type CursorMark } from '../../../../src/vscode/coedit/remote-cursor-marks';
import { member, space, status } from '../fixtures';

function peer(device: string, session: string, live = false, readOnly = false): PeerAnnouncement {
  return { device, session, live, readOnly };
}

test('co-editing plan: alone there is no session; equal saved texts seed the same one', () => {
  assert.deepEqual(planSession({ own: 'aa', peers: [], reader: false }), { kind: 'none' });
  assert.deepEqual(planSession({ own: 'aa', peers: [peer('d2', 'aa')], reader: false }), { kind: 'seed', session: 'aa' });
  assert.deepEqual(
    planSession({ own: 'aa', peers: [peer('d2', 'aa', true)], reader: false }),
    { kind: 'seed', session: 'aa' },
    'equal contents need no joiner',
  );
  // Unsaved edits into a live session: joined and merged, never seeded again (the members may have them already).
  assert.deepEqual(planSession({ own: 'aa', peers: [peer('d2', 'aa', true)], reader: false, dirty: true }), {
    kind: 'join',
    session: 'aa',
  });
  assert.deepEqual(
    planSession({ own: 'aa', peers: [peer('d2', 'aa')], reader: false, dirty: true }),
    { kind: 'seed', session: 'aa' },
    'nobody live: the edits go in with the seed',
  );
  assert.deepEqual(
    planSession({ own: 'aa', current: { session: 'aa', live: true }, peers: [], reader: false }),
    { kind: 'keep', session: 'aa' },
    'the last peer gone: kept for when it comes back',
  );
  assert.deepEqual(
    planSession({ own: 'aa', current: { session: 'aa', live: false }, peers: [], reader: false }),
    { kind: 'none' },
    'a joiner nobody answers gives up',
  );
});

test('co-editing plan: the smallest seed wins while nobody is live; a live session wins over any seed', () => {
  // Both devices compute the plan on their own and agree on one session.
  assert.deepEqual(planSession({ own: 'bb', peers: [peer('d1', 'aa')], reader: false }), { kind: 'join', session: 'aa' });
  assert.deepEqual(planSession({ own: 'aa', peers: [peer('d2', 'bb')], reader: false }), { kind: 'seed', session: 'aa' });
  assert.deepEqual(planSession({ own: 'aa', peers: [peer('d2', 'cc', true), peer('d3', 'aa')], reader: false }), {
    kind: 'join',
    session: 'cc',
  });
  // The joiner that announced the winner's name (not live yet) keeps to it.
  assert.deepEqual(planSession({ own: 'bb', current: { session: 'aa', live: false }, peers: [peer('d1', 'aa', true)], reader: false }), {
    kind: 'keep',
    session: 'aa',
  });
  // Two live groups meet: everybody ends in the smallest live one; a device in a session joins rather than seeds.
  assert.deepEqual(planSession({ own: 'aa', current: { session: 'dd', live: true }, peers: [peer('d2', 'cc', true)], reader: false }), {
    kind: 'join',
    session: 'cc',
  });
  assert.deepEqual(planSession({ own: 'aa', current: { session: 'cc', live: true }, peers: [peer('d2', 'dd', true)], reader: false }), {
    kind: 'keep',
    session: 'cc',
  });
});

test('co-editing plan: a session is joined only by a device whose saved file matches a member of it', () => {
  const withDisk = (device: string, session: string, live: boolean, disk: string): PeerAnnouncement => ({
    ...peer(device, session, live),
    disk,
  });
  // Both saved different versions while apart (replication will keep one as a conflict): neither
  // takes the other's text into its editor; each stays on its own file.
  assert.deepEqual(planSession({ own: 'bb', peers: [withDisk('d1', 'aa', true, 'aa')], reader: false }), { kind: 'none' });
  assert.deepEqual(planSession({ own: 'bb', peers: [withDisk('d1', 'aa', false, 'aa')], reader: false }), { kind: 'none' });
  assert.deepEqual(
    planSession({ own: 'bb', current: { session: 'bb', live: true }, peers: [withDisk('d1', 'aa', true, 'aa')], reader: false }),
    { kind: 'keep', session: 'bb' },
    'a smaller live session of another file does not pull this device over',
  );
  // A late joiner whose file is what a member saved joins the session, whatever its seed was.
  assert.deepEqual(planSession({ own: 'cc', peers: [withDisk('d1', 'aa', true, 'cc'), withDisk('d2', 'aa', true, 'aa')], reader: false }), {
    kind: 'join',
    session: 'aa',
  });
  // Unsaved edits over another file stay out too: they would be merged against the wrong base.
  assert.deepEqual(planSession({ own: 'bb', peers: [withDisk('d1', 'aa', true, 'aa')], reader: false, dirty: true }), { kind: 'none' });
});

test('co-editing plan: sessions only readers hold never count (their answers are dropped)', () => {
  assert.deepEqual(planSession({ own: 'bb', peers: [peer('r', 'aa', true, true)], reader: false }), { kind: 'seed', session: 'bb' });
  assert.deepEqual(
    planSession({ own: 'aa', peers: [peer('w', 'bb')], reader: true }),
    { kind: 'join', session: 'bb' },
    "a reader's own seed names nothing",
  );
  assert.deepEqual(planSession({ own: 'bb', peers: [peer('w', 'bb')], reader: true }), { kind: 'seed', session: 'bb' });
  assert.deepEqual(planSession({ own: 'aa', peers: [peer('r2', 'aa', true, true)], reader: true }), { kind: 'none' });
});

test('remote cursor marks: document offsets, selection ordered, no cursor left out, past-the-end clamped', () => {
  const crlf = (o: number): number => o * 2; // stands in for a converter
  const marks = cursorMarks(
    [
      { clientId: 1, user: { id: 'u-alice', name: 'alice', colour: '#e6194b' }, selection: { anchor: 5, head: 2 } },
      { clientId: 2, user: { id: 'u-bob', name: 'bob', colour: '#3cb44b' }, selection: undefined },
      { clientId: 3, user: { id: 'u-carol-long-id', name: '', colour: '#4363d8' }, selection: { anchor: 40, head: 40 } },
    ],
    crlf,
    20,
  );
  assert.deepEqual(marks, [
    { clientId: 1, name: 'alice', colour: '#e6194b', selection: { start: 4, end: 10 }, caret: 4 },
    { clientId: 3, name: 'u-carol-', colour: '#4363d8', caret: 20 },
  ]);
  assert.equal(safeColour('#abc'), '#abc');
  assert.equal(safeColour('red; background: url(x)'), '#808080', "a peer's colour never reaches a style unchecked");
});

test("Follow picks the user's latest editor of all their devices; member rows say when there is one to follow", () => {
  const views = [
    { device: 'd1', user: 'u-alice', name: 'alice', space: 's', path: 'a.md', top: 3, at: 10 },
    { device: 'd2', user: 'u-alice', name: 'alice', space: 's', path: 'b.md', top: 0, at: 20 },
    { device: 'd3', user: 'u-bob', name: 'bob', space: 's', path: 'c.md', top: 0, at: 30 },
  ];
  assert.equal(latestEditorOf(views, 'u-alice')?.path, 'b.md');
  assert.equal(latestEditorOf(views, 'u-carol'), undefined);
  const [node] = folderNodes(
    status({ spaces: [space('s', 'notes', { members: [member('u-bob', 'bob', { activeFile: 'c.md' }), member('u-carol', 'carol')] })] }),
    l10n,
  );
  const rows = node?.children ?? [];
  assert.deepEqual(
    rows.map((r) => [r.label, r.contextValue]),
    [
      ['bob', 'member joined inFile manageable'],
      ['carol', 'member joined manageable'],
    ],
  );
  assert.match(rows[0]?.description ?? '', /in c\.md/);
  // Only an owner may remove members or change roles (mayChangeSpace): a member's rows offer neither.
  const [asEditor] = folderNodes(status({ spaces: [space('s', 'notes', { role: 'editor', members: [member('u-bob', 'bob')] })] }), l10n);
  assert.deepEqual(
    (asEditor?.children ?? []).map((r) => r.contextValue),
    ['member joined'],
  );
});

test('Follow ends, with the reason, when the folder is unshared, the member leaves or goes offline', () => {
  const followed: Followed = { user: 'u-bob', name: 'bob', space: 's', folder: 'notes', path: 'a.md' };
  const withBob = (extra: Partial<MemberView>): EngineStatus =>
    status({ spaces: [space('s', 'notes', { members: [member('u-alice', 'alice', { role: 'owner' }), member('u-bob', 'bob', extra)] })] });
  assert.equal(followEndInStatus(withBob({}), followed), undefined, 'bob online in the folder: following goes on');
  assert.equal(followEndInStatus(undefined, followed), undefined, 'no status (the engine restarting) says nothing');
  assert.deepEqual(followEndInStatus(status({ spaces: [] }), followed), { kind: 'unshared' });
  assert.deepEqual(followEndInStatus(status({ spaces: [space('s', 'notes', { role: undefined })] }), followed), { kind: 'unshared' });
  assert.deepEqual(followEndInStatus(withBob({ status: 'left' }), followed), { kind: 'left' });
  assert.deepEqual(followEndInStatus(status({ spaces: [space('s', 'notes', { members: [] })] }), followed), { kind: 'left' });
  assert.deepEqual(followEndInStatus(withBob({ presence: 'offline' }), followed), { kind: 'offline' });
  assert.equal(followEndText({ kind: 'unshared' }, followed, l10n), "Stopped following bob: 'notes' is no longer shared with you.");
  assert.equal(followEndText({ kind: 'left' }, followed, l10n), "Stopped following bob: they left 'notes'.");
  assert.equal(followEndText({ kind: 'offline' }, followed, l10n), 'Stopped following bob: they went offline.');
  assert.equal(followEndText({ kind: 'closed' }, followed, l10n), 'Stopped following bob: they closed a.md.');
  const { path: _path, ...nowhere } = followed;
  assert.equal(followEndText({ kind: 'closed' }, nowhere, l10n), 'Stopped following bob: they have no file of a shared folder open.');
  assert.equal(cannotFollowText({ kind: 'offline' }, followed, l10n), 'bob is offline: there is nothing to follow.');
});

test('followers: the devices whose latest notice follows this user, by name', () => {
  const views: ActiveEditorView[] = [
    { device: 'b1', user: 'u-bob', name: 'bob', space: 's', path: 'a.md', following: 'u-alice' },
    { device: 'b2', user: 'u-bob', name: 'bob', space: 's', following: 'u-alice' },
    { device: 'c1', user: 'u-carol', name: 'carol', space: 's', path: 'a.md', following: 'u-dave' },
    { device: 'd1', user: 'u-dave', name: 'dave', space: 's', path: 'a.md' },
  ];
  assert.deepEqual(followersOf(views, 'u-alice'), ['bob'], "bob's two devices are one follower; carol follows someone else");
  assert.deepEqual(followersOf(views, 'u-dave'), ['carol']);
  assert.deepEqual(followersOf(views, 'u-erin'), []);
  assert.equal(followersText([], l10n), undefined);
  assert.equal(followersText(['bob'], l10n), 'bob is following you');
  assert.equal(followersText(['bob', 'carol'], l10n), 'bob and carol are following you');
  assert.equal(followersText(['bob', 'carol', 'dave'], l10n), '3 people are following you');
});

test('remote cursor names show while the member moves, and fade after NAME_SHOWN_MS', () => {
  const activity = new CursorActivity(3_000);
  const mark = (clientId: number, caret: number): CursorMark => ({ clientId, name: `m${clientId}`, colour: '#123456', caret });
  let seen = activity.update([mark(1, 5), mark(2, 9)], 1_000);
  assert.deepEqual([...seen.named], [1, 2], 'cursors seen for the first time are named');
  assert.equal(seen.hideAt, 4_000);
  seen = activity.update([mark(1, 5), mark(2, 10)], 3_000);
  assert.deepEqual([...seen.named], [1, 2]);
  assert.equal(seen.hideAt, 4_000, 'the first name due to hide decides the next redraw');
  seen = activity.update([mark(1, 5), mark(2, 10)], 4_000);
  assert.deepEqual([...seen.named], [2], 'member 1 stood still for 3 s: only the caret shows');
  assert.equal(seen.hideAt, 6_000);
  seen = activity.update([mark(1, 5), mark(2, 10)], 6_500);
  assert.deepEqual([...seen.named], []);
  assert.equal(seen.hideAt, undefined);
  seen = activity.update([{ ...mark(1, 5), selection: { start: 5, end: 8 } }], 7_000);
  assert.deepEqual([...seen.named], [1], 'a new selection is activity too');
  seen = activity.update([mark(2, 10)], 7_100);
  assert.deepEqual([...seen.named], [2], 'a member who went and came back is named again');
});
