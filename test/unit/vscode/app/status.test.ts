import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { Cancelled, EngineNotReady, UserFacingError, isEngineFailure, reportFor } from '../../../../src/vscode/app/errors';
import { defaultFolderRoot, freeFolderPath, invitationFolderName } from '../../../../src/vscode/folders/folder-location';
import { inviteFromUri, inviteLink, parseInviteInput } from '../../../../src/vscode/contacts/invite-link';
import { conflictSides, engineChoice } from '../../../../src/vscode/conflicts/conflict-sides';
import { englishLocalizer as l10n } from '../../../../src/vscode/app/localizer';
import { joinSpacePath, locateInSpaces } from '../../../../src/vscode/app/space-paths';
import { summarize } from '../../../../src/vscode/app/status-summary';
import { LONG_TRANSFER_BYTES, LONG_TRANSFER_MS, TransferTracker, formatBytes } from '../../../../src/vscode/app/transfer-tracker';
import { space, status } from '../fixtures';

const on = { trusted: true, hasIdentity: true };

test('status bar: the most pressing state wins', () => {
  const sum = (s: Parameters<typeof status>[0], extra = {}) => summarize({ ...on, status: status(s), ...extra }, l10n);
  assert.equal(sum({ spaces: [space('a', 'a')] }).text, '$(check) In sync');
  assert.equal(
    sum({
      spaces: [
        space('a', 'a', { state: { kind: 'syncing', files: 2, bytes: 1 } }),
        space('b', 'b', { state: { kind: 'syncing', files: 3, bytes: 1 } }),
      ],
    }).text,
    '$(sync~spin) Syncing 5 files',
  );
  const conflicts = sum({
    spaces: [space('a', 'a', { state: { kind: 'syncing', files: 2, bytes: 1 }, conflicts: [{ space: 'a', path: 'x', copy: 'y' }] })],
  });
  assert.equal(conflicts.text, '$(warning) 1 conflict');
  assert.equal(conflicts.kind, 'conflicts');
  assert.ok(conflicts.warning);
  assert.equal(
    sum({ connected: false, spaces: [space('a', 'a', { conflicts: [{ space: 'a', path: 'x', copy: 'y' }] })] }).text,
    '$(debug-disconnect) Offline',
  );
  assert.equal(sum({ spaces: [space('a', 'a', { state: { kind: 'error', message: 'marker missing' } })] }).tooltip, 'marker missing');
  assert.equal(sum({ spaces: [space('a', 'a', { state: { kind: 'paused', reason: 'massDelete' } })] }).kind, 'error');
  assert.equal(sum({ spaces: [space('a', 'a', { state: { kind: 'paused', reason: 'user' } })] }).kind, 'paused');
  assert.equal(sum({ spaces: [] }).kind, 'inSync');
  assert.equal(sum({ identity: undefined }).kind, 'notSetUp');
});

test('status bar before the engine answers, and in Restricted Mode', () => {
  assert.equal(summarize({ status: undefined, trusted: true, hasIdentity: true }, l10n).kind, 'starting');
  assert.equal(summarize({ status: undefined, trusted: true, hasIdentity: false }, l10n).kind, 'notSetUp');
  assert.equal(summarize({ status: status(), trusted: false, hasIdentity: true }, l10n).kind, 'restricted');
});

test('invite codes from a bare code, a link, or a pasted sentence', () => {
  const code = 'sf-invite-eyJzIjoid3M6Ly94In0';
  const link = inviteLink(code);
  assert.equal(link, `vscode://shared-folders.shared-folders/invite?code=${code}`);
  assert.equal(parseInviteInput(`  ${code}\n`), code);
  assert.equal(parseInviteInput(link), code);
  assert.equal(parseInviteInput(`${code}\n${link}`), code, 'what Invite Contact puts on the clipboard');
  assert.equal(parseInviteInput(`Hi! Here is my code: ${code} see you`), code);
  assert.equal(parseInviteInput(''), undefined);
  assert.equal(parseInviteInput('two words'), undefined);
  assert.equal(inviteFromUri('/invite', `code=${encodeURIComponent(code)}`), code);
  assert.equal(inviteFromUri('/other', `code=${code}`), undefined);
  assert.equal(inviteFromUri('/invite', ''), undefined);
});

test('where accepted folders land', () => {
  assert.equal(defaultFolderRoot('', '/home/a'), '/home/a/Shared Folders');
  assert.equal(defaultFolderRoot('~/sf', '/home/a'), '/home/a/sf');
  assert.equal(defaultFolderRoot('/data/sf', '/home/a'), '/data/sf');
  assert.equal(defaultFolderRoot('', 'C:\\Users\\a'), 'C:\\Users\\a\\Shared Folders');
  assert.equal(
    invitationFolderName({ space: 'abcdef123', kind: 'pair', role: 'editor', from: 'u-bob', members: [] }, 'bob/evil:name'),
    'bob_evil_name-abcdef',
  );
  assert.equal(
    invitationFolderName({ space: 'abcdef123', kind: 'pair', role: 'editor', from: 'u-bob', members: [], name: 'design-notes' }, 'bob'),
    'design-notes',
  );
  const taken = new Set(['/h/Shared Folders/notes', '/h/Shared Folders/notes (2)']);
  assert.equal(
    freeFolderPath('/h/Shared Folders', 'notes', (p) => taken.has(p)),
    '/h/Shared Folders/notes (3)',
  );
  assert.equal(
    freeFolderPath('/h/Shared Folders', 'todo', (p) => taken.has(p)),
    '/h/Shared Folders/todo',
  );
});

