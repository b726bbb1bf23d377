import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../../../src/sync/util/bytes';
import { spaceDocSigningBytes, type Role, type SpaceDoc, type SpaceKind } from '../../../../src/sync/protocol/rendezvous';
import { checkSpaceDoc, type SpaceDocSigner, type SpaceDocVerdict } from '../../../../src/sync/protocol/space-doc-chain';
import { generateDeviceKeys, publicDeviceOf, signWith, verifySignature, type DeviceKeys } from '../../../../src/node/crypto/device-keys';

// The pure rule, with the real Ed25519 check passed in as a device passes it.
const verify = (key: string, message: Uint8Array, signature: string): boolean => verifySignature(fromHex(key), message, fromHex(signature));

interface Member {
  readonly user: string;
  readonly keys: DeviceKeys;
  readonly device: string;
  readonly signer: SpaceDocSigner;
}

function member(n: number): Member {
  const keys = generateDeviceKeys();
  const user = String(n).repeat(32);
  const pub = publicDeviceOf(keys);
  return { user, keys, device: pub.id, signer: { user, signPublic: pub.signPublic } };
}

const alice = member(1);
const bob = member(2);
const carol = member(3);
const mallory = member(4);
const SPACE = 'a'.repeat(32);

function doc(by: Member, version: number, kind: SpaceKind, members: readonly [Member, Role][]): SpaceDoc {
  const unsigned = { id: SPACE, kind, version, members: members.map(([m, role]) => ({ user: m.user, role })), author: by.device };
  return { ...unsigned, signature: toHex(signWith(by.keys, spaceDocSigningBytes(unsigned))) };
}

function fault(verdict: SpaceDocVerdict): string {
  return verdict.ok ? 'ok' : verdict.fault;
}

test('a chain of versions each signed by a member who may make its change is accepted, version by version', () => {
  const v1 = doc(alice, 1, 'group', [
    [alice, 'owner'],
    [bob, 'editor'],
  ]);
  const v2 = doc(bob, 2, 'group', [
    [alice, 'owner'],
    [bob, 'editor'],
    [carol, 'reader'],
  ]);
  const v3 = doc(alice, 3, 'group', [
    [alice, 'owner'],
    [carol, 'editor'],
  ]);
  assert.equal(fault(checkSpaceDoc(undefined, v1, alice.signer, verify)), 'ok');
  assert.equal(fault(checkSpaceDoc(v1, v2, bob.signer, verify)), 'ok');
  assert.equal(fault(checkSpaceDoc(v2, v3, alice.signer, verify)), 'ok');
  assert.equal(fault(checkSpaceDoc(v3, v3, alice.signer, verify)), 'ok', 'the accepted version shown again');
});

test('a version whose signature does not verify with its author key is refused', () => {
  const v1 = doc(alice, 1, 'publish', [
    [alice, 'owner'],
    [bob, 'reader'],
  ]);
  const signed = doc(alice, 2, 'publish', [
    [alice, 'owner'],
    [bob, 'reader'],
  ]);
  const promoted: SpaceDoc = {
    ...signed,
    members: [
      { user: alice.user, role: 'owner' },
      { user: bob.user, role: 'editor' },
    ],
  };
  const verdict = checkSpaceDoc(v1, promoted, alice.signer, verify);
  assert.equal(fault(verdict), 'badSignature');
  assert.match(verdict.ok ? '' : verdict.reason, /signature does not verify/);
  // Signed by another key than the one the device trusts for the named author.
  const forged = doc(mallory, 2, 'publish', [
    [alice, 'owner'],
    [bob, 'editor'],
  ]);
  assert.equal(fault(checkSpaceDoc(v1, { ...forged, author: alice.device }, alice.signer, verify)), 'badSignature');
  assert.equal(fault(checkSpaceDoc(v1, forged, undefined, verify)), 'unknownAuthor', 'an author device this device does not trust');
});

test('a reader who promotes itself is refused, though it signed the version itself', () => {
  const v1 = doc(alice, 1, 'publish', [
    [alice, 'owner'],
    [bob, 'reader'],
  ]);
  const v2 = doc(bob, 2, 'publish', [
    [alice, 'owner'],
    [bob, 'editor'],
  ]);
  assert.equal(fault(checkSpaceDoc(v1, v2, bob.signer, verify)), 'notAllowed');
  // A reader of a group may not add anyone either.
  const g1 = doc(alice, 1, 'group', [
    [alice, 'owner'],
    [bob, 'reader'],
    [carol, 'editor'],
  ]);
  const g2 = doc(bob, 2, 'group', [
    [alice, 'owner'],
    [bob, 'reader'],
    [carol, 'editor'],
    [mallory, 'reader'],
  ]);
  assert.equal(fault(checkSpaceDoc(g1, g2, bob.signer, verify)), 'notAllowed');
});

