import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import type { AccountState, SpaceInfo } from '../../../../src/sync/protocol/rendezvous';
import { ConflictCache } from '../../../../src/node/engine/conflict-cache';
import { encodeInvite } from '../../../../src/node/agent/codes';
import { DeviceHome } from '../../../../src/node/agent/device-home';
import { encodeDeviceKeys, generateDeviceKeys } from '../../../../src/node/crypto/device-keys';
import { toEngineError } from '../../../../src/node/engine/to-engine-error';
import { EngineError } from '../../../../src/node/engine/engine-error';
import { buildStatus, invitationsOf, syncState, type SpaceProgress } from '../../../../src/node/engine/engine-status';
import { membershipChanges } from '../../../../src/node/engine/membership-changes';
import { PendingInvites } from '../../../../src/node/agent/pending-invites';
import { ReportedOnce } from '../../../../src/node/engine/reported-once';
import { RendezvousError } from '../../../../src/sync/protocol/rendezvous';
import { StoreError } from '../../../../src/sync/ports/ports';
import { AccountError, FolderNotEmptyError } from '../../../../src/node/agent/account';
import { HomeError } from '../../../../src/node/agent/device-home';
import { CryptoError } from '../../../../src/node/crypto/device-keys';
import { ConnectError } from '../../../../src/node/net/connect-failure';

const ME = 'a'.repeat(32);
const BOB = 'b'.repeat(32);
const SPACE = 'c'.repeat(32);
const BOB_DEVICE = { id: 'd'.repeat(32), signPublic: '11'.repeat(32), agreePublic: '22'.repeat(32) };

function space(status: Record<string, 'invited' | 'joined' | 'declined' | 'left'>): SpaceInfo {
  return {
    doc: {
      id: SPACE,
      kind: 'pair',
      version: 1,
      members: [
        { user: BOB, role: 'owner' },
        { user: ME, role: 'editor' },
      ],
      author: BOB_DEVICE.id,
      signature: '00'.repeat(64),
    },
    status,
    users: [
      { id: BOB, name: 'bob', devices: [BOB_DEVICE] },
      { id: ME, name: 'alice', devices: [] },
    ],
  };
}

function state(spaces: SpaceInfo[]): AccountState {
  return {
    user: { id: ME, name: 'alice', devices: [] },
    contacts: [{ id: BOB, name: 'bob', devices: [BOB_DEVICE], presence: 'away' }],
    spaces,
    online: [],
    vectors: [],
  };
}

const local = { id: SPACE, path: '/x/notes' };
const progress =
  (p: Partial<SpaceProgress>): (() => SpaceProgress) =>
  () => ({ files: 0, bytes: 0, state: 'idle', behind: 0, ...p });
const parts = (over: Partial<Parameters<typeof syncState>[3]> = {}): Parameters<typeof syncState>[3] => ({
  connected: true,
  state: state([space({ [BOB]: 'joined', [ME]: 'joined' })]),
  progress: progress({}),
  folderExists: () => true,
  ...over,
});

test("sync state: the user's pause first, then offline, then the engine's own state, then transfers", () => {
  const info = space({ [BOB]: 'joined', [ME]: 'joined' });
  assert.deepEqual(syncState({ ...local, paused: true }, info, ME, parts({ connected: false })), { kind: 'paused', reason: 'user' });
  assert.deepEqual(syncState(local, info, ME, parts({ connected: false })), { kind: 'offline' });
  assert.deepEqual(syncState(local, info, ME, parts({ progress: progress({ state: 'paused' }) })), {
    kind: 'paused',
    reason: 'massDelete',
  });
  assert.equal(syncState(local, info, ME, parts({ progress: progress({ state: 'stopped' }) })).kind, 'error');
  assert.deepEqual(syncState(local, info, ME, parts({ progress: progress({ files: 3, bytes: 300, state: 'syncing' }) })), {
    kind: 'syncing',
    files: 3,
    bytes: 300,
  });
  assert.deepEqual(syncState(local, info, ME, parts({ progress: progress({ behind: 1 }) })), { kind: 'syncing', files: 0, bytes: 0 });
  assert.deepEqual(syncState(local, info, ME, parts()), { kind: 'inSync' });
  assert.match(
    (syncState(local, info, ME, parts({ progress: () => undefined, folderExists: () => false })) as { message: string }).message,
    /missing/,
  );
  assert.match((syncState(local, undefined, ME, parts()) as { message: string }).message, /no longer shared/);
});

