import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { planSession, type PeerAnnouncement } from '../../../../src/vscode/coedit/coedit-plan';
import { folderNodes } from '../../../../src/vscode/folders/folders-model';
import { latestEditorOf } from '../../../../src/vscode/coedit/follow-target';
import { englishLocalizer as l10n } from '../../../../src/vscode/app/localizer';
import { cursorMarks, safeColour } from '../../../../src/vscode/coedit/remote-cursor-marks';
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
      ['bob', 'member joined inFile'],
      ['carol', 'member joined'],
    ],
  );
  assert.match(rows[0]?.description ?? '', /in c\.md/);
});
