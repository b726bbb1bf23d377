import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { deviceIdOf, generateDeviceKeys } from '../../../../src/node/crypto/device-keys';
import {
  ANNOUNCEMENT_BYTES,
  ANNOUNCEMENT_MAX_SKEW_MS,
  encodeAnnouncement,
  verifyAnnouncement,
} from '../../../../src/node/net/lan-announcement';
import { broadcastAddresses, listenAddresses } from '../../../../src/node/net/lan-discovery';

const alice = generateDeviceKeys();
const aliceId = deviceIdOf(alice);
const mallory = generateDeviceKeys();
const NOW = 1_800_000_000_000;
const knowsAlice = (id: string): typeof alice | undefined => (id === aliceId ? alice : undefined);

test('an announcement from a known device, signed by its key, is read back', () => {
  const datagram = encodeAnnouncement(alice, aliceId, 40123, NOW);
  assert.equal(datagram.length, ANNOUNCEMENT_BYTES);
  assert.deepEqual(verifyAnnouncement(datagram, knowsAlice, NOW + 1000), { device: aliceId, port: 40123, at: NOW });
});

test('any changed byte, an unknown device, a foreign signature, a stale time or a wrong size is ignored', () => {
  const datagram = encodeAnnouncement(alice, aliceId, 40123, NOW);
  for (let i = 0; i < datagram.length; i++) {
    const changed = datagram.slice();
    changed[i]! ^= 1;
    assert.equal(verifyAnnouncement(changed, knowsAlice, NOW), undefined, `byte ${i} changed`);
  }
  assert.equal(
    verifyAnnouncement(datagram, () => undefined, NOW),
    undefined,
    'unknown device',
  );
  assert.equal(verifyAnnouncement(encodeAnnouncement(mallory, aliceId, 40123, NOW), knowsAlice, NOW), undefined, "mallory's signature");
  assert.equal(verifyAnnouncement(datagram, knowsAlice, NOW + ANNOUNCEMENT_MAX_SKEW_MS + 1), undefined, 'too old');
  assert.equal(verifyAnnouncement(datagram, knowsAlice, NOW - ANNOUNCEMENT_MAX_SKEW_MS - 1), undefined, 'from the future');
  assert.equal(verifyAnnouncement(datagram.subarray(1), knowsAlice, NOW), undefined, 'truncated');
  assert.equal(verifyAnnouncement(new Uint8Array(ANNOUNCEMENT_BYTES), knowsAlice, NOW), undefined, 'zeros');
  assert.equal(verifyAnnouncement(encodeAnnouncement(alice, aliceId, 0, NOW), knowsAlice, NOW), undefined, 'port 0');
});

test('a loopback listen address broadcasts nowhere and announces only itself', () => {
  assert.deepEqual(broadcastAddresses('127.0.0.1'), []);
  assert.deepEqual(listenAddresses('127.0.0.1'), ['127.0.0.1']);
  for (const address of broadcastAddresses('0.0.0.0')) assert.match(address, /^\d+\.\d+\.\d+\.\d+$/);
});
