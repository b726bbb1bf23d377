import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { contactNodes, offlineMessage } from '../../../../src/vscode/contacts/contacts-model';
import { folderNodes, unseenCount } from '../../../../src/vscode/folders/folders-model';
import { englishLocalizer as l10n } from '../../../../src/vscode/app/localizer';
import { refOf, refOfKind } from '../../../../src/vscode/trees/tree-node';
import { ALICE, contact, member, space, status } from '../fixtures';

test('no identity: both trees are empty, so the welcome views show', () => {
  assert.deepEqual(contactNodes(undefined, l10n), []);
  assert.deepEqual(contactNodes(status({ identity: undefined }), l10n), []);
  assert.deepEqual(folderNodes(status({ identity: undefined, spaces: [space('s1', 'notes')] }), l10n), []);
});

test('contacts are sorted by name with a presence icon in theme colours and fingerprints in the tooltip', () => {
  const nodes = contactNodes(
    status({
      contacts: [
        contact('u-dave', 'dave', 'offline', ['D1', 'D2']),
        contact('u-bob', 'bob', 'online'),
        contact('u-carol', 'carol', 'away'),
      ],
    }),
    l10n,
  );
  assert.deepEqual(
    nodes.map((n) => n.label),
    ['bob', 'carol', 'dave'],
  );
  assert.deepEqual(
    nodes.map((n) => n.icon),
    [
      { id: 'circle-filled', color: 'charts.green' },
      { id: 'clock', color: 'charts.yellow' },
      { id: 'circle-outline', color: 'disabledForeground' },
    ],
  );
  assert.deepEqual(
    nodes.map((n) => n.description),
    ['online', 'away', 'offline'],
  );
  const dave = nodes[2];
  assert.ok(dave?.tooltip?.includes('D1') && dave.tooltip.includes('D2'), dave?.tooltip);
  assert.equal(dave?.contextValue, 'contact offline');
  assert.deepEqual(dave?.ref, { kind: 'contact', user: 'u-dave' });
});

test('pending contact requests come first, with their fingerprint', () => {
  const nodes = contactNodes(status({ pendingContacts: [{ code: 'sf-invite-x', server: 'ws://s', fingerprint: 'ZZ-99' }] }), l10n);
  assert.equal(nodes[0]?.contextValue, 'pendingContact');
  assert.match(nodes[0]?.label ?? '', /ZZ-99/);
  assert.match(nodes[0]?.tooltip ?? '', /ws:\/\/s/);
  assert.deepEqual(nodes[0]?.ref, { kind: 'pendingContact', code: 'sf-invite-x' });
  assert.equal(nodes.length, 3);
});

test('each sync state has its own description and icon', () => {
  const cases: Array<[Parameters<typeof space>[2], string, string]> = [
    [{ state: { kind: 'inSync' } }, 'in sync', 'check'],
    [{ state: { kind: 'syncing', files: 3, bytes: 10 } }, 'syncing 3 files', 'sync~spin'],
    [{ state: { kind: 'syncing', files: 1, bytes: 10 } }, 'syncing 1 file', 'sync~spin'],
    [{ state: { kind: 'offline' } }, 'offline', 'debug-disconnect'],
    [{ state: { kind: 'paused', reason: 'user' } }, 'paused', 'debug-pause'],
    [{ state: { kind: 'paused', reason: 'massDelete' } }, 'paused: many files deleted, check and resume', 'debug-pause'],
    [{ state: { kind: 'error', message: 'marker missing' } }, 'error: marker missing', 'error'],
  ];
  for (const [extra, description, icon] of cases) {
    const [node] = folderNodes(status({ spaces: [space('s1', 'notes', extra)] }), l10n);
    assert.equal(node?.description, description);
    assert.equal(node?.icon?.id, icon);
  }
});

test('a space lists conflicts (click resolves), errors and the other members; this user is not listed', () => {
  const s = space('s1', 'design-notes', {
    members: [
      member('u-alice', 'alice', { role: 'owner' }),
      member('u-carol', 'carol', { presence: 'away', activeFile: 'a.md' }),
      member('u-bob', 'bob', { presence: 'offline' }),
      member('u-eve', 'eve', { status: 'left' }),
      member('u-dan', 'dan', { status: 'invited', presence: 'offline' }),
    ],
    conflicts: [{ space: 's1', path: 'src/app.ts', copy: 'src/app.conflict-bob-20261201-120000.ts' }],
    errors: [{ path: 'big.bin', message: 'disk full' }],
  });
  const [node] = folderNodes(status({ spaces: [s] }), l10n);
  assert.ok(node);
  assert.equal(node.icon?.id, 'warning', 'conflicts outrank the sync state icon');
  assert.equal(node.description, 'in sync · 1 conflict');
  assert.equal(node.expanded, true);
  const children = node.children ?? [];
  assert.deepEqual(
    children.map((c) => c.label),
    ['src/app.ts', 'big.bin', 'bob', 'carol', 'dan'],
  );
  const conflict = children[0];
  assert.equal(conflict?.contextValue, 'conflict');
  assert.equal(conflict?.resourcePath, '/home/alice/design-notes/src/app.ts');
  assert.equal(conflict?.command?.command, 'sharedFolders.resolveConflict');
  assert.deepEqual(refOfKind(conflict?.command?.arguments?.[0], 'conflict'), {
    kind: 'conflict',
    space: 's1',
    path: 'src/app.ts',
    copy: 'src/app.conflict-bob-20261201-120000.ts',
  });
  assert.equal(conflict?.description, 'conflict with bob');
  assert.equal(children[1]?.contextValue, 'spaceError');
  const twice =
    folderNodes(
      status({
        spaces: [
          space('s1', 'n', {
            conflicts: [
              { space: 's1', path: 'a.md', copy: 'a.conflict-bob-20261201-120000.md' },
              { space: 's1', path: 'a.md', copy: 'a.conflict-carol-20261201-120500.md' },
            ],
          }),
        ],
      }),
      l10n,
    )[0]?.children ?? [];
  assert.equal(
    new Set(twice.filter((c) => c.contextValue === 'conflict').map((c) => c.id)).size,
    2,
    'two conflicts of one file are two rows with their own ids',
  );
  assert.equal(children[2]?.icon?.id, 'circle-outline');
  assert.equal(children[3]?.description, 'editor · away · in a.md');
  assert.equal(children[4]?.description, 'editor · invited');
});