test('space paths: joining and finding the space of a file', () => {
  assert.equal(joinSpacePath('/h/notes/', 'a/b.md'), '/h/notes/a/b.md');
  assert.equal(joinSpacePath('C:\\h\\notes', 'a/b.md'), 'C:\\h\\notes\\a\\b.md');
  const spaces = [space('s1', 'notes', { path: '/h/notes' }), space('s2', 'inner', { path: '/h/notes-2' })];
  assert.equal(locateInSpaces('/h/notes/a/b.md', spaces)?.path, 'a/b.md');
  assert.equal(locateInSpaces('/h/notes-2/x', spaces)?.space.id, 's2');
  assert.equal(locateInSpaces('/h/notes', spaces)?.path, '');
  assert.equal(locateInSpaces('/h/other', spaces), undefined);
});

test('only long transfers are long: large, or running a while', () => {
  const t = new TransferTracker();
  const small = t.update({ space: 'a', files: 1, bytes: 10, totalBytes: 1000 }, 0);
  assert.ok(!t.isLong(small, 0));
  const later = t.update({ space: 'a', files: 1, bytes: 500, totalBytes: 1000 }, LONG_TRANSFER_MS);
  assert.equal(later.startedAt, 0);
  assert.ok(t.isLong(later, LONG_TRANSFER_MS));
  assert.equal(later.fraction, 0.5);
  const done = t.update({ space: 'a', files: 1, bytes: 1000, totalBytes: 1000 }, LONG_TRANSFER_MS + 1);
  assert.ok(done.done);
  assert.equal(t.active('a'), undefined);
  const big = t.update({ space: 'b', files: 9, bytes: 0, totalBytes: LONG_TRANSFER_BYTES }, 0);
  assert.ok(t.isLong(big, 0));
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(300 * 1024 * 1024), '300 MiB');
});

test("the command wrapper's messages for each kind of error", () => {
  assert.equal(reportFor(new Cancelled(), l10n), undefined);
  assert.deepEqual(reportFor(new UserFacingError('fix it'), l10n), { message: 'fix it', offerSetUp: false, severity: 'warning' });
  assert.equal(reportFor({ code: 'notSetUp', message: 'x' }, l10n)?.offerSetUp, true);
  assert.equal(reportFor({ code: 'server', message: 'no such user' }, l10n)?.message, 'The server could not do this: no such user');
  assert.equal(reportFor({ code: 'disk', message: 'EACCES' }, l10n)?.severity, 'error');
  assert.match(reportFor(new EngineNotReady('untrusted'), l10n)?.message ?? '', /Restricted Mode/);
  assert.match(reportFor(new Error('boom'), l10n)?.message ?? '', /boom/);
  assert.ok(isEngineFailure(Object.assign(new Error('m'), { code: 'crypto' })));
  assert.ok(isEngineFailure(Object.assign(new Error('m'), { code: 'notEmpty' })));
  assert.ok(!isEngineFailure(Object.assign(new Error('m'), { code: 'ENOENT' })));
});

test("conflict sides: when this user's edit lost, their version is in the copy and the choices turn around", () => {
  const lost = { space: 's', path: 'notes.md', copy: 'notes.conflict-bob-20261201-120000.md' };
  const bobSees = conflictSides(lost, 'bob');
  assert.deepEqual(bobSees, { copyIsMine: true, otherAuthor: undefined });
  assert.equal(engineChoice('keepMine', bobSees), 'theirs', "keeping bob's version means taking the copy");
  assert.equal(engineChoice('takeTheirs', bobSees), 'mine');
  assert.equal(engineChoice('keepBoth', bobSees), 'both');
  const aliceSees = conflictSides(lost, 'alice');
  assert.deepEqual(aliceSees, { copyIsMine: false, otherAuthor: 'bob' });
  assert.equal(engineChoice('keepMine', aliceSees), 'mine');
  assert.equal(engineChoice('takeTheirs', aliceSees), 'theirs');
  assert.equal(
    conflictSides({ ...lost, copy: 'notes.conflict-Zoë_S-20261201-120000.md' }, 'Zoë S').copyIsMine,
    true,
    'names are compared as the engine writes them',
  );
  assert.equal(conflictSides({ ...lost, copy: 'odd-name.md' }, 'bob').copyIsMine, false);
});
