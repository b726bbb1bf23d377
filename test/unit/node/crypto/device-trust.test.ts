import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { toHex } from '../../../../src/sync/util/bytes';
import type { AccountState, DeviceInfo, UserInfo } from '../../../../src/sync/protocol/rendezvous';
import { CodeError, decodeLink, encodeLink } from '../../../../src/node/agent/codes';
import { deviceIdOf, generateDeviceKeys, publicDeviceOf, type DeviceKeys } from '../../../../src/node/crypto/device-keys';
import { endorse, makeLinkGrant, trustedDevices, TrustPins } from '../../../../src/node/crypto/device-trust';

const USER = 'a'.repeat(32);

/** A device linked by `issuer` (with its keys) to `user`. */
function linked(issuer: DeviceKeys, user = USER): { keys: DeviceKeys; device: DeviceInfo } {
  const keys = generateDeviceKeys();
  const grant = makeLinkGrant(issuer, deviceIdOf(issuer), user);
  return { keys, device: { ...publicDeviceOf(keys), endorsement: endorse(grant, publicDeviceOf(keys)) } };
}

function ids(devices: readonly DeviceInfo[]): string[] {
  return devices.map((d) => d.id).sort();
}

test('trust: the first device, and devices endorsed through a chain of link codes back to it', () => {
  const rootKeys = generateDeviceKeys();
  const root = publicDeviceOf(rootKeys);
  const laptop = linked(rootKeys);
  const phone = linked(laptop.keys); // linked from the laptop, not from the first device
  const user: UserInfo = { id: USER, name: 'alice', devices: [phone.device, root, laptop.device] };
  assert.deepEqual(ids(trustedDevices(user, root.signPublic)), ids([root, laptop.device, phone.device]));
});

test('trust: a device the server slipped in, or one with a forged or misdirected endorsement, is left out', () => {
  const rootKeys = generateDeviceKeys();
  const root = publicDeviceOf(rootKeys);
  const injected = publicDeviceOf(generateDeviceKeys());
  const strangerKeys = generateDeviceKeys();
  const byStranger = linked(strangerKeys).device; // endorsed by a device that is not the user's
  const otherUser = linked(rootKeys, 'b'.repeat(32)).device; // a grant for another user
  const good = linked(rootKeys);
  const swapped: DeviceInfo = { ...good.device, agreePublic: toHex(generateDeviceKeys().agreePublic) }; // keys changed after signing
  const reused: DeviceInfo = { ...publicDeviceOf(generateDeviceKeys()), endorsement: good.device.endorsement! }; // another device's endorsement
  const user: UserInfo = {
    id: USER,
    name: 'alice',
    devices: [root, injected, byStranger, otherUser, swapped, reused, { ...publicDeviceOf(strangerKeys) }],
  };
  assert.deepEqual(ids(trustedDevices(user, root.signPublic)), [root.id]);
  // A root that is not the pinned one trusts nothing, and so nothing it endorsed.
  assert.deepEqual(trustedDevices({ ...user, devices: [root, good.device] }, injected.signPublic), []);
});

test('trust: endorsements that point at each other do not vouch for each other', () => {
  const aKeys = generateDeviceKeys();
  const bKeys = generateDeviceKeys();
  const a = { ...publicDeviceOf(aKeys), endorsement: endorse(makeLinkGrant(bKeys, deviceIdOf(bKeys), USER), publicDeviceOf(aKeys)) };
  const b = { ...publicDeviceOf(bKeys), endorsement: endorse(makeLinkGrant(aKeys, deviceIdOf(aKeys), USER), publicDeviceOf(bKeys)) };
  const root = publicDeviceOf(generateDeviceKeys());
  assert.deepEqual(ids(trustedDevices({ id: USER, name: 'x', devices: [a, b, root] }, root.signPublic)), [root.id]);
});

test('pins: a user seen first is pinned to its one first device; later, a second unendorsed device or a new root is not trusted', () => {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-pins-'));
  try {
    const pins = new TrustPins(nodePath.join(dir, 'pins.json'));
    const bobKeys = generateDeviceKeys();
    const bob = publicDeviceOf(bobKeys);
    const bobLaptop = linked(bobKeys, 'c'.repeat(32)).device;
    const me: UserInfo = { id: USER, name: 'me', devices: [publicDeviceOf(generateDeviceKeys())] };
    const state = (contact: UserInfo): AccountState => ({
      user: me,
      contacts: [{ ...contact, presence: 'online' }],
      spaces: [],
      online: [],
      vectors: [],
    });
    const bobUser: UserInfo = { id: 'c'.repeat(32), name: 'bob', devices: [bob, bobLaptop] };
    assert.deepEqual(ids(pins.filter(state(bobUser)).contacts[0]!.devices), ids([bob, bobLaptop]));
    assert.equal(pins.root(bobUser.id), bob.signPublic);
    assert.equal(pins.root(USER), me.devices[0]!.signPublic);
    // A fresh pins object reads the same file: the pin holds across restarts.
    const again = new TrustPins(nodePath.join(dir, 'pins.json'));
    const evil = publicDeviceOf(generateDeviceKeys());
    assert.deepEqual(ids(again.filter(state({ ...bobUser, devices: [bob, bobLaptop, evil] })).contacts[0]!.devices), ids([bob, bobLaptop]));
    assert.deepEqual(again.filter(state({ ...bobUser, devices: [evil] })).contacts[0]!.devices, []);
    // Two first devices for an unpinned user: which is real cannot be told, so neither is used.
    const carol: UserInfo = {
      id: 'd'.repeat(32),
      name: 'carol',
      devices: [publicDeviceOf(generateDeviceKeys()), publicDeviceOf(generateDeviceKeys())],
    };
    assert.deepEqual(again.filter(state(carol)).contacts[0]!.devices, []);
    assert.equal(again.root(carol.id), undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('link codes carry the grant whole, and a damaged one is refused with a clear error', () => {
  const keys = generateDeviceKeys();
  const grant = makeLinkGrant(keys, deviceIdOf(keys), USER);
  const code = {
    server: 'ws://127.0.0.1:7070',
    token: 'f'.repeat(32),
    user: USER,
    root: toHex(keys.signPublic),
    seed: grant.seed,
    by: grant.by,
    keySig: grant.keySig,
  };
  const back = decodeLink(encodeLink(code));
  assert.deepEqual({ ...back, seed: toHex(back.seed) }, { ...code, seed: toHex(code.seed) });
  const text = encodeLink(code);
  assert.throws(() => decodeLink(text.slice(0, -10)), CodeError);
  assert.throws(
    () => decodeLink('sf-link-' + Buffer.from(JSON.stringify({ s: code.server, t: code.token })).toString('base64url')),
    /damaged/,
  );
});