test('an error of the space itself (no path: a member list this device refused) is a row named for it', () => {
  const message =
    'refused version 2 of its member list from the server: its author bob may not make this change to version 1; keeping version 1';
  const [node] = folderNodes(status({ spaces: [space('s1', 'notes', { errors: [{ path: '', message }] })] }), l10n);
  const row = node?.children?.find((c) => c.contextValue === 'spaceError');
  assert.equal(row?.label, 'member list');
  assert.equal(row?.description, message);
  assert.equal(row?.tooltip, message);
});

test('context values carry role and paused state for the menus', () => {
  const nodes = folderNodes(
    status({
      spaces: [space('s1', 'a'), space('s2', 'b', { role: 'reader', state: { kind: 'paused', reason: 'user' } })],
    }),
    l10n,
  );
  assert.equal(nodes[0]?.contextValue, 'space owner running writer');
  assert.equal(nodes[1]?.contextValue, 'space member paused reader');
  assert.match(nodes[1]?.description ?? '', /read-only/, "a reader's folder says so on its row");
  assert.doesNotMatch(nodes[0]?.description ?? '', /read-only/);
  const [waiting] = folderNodes(status({ spaces: [space('s3', 'c', { state: { kind: 'paused', reason: 'massDelete' } })] }), l10n);
  assert.equal(waiting?.contextValue, 'space owner paused writer massDelete', 'the menu offers Review Deleted Files');
});

test('invitations come first, named after who sent them', () => {
  const nodes = folderNodes(
    status({
      spaces: [space('s1', 'notes')],
      invitations: [{ space: 's9', kind: 'group', role: 'reader', from: 'bob', members: ['bob', 'carol', ALICE.user] }],
    }),
    l10n,
  );
  assert.equal(nodes[0]?.label, 'Folder from bob');
  assert.equal(nodes[0]?.description, 'invitation · reader');
  assert.match(nodes[0]?.tooltip ?? '', /bob, carol, alice/);
  assert.equal(nodes[0]?.contextValue, 'invitation');
  assert.equal(nodes[1]?.label, 'notes');
  const [named] = folderNodes(
    status({ invitations: [{ space: 's9', kind: 'pair', role: 'editor', from: 'bob', members: ['bob', ALICE.user], name: 'docs' }] }),
    l10n,
  );
  assert.equal(named?.description, "'docs' · invitation · editor", 'once the space note came, the row names the folder');
});

test('the badge counts unseen changes across spaces, and the space says how many are new', () => {
  const st = status({ spaces: [space('s1', 'a', { unseen: 2 }), space('s2', 'b', { unseen: 1 }), space('s3', 'c')] });
  assert.equal(unseenCount(st), 3);
  assert.equal(unseenCount(undefined), 0);
  const nodes = folderNodes(st, l10n);
  assert.equal(nodes[0]?.description, 'in sync · 2 new changes');
  assert.equal(nodes[1]?.description, 'in sync · 1 new change');
});

test('commands find their reference in a row, a bare reference, or nothing', () => {
  const [node] = contactNodes(status(), l10n);
  assert.deepEqual(refOf(node), { kind: 'contact', user: 'u-bob' });
  assert.deepEqual(refOf({ kind: 'space', space: 's1' }), { kind: 'space', space: 's1' });
  assert.equal(refOf(undefined), undefined);
  assert.equal(refOf('x'), undefined);
  assert.equal(refOfKind(node, 'space'), undefined);
});

test('offline: contacts stay, marked last known, under a line that says why', () => {
  const st = status({ connected: false, serverProblem: 'cannot reach the server at ws://x: connection refused' });
  const rows = contactNodes(st, l10n);
  assert.deepEqual(
    rows.map((r) => [r.label, r.description]),
    [
      ['bob', 'offline — last known'],
      ['carol', 'offline — last known'],
    ],
  );
  assert.equal(rows[0]?.icon?.id, 'debug-disconnect');
  assert.equal(
    offlineMessage(st, l10n),
    'The server is unreachable (cannot reach the server at ws://x: connection refused); retrying. Showing what is known.',
  );
  assert.equal(offlineMessage(status({ connected: false }), l10n), 'Not connected to the server; retrying. Showing what is known.');
  assert.equal(offlineMessage(status(), l10n), undefined);
});

test("a member's tooltip says whether this device reaches them directly or through the server", () => {
  const s = space('s1', 'notes', {
    members: [
      member('u-bob', 'bob', { path: 'direct' }),
      member('u-carol', 'carol', { path: 'relay' }),
      member('u-dan', 'dan', { presence: 'offline' }),
    ],
  });
  const children = folderNodes(status({ spaces: [s] }), l10n)[0]?.children ?? [];
  const tooltip = (name: string): string => String(children.find((c) => c.label === name)?.tooltip);
  assert.equal(tooltip('bob'), 'bob (editor) in notes\nConnected directly');
  assert.equal(tooltip('carol'), 'carol (editor) in notes\nConnected through the server');
  assert.equal(tooltip('dan'), 'dan (editor) in notes');
});