test('invitations: spaces this user was invited to, with who shared them, the members by name and the folder name once its note came', () => {
  const invited = invitationsOf(state([space({ [BOB]: 'joined', [ME]: 'invited' })]), {});
  assert.deepEqual(invited, [{ space: SPACE, kind: 'pair', role: 'editor', from: 'bob', members: ['bob', 'alice'] }]);
  assert.deepEqual(
    invitationsOf(state([space({ [BOB]: 'joined', [ME]: 'invited' })]), { [SPACE]: 'design-notes' })[0]?.name,
    'design-notes',
  );
  assert.deepEqual(invitationsOf(state([space({ [BOB]: 'joined', [ME]: 'declined' })]), {}), []);
});

test('status: contacts with presence and fingerprints, members, conflicts and unseen per space', () => {
  const s = buildStatus({
    identity: undefined,
    state: state([space({ [BOB]: 'joined', [ME]: 'joined' })]),
    connected: true,
    agent: {
      user: { id: ME, name: 'alice' },
      device: 'e'.repeat(32),
      connected: true,
      spaces: [],
      conflicts: [{ space: SPACE, path: 'a.txt', copy: 'a.conflict-bob-20260101-000000.txt' }],
      errors: [],
      bytesSent: 5,
      bytesReceived: 7,
      peers: [],
      contacts: [{ id: BOB, name: 'bob', presence: 'away' }],
    },
    local: [local],
    names: {},
    progress: progress({}),
    folderExists: () => true,
    unseen: () => 4,
    pending: [],
  });
  assert.equal(s.contacts[0]!.presence, 'away');
  assert.match(s.contacts[0]!.fingerprints[0]!, /^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$/);
  const view = s.spaces[0]!;
  assert.deepEqual([view.name, view.role, view.unseen, view.conflicts.length], ['notes', 'editor', 4, 1]);
  assert.deepEqual(
    view.members.map((m) => `${m.name}:${m.role}:${m.status}:${m.presence}`),
    ['bob:owner:joined:away', 'alice:editor:joined:online'],
  );
  assert.deepEqual([s.bytesSent, s.bytesReceived], [5, 7]);
});

