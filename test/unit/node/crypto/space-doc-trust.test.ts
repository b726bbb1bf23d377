import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { toHex } from '../../../../src/sync/util/bytes';
import { spaceDocSigningBytes, type AccountState, type Role, type SpaceDoc, type UserInfo } from '../../../../src/sync/protocol/rendezvous';
import { DeviceHome } from '../../../../src/node/agent/device-home';
import { generateDeviceKeys, publicDeviceOf, signWith, type DeviceKeys } from '../../../../src/node/crypto/device-keys';
import { spaceDocRefusals, SpaceDocTrust } from '../../../../src/node/crypto/space-doc-trust';

const SPACE = 'c'.repeat(32);

function user(n: number, name: string): { info: UserInfo; keys: DeviceKeys } {
  const keys = generateDeviceKeys();
  return { keys, info: { id: String(n).repeat(32), name, devices: [publicDeviceOf(keys)] } };
}

const alice = user(1, 'alice');
const bob = user(2, 'bob');

function doc(by: { info: UserInfo; keys: DeviceKeys }, version: number, bobRole: Role): SpaceDoc {
  const unsigned = {
    id: SPACE,
    kind: 'publish' as const,
    version,
    members: [
      { user: alice.info.id, role: 'owner' as const },
      { user: bob.info.id, role: bobRole },
    ],
    author: by.info.devices[0]!.id,
  };
  return { ...unsigned, signature: toHex(signWith(by.keys, spaceDocSigningBytes(unsigned))) };
}

/** bob's device's view: the state the server sends with `d` as the space's document. */
function state(d: SpaceDoc): AccountState {
  return {
    user: bob.info,
    contacts: [{ ...alice.info, presence: 'online' }],
    spaces: [{ doc: d, status: { [alice.info.id]: 'joined', [bob.info.id]: 'joined' }, users: [alice.info, bob.info] }],
    online: [],
    vectors: [],
  };
}

function tempHome(): DeviceHome {
  return new DeviceHome(fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-space-docs-')));
}

test('space docs: a refused version leaves the accepted one in the state, is logged once and listed until a good one comes', () => {
  const home = tempHome();
  const logged: string[] = [];
  const trust = new SpaceDocTrust(home, (m) => logged.push(m));
  const v1 = doc(alice, 1, 'reader');
  assert.deepEqual(trust.filter(state(v1)).spaces[0]!.doc, v1);
  const promoted = doc(bob, 2, 'editor');
  for (let i = 0; i < 3; i++) assert.deepEqual(trust.filter(state(promoted)).spaces[0]!.doc, v1);
  assert.deepEqual(logged, [
    `space ${SPACE}: refused version 2 of its member list from the server: its author bob may not make this change to version 1; keeping version 1`,
  ]);
  assert.deepEqual(
    spaceDocRefusals(home).map((r) => [r.space, r.version, r.fault]),
    [[SPACE, 2, 'notAllowed']],
  );
  const v2 = doc(alice, 2, 'editor');
  assert.deepEqual(trust.filter(state(v2)).spaces[0]!.doc, v2);
  assert.deepEqual(spaceDocRefusals(home), []);
});

test('space docs: the accepted version outlives the filter, so an older one is refused by the next process of the home', () => {
  const home = tempHome();
  new SpaceDocTrust(home).filter(state(doc(alice, 2, 'reader')));
  const v1 = doc(alice, 1, 'editor');
  const seen = new SpaceDocTrust(home).filter(state(v1)).spaces[0]!.doc;
  assert.equal(seen.version, 2);
  assert.equal(spaceDocRefusals(home)[0]?.fault, 'rollback');
});

test('space docs: a space first seen with a version its author could not have written is left out', () => {
  const home = tempHome();
  assert.deepEqual(new SpaceDocTrust(home).filter(state(doc(bob, 1, 'editor'))).spaces, []);
  const malformed = { ...doc(alice, 1, 'reader'), members: [] };
  assert.deepEqual(new SpaceDocTrust(home).filter(state(malformed)).spaces, []);
  assert.equal(spaceDocRefusals(home)[0]?.fault, 'malformed');
});