test('a member added by a non-owner in a one-contact space is refused; the same add by a group editor is accepted', () => {
  const p1 = doc(alice, 1, 'pair', [
    [alice, 'owner'],
    [bob, 'editor'],
  ]);
  const p2 = doc(bob, 2, 'pair', [
    [alice, 'owner'],
    [bob, 'editor'],
    [mallory, 'editor'],
  ]);
  assert.equal(fault(checkSpaceDoc(p1, p2, bob.signer, verify)), 'notAllowed');
  const g1 = doc(alice, 1, 'group', [
    [alice, 'owner'],
    [bob, 'editor'],
    [carol, 'editor'],
  ]);
  const g2 = doc(bob, 2, 'group', [
    [alice, 'owner'],
    [bob, 'editor'],
    [carol, 'editor'],
    [mallory, 'editor'],
  ]);
  assert.equal(fault(checkSpaceDoc(g1, g2, bob.signer, verify)), 'ok');
  // ...but a group editor may not add an owner, nor change another member's role.
  const g2owner = doc(bob, 2, 'group', [
    [alice, 'owner'],
    [bob, 'editor'],
    [carol, 'editor'],
    [mallory, 'owner'],
  ]);
  assert.equal(fault(checkSpaceDoc(g1, g2owner, bob.signer, verify)), 'notAllowed');
  const g2demote = doc(bob, 2, 'group', [
    [alice, 'owner'],
    [bob, 'editor'],
    [carol, 'reader'],
  ]);
  assert.equal(fault(checkSpaceDoc(g1, g2demote, bob.signer, verify)), 'notAllowed');
});

test('an older version than the accepted one is a rollback; another version with the accepted number is a fork', () => {
  const v1 = doc(alice, 1, 'publish', [
    [alice, 'owner'],
    [bob, 'editor'],
  ]);
  const v2 = doc(alice, 2, 'publish', [
    [alice, 'owner'],
    [bob, 'reader'],
  ]);
  const verdict = checkSpaceDoc(v2, v1, alice.signer, verify);
  assert.equal(fault(verdict), 'rollback');
  assert.match(verdict.ok ? '' : verdict.reason, /version 1 is older than version 2/);
  const other = doc(alice, 2, 'publish', [
    [alice, 'owner'],
    [bob, 'editor'],
  ]);
  assert.equal(fault(checkSpaceDoc(v2, other, alice.signer, verify)), 'forked');
});

test('across versions this device never saw, the change is judged against the last accepted version', () => {
  const v1 = doc(alice, 1, 'group', [
    [alice, 'owner'],
    [bob, 'editor'],
    [carol, 'reader'],
  ]);
  // An owner may do anything, so a jump from version 1 to 4 by alice stands.
  const v4 = doc(alice, 4, 'group', [
    [alice, 'owner'],
    [carol, 'editor'],
  ]);
  assert.equal(fault(checkSpaceDoc(v1, v4, alice.signer, verify)), 'ok');
  // An editor's jump that adds a member stands; one that removes a member cannot be told from an editor removing it.
  const v3add = doc(bob, 3, 'group', [
    [alice, 'owner'],
    [bob, 'editor'],
    [carol, 'reader'],
    [mallory, 'reader'],
  ]);
  assert.equal(fault(checkSpaceDoc(v1, v3add, bob.signer, verify)), 'ok');
  const v3drop = doc(bob, 3, 'group', [
    [alice, 'owner'],
    [bob, 'editor'],
  ]);
  assert.equal(fault(checkSpaceDoc(v1, v3drop, bob.signer, verify)), 'notAllowed');
});

test('on first sight the author must hold a role that could have written the version', () => {
  const byOwner = doc(alice, 3, 'publish', [
    [alice, 'owner'],
    [bob, 'reader'],
  ]);
  assert.equal(fault(checkSpaceDoc(undefined, byOwner, alice.signer, verify)), 'ok');
  const byGroupEditor = doc(bob, 2, 'group', [
    [alice, 'owner'],
    [bob, 'editor'],
    [carol, 'reader'],
  ]);
  assert.equal(fault(checkSpaceDoc(undefined, byGroupEditor, bob.signer, verify)), 'ok');
  const byReader = doc(bob, 2, 'group', [
    [alice, 'owner'],
    [bob, 'reader'],
    [carol, 'reader'],
  ]);
  assert.equal(fault(checkSpaceDoc(undefined, byReader, bob.signer, verify)), 'notAllowed');
  const byPairEditor = doc(bob, 2, 'pair', [
    [alice, 'owner'],
    [bob, 'editor'],
  ]);
  assert.equal(fault(checkSpaceDoc(undefined, byPairEditor, bob.signer, verify)), 'notAllowed');
  const byOutsider = doc(mallory, 1, 'pair', [
    [alice, 'owner'],
    [bob, 'editor'],
  ]);
  assert.equal(fault(checkSpaceDoc(undefined, byOutsider, mallory.signer, verify)), 'notAllowed');
});