test('pending invites: opened codes are kept in the home until accepted or declined; junk is refused', () => {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-pending-'));
  try {
    const home = new DeviceHome(dir);
    const code = encodeInvite({ server: 'ws://127.0.0.1:1', token: 'f'.repeat(32), fingerprint: 'AAAA-BBBB-CCCC-DDDD' });
    new PendingInvites(home).open(` ${code} `);
    const again = new PendingInvites(home);
    assert.deepEqual(again.list(), [{ code, server: 'ws://127.0.0.1:1', fingerprint: 'AAAA-BBBB-CCCC-DDDD' }]);
    assert.throws(() => again.open('sf-invite-garbage'), /damaged/);
    assert.equal(again.remove(code), true);
    assert.deepEqual(new PendingInvites(home).list(), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a home can hold the identity without its keys, which the caller then supplies', () => {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-home-'));
  try {
    const home = new DeviceHome(dir);
    const keys = generateDeviceKeys();
    home.saveIdentity({ keys, server: 'ws://127.0.0.1:1', name: 'alice', user: ME }, { withKeys: false });
    assert.equal(home.keepsKeys, false);
    assert.ok(!fs.readFileSync(home.file('identity.json'), 'utf8').includes('Secret'));
    assert.throws(() => home.identity(), HomeError);
    assert.equal(encodeDeviceKeys(home.identity(keys).keys), encodeDeviceKeys(keys));
    home.saveIdentity({ keys, server: 'ws://127.0.0.1:1', name: 'alice' });
    assert.equal(home.keepsKeys, true);
    assert.equal(encodeDeviceKeys(home.identity().keys), encodeDeviceKeys(keys), 'as the CLI keeps them');
    home.putSpace({ id: SPACE, path: '/x' });
    home.setPaused(SPACE, true);
    assert.equal(home.spaces()[0]!.paused, true);
    home.setPaused(SPACE, false);
    assert.equal(home.spaces()[0]!.paused, undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('errors reach the extension as codes with one line of text', () => {
  assert.deepEqual(toEngineError(new AccountError('bob is not one of your contacts')), {
    code: 'usage',
    message: 'bob is not one of your contacts',
  });
  // The extension asks whether to merge, and retries, on this code alone.
  assert.deepEqual(toEngineError(new FolderNotEmptyError('/x/docs', '/x/docs already has files: add --merge')), {
    code: 'notEmpty',
    message: '/x/docs already has files: add --merge',
  });
  assert.equal(toEngineError(new HomeError('no identity')).code, 'notSetUp');
  assert.equal(toEngineError(new RendezvousError('badToken', 'the invite code is unknown')).code, 'server');
  assert.equal(toEngineError(new CryptoError('badKey', 'keys do not match')).code, 'crypto');
  assert.equal(toEngineError(new StoreError('noSpace', 'a.txt', 'a.txt: the disk is full')).code, 'disk');
  assert.equal(toEngineError(Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' })).code, 'disk');
  assert.equal(toEngineError(new EngineError('notSetUp', 'x')).code, 'notSetUp');
  assert.deepEqual(toEngineError(new TypeError('boom\n    at somewhere')), { code: 'internal', message: 'boom' });
  // A server that could not be reached says why, so the extension can offer the fix.
  assert.deepEqual(toEngineError(new ConnectError('refused', 'cannot reach the server at ws://x: connection refused')), {
    code: 'server',
    message: 'cannot reach the server at ws://x: connection refused',
    reason: 'refused',
  });
  assert.equal(toEngineError(new RendezvousError('badToken', 'unknown')).reason, undefined);
});

test('status while not connected: contacts and spaces as last known, nobody online, and why', () => {
  const local = { id: SPACE, path: '/x/notes' };
  const parts = {
    identity: undefined,
    state: state([space({ [BOB]: 'joined', [ME]: 'joined' })]),
    agent: {
      user: { id: ME, name: 'alice' },
      device: 'e'.repeat(32),
      connected: false,
      spaces: [],
      conflicts: [],
      errors: [],
      bytesSent: 0,
      bytesReceived: 0,
      peers: [],
      contacts: [{ id: BOB, name: 'bob', presence: 'online' as const }],
    },
    local: [local],
    names: {},
    progress: progress({}),
    folderExists: () => true,
    unseen: () => 0,
    pending: [],
    serverProblem: 'cannot reach the server at ws://x: connection refused',
  };
  const offline = buildStatus({ ...parts, connected: false });
  assert.deepEqual(
    offline.contacts.map((c) => [c.name, c.presence]),
    [['bob', 'offline']],
  );
  assert.equal(offline.serverProblem, 'cannot reach the server at ws://x: connection refused');
  assert.equal(offline.spaces[0]!.state.kind, 'offline');
  assert.equal(offline.spaces[0]!.members.find((m) => m.user === BOB)?.presence, 'offline');
  // Connected, the problem of an earlier attempt is not reported.
  const online = buildStatus({ ...parts, connected: true });
  assert.equal(online.serverProblem, undefined);
  assert.equal(online.contacts[0]!.presence, 'online');
});

test("conflict cache: a replica's conflicts are listed again only when its index moved on", () => {
  let listed = 0;
  const replica = {
    sequence: 5,
    conflicts: () => (listed++, [{ path: 'a', copyPath: 'a.conflict-bob-20260101-000000', user: 'bob', stamp: '20260101-000000' }]),
  };
  const cache = new ConflictCache(3000);
  const asReplica = replica as unknown as Parameters<ConflictCache['conflicts']>[1];
  cache.conflicts(SPACE, asReplica, 0);
  cache.conflicts(SPACE, asReplica, 1);
  assert.equal(listed, 1);
  replica.sequence = 6;
  assert.equal(cache.conflicts(SPACE, asReplica, 2).length, 1);
  assert.equal(listed, 2);
  cache.invalidate(SPACE);
  cache.conflicts(SPACE, asReplica, 3);
  assert.equal(listed, 3);
  // A large index that keeps changing is walked at most every few seconds.
  replica.sequence = 1_000_000;
  cache.conflicts(SPACE, asReplica, 10_000);
  assert.equal(listed, 4);
  replica.sequence = 1_000_001;
  cache.conflicts(SPACE, asReplica, 11_000);
  assert.equal(listed, 4);
  cache.conflicts(SPACE, asReplica, 20_000);
  assert.equal(listed, 5);
});

test('reported once: each key is news once, also across restarts; a key that went away and came back is news again', () => {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-reported-'));
  try {
    const file = nodePath.join(dir, 'reported.json');
    const first = new ReportedOnce(file);
    assert.deepEqual(first.fresh('invitations', ['s1', 's2']), ['s1', 's2']);
    assert.deepEqual(first.fresh('invitations', ['s1', 's2']), []);
    const restarted = new ReportedOnce(file);
    assert.deepEqual(restarted.fresh('invitations', ['s1', 's2', 's3']), ['s3']);
    assert.deepEqual(restarted.fresh('invitations', ['s3']), []);
    assert.deepEqual(restarted.fresh('invitations', ['s1', 's3']), ['s1']);
    assert.deepEqual(restarted.fresh('conflicts/x', ['s1']), ['s1'], 'groups are separate');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('membership changes: members joining, leaving, declining, invited or removed, and a space gone for this user', () => {
  const CAROL = 'e'.repeat(32);
  const withCarol = (status: Record<string, 'invited' | 'joined' | 'declined' | 'left'>, carol = true): SpaceInfo => {
    const base = space(status);
    return carol
      ? {
          ...base,
          doc: { ...base.doc, members: [...base.doc.members, { user: CAROL, role: 'editor' }] },
          users: [...base.users, { id: CAROL, name: 'carol', devices: [] }],
        }
      : base;
  };
  const before = state([withCarol({ [BOB]: 'joined', [ME]: 'joined', [CAROL]: 'invited' })]);
  const changes = (after: AccountState): string[] => membershipChanges(before, after).map((c) => `${c.kind}:${c.user ?? ''}`);
  assert.deepEqual(changes(state([withCarol({ [BOB]: 'joined', [ME]: 'joined', [CAROL]: 'joined' })])), ['joined:carol']);
  assert.deepEqual(changes(state([withCarol({ [BOB]: 'left', [ME]: 'joined', [CAROL]: 'declined' })])), ['left:bob', 'left:carol']);
  assert.deepEqual(
    changes(state([withCarol({ [BOB]: 'joined', [ME]: 'joined' }, false)])),
    [],
    'an invitee who never joined is not news when removed',
  );
  assert.deepEqual(changes(state([])), ['gone:bob'], 'gone, named after its owner');
  assert.deepEqual(
    changes(state([withCarol({ [BOB]: 'joined', [ME]: 'left', [CAROL]: 'invited' })])),
    [],
    'this user leaving is not news to itself',
  );
  const fresh = state([space({ [BOB]: 'joined', [ME]: 'joined' })]);
  assert.deepEqual(
    membershipChanges(fresh, state([withCarol({ [BOB]: 'joined', [ME]: 'joined', [CAROL]: 'invited' })])).map((c) => `${c.kind}:${c.user}`),
    ['invited:carol'],
  );
});
