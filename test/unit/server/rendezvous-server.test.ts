import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import type { Endorsement } from '../../../src/sync/protocol/rendezvous';
import { deviceIdOf, generateDeviceKeys, publicDeviceOf, type DeviceKeys } from '../../../src/node/crypto/device-keys';
import { endorse, makeLinkGrant } from '../../../src/node/crypto/device-trust';
import { RendezvousClient } from '../../../src/node/net/rendezvous-client';
import { RendezvousServer } from '../../../src/server/rendezvous-server';

async function withServer(run: (server: RendezvousServer) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-server-'));
  const server = await RendezvousServer.start({ port: 0, dataDir: dir, log: () => undefined });
  try {
    await run(server);
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), what);
}

test('a device signing in again replaces its old session, and the counts stay right', async () => {
  await withServer(async (server) => {
    const keys = generateDeviceKeys();
    const first = new RendezvousClient({ url: server.url, keys, join: { name: 'alice' } });
    await first.connect();
    let firstClosed = '';
    first.on('disconnected', (reason) => (firstClosed = reason));
    const second = new RendezvousClient({ url: server.url, keys });
    await second.connect();
    await until('the first session to be closed', () => firstClosed !== '');
    assert.match(firstClosed, /^4003/);
    await until('one connection left', () => server.metrics.connections === 1);
    assert.equal(server.metrics.authenticated, 1);
    // A command connection of the same device does not displace the session.
    const command = new RendezvousClient({ url: server.url, keys, mode: 'command' });
    await command.connect();
    await command.close();
    assert.ok(second.connected);
    await second.close();
    await until('no connections', () => server.metrics.connections === 0 && server.metrics.authenticated === 0);
  });
});

test('relay only reaches contacts: a frame to a stranger closes the sender, a contact gets it', async () => {
  await withServer(async (server) => {
    const [a, b, c] = [generateDeviceKeys(), generateDeviceKeys(), generateDeviceKeys()];
    const alice = new RendezvousClient({ url: server.url, keys: a, join: { name: 'alice' } });
    const bob = new RendezvousClient({ url: server.url, keys: b, join: { name: 'bob' } });
    const eve = new RendezvousClient({ url: server.url, keys: c, join: { name: 'eve' } });
    await Promise.all([alice.connect(), bob.connect(), eve.connect()]);
    const token = String((await alice.request({ t: 'createInvite' }))['token']);
    await bob.request({ t: 'acceptInvite', token, fingerprint: '' });
    await assert.rejects(eve.request({ t: 'acceptInvite', token, fingerprint: '' }), /unknown, used or expired/);
    const got: string[] = [];
    bob.on('relay', (from, payload) => got.push(`${from}:${new TextDecoder().decode(payload)}`));
    assert.ok(alice.relay(deviceIdOf(b), new TextEncoder().encode('hi bob')));
    await until('bob to get the frame', () => got.length === 1);
    assert.equal(got[0], `${deviceIdOf(a)}:hi bob`);
    let eveClosed = '';
    eve.on('disconnected', (reason) => (eveClosed = reason));
    eve.relay(deviceIdOf(b), new TextEncoder().encode('spam'));
    await until('eve to be closed', () => eveClosed !== '');
    assert.match(eveClosed, /^1008/);
    assert.equal(got.length, 1);
    await Promise.all([alice.close(), bob.close(), eve.close()]);
  });
});

test('an invite accepted by the user who made it is refused and stays good for the person it was meant for', async () => {
  await withServer(async (server) => {
    const alice = new RendezvousClient({ url: server.url, keys: generateDeviceKeys(), join: { name: 'alice' } });
    const bob = new RendezvousClient({ url: server.url, keys: generateDeviceKeys(), join: { name: 'bob' } });
    await Promise.all([alice.connect(), bob.connect()]);
    const token = String((await alice.request({ t: 'createInvite' }))['token']);
    for (let i = 0; i < 2; i++)
      await assert.rejects(alice.request({ t: 'acceptInvite', token, fingerprint: '' }), {
        code: 'forbidden',
        message: 'this invite code is your own: send it to the person you want to add as a contact',
      });
    assert.equal((await bob.request({ t: 'acceptInvite', token, fingerprint: '' }))['user'], alice.state!.user.id);
    // Used now, by the person it was meant for.
    await assert.rejects(alice.request({ t: 'acceptInvite', token, fingerprint: '' }), /unknown, used or expired/);
    await Promise.all([alice.close(), bob.close()]);
  });
});

test('presence: a contact sees online, away when the device says so, online again, then offline', async () => {
  await withServer(async (server) => {
    const [a, b] = [generateDeviceKeys(), generateDeviceKeys()];
    const alice = new RendezvousClient({ url: server.url, keys: a, join: { name: 'alice' } });
    const bob = new RendezvousClient({ url: server.url, keys: b, join: { name: 'bob' } });
    await Promise.all([alice.connect(), bob.connect()]);
    const token = String((await alice.request({ t: 'createInvite' }))['token']);
    await bob.request({ t: 'acceptInvite', token, fingerprint: '' });
    const seen: string[] = [];
    bob.on('presence', (_user, presence, devices) => seen.push(`${presence}:${devices.length}`));
    await alice.request({ t: 'presence', status: 'away' });
    await until('bob to see alice away', () => seen.includes('away:1'));
    await alice.request({ t: 'presence', status: 'online' });
    await until('bob to see alice online again', () => seen[seen.length - 1] === 'online:1');
    await alice.close();
    await until('bob to see alice offline', () => seen[seen.length - 1] === 'offline:0');
    await bob.close();
  });
});

test('mailbox: deliveries in flight are bounded by bytes as well as items, and every item arrives once acknowledged', async () => {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-server-'));
  const window = 3 * 1024 * 1024;
  const server = await RendezvousServer.start({ port: 0, dataDir: dir, log: () => undefined, limits: { mailboxWindowBytes: window } });
  try {
    const [a, b] = [generateDeviceKeys(), generateDeviceKeys()];
    const alice = new RendezvousClient({ url: server.url, keys: a, join: { name: 'alice' } });
    await alice.connect();
    const bobJoin = new RendezvousClient({ url: server.url, keys: b, join: { name: 'bob' } });
    await bobJoin.connect();
    const token = String((await alice.request({ t: 'createInvite' }))['token']);
    await bobJoin.request({ t: 'acceptInvite', token, fingerprint: '' });
    await bobJoin.close();
    const item = 1024 * 1024;
    for (let i = 0; i < 10; i++) assert.ok(alice.deposit(i.toString(16).padStart(32, '0'), [deviceIdOf(b)], new Uint8Array(item).fill(i)));
    await alice.request({ t: 'state' });
    const bob = new RendezvousClient({ url: server.url, keys: b });
    const held: string[] = [];
    const got: string[] = [];
    bob.on('delivery', (id) => {
      held.push(id);
      got.push(id);
    });
    await bob.connect();
    let most = 0;
    for (let round = 0; round < 50 && got.length < 10; round++) {
      await until('a delivery', () => held.length > 0);
      await new Promise((r) => setTimeout(r, 50));
      most = Math.max(most, held.length);
      await bob.request({ t: 'ack', items: held.splice(0) });
    }
    if (held.length > 0) await bob.request({ t: 'ack', items: held.splice(0) });
    assert.equal(new Set(got).size, 10);
    assert.ok(most * item <= window, `${most} items of 1 MiB were in flight at once`);
    assert.deepEqual(await server.mailboxTotals(), { items: 0, bytes: 0 });
    await Promise.all([alice.close(), bob.close()]);
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('linking a device needs an endorsement by the device that made the code: none, or a forged one, is refused', async () => {
  await withServer(async (server) => {
    const a = generateDeviceKeys();
    const alice = new RendezvousClient({ url: server.url, keys: a, join: { name: 'alice' } });
    const state = await alice.connect();
    const link = async (): Promise<string> => String((await alice.request({ t: 'createLink' }))['token']);
    const linkWithoutEndorsement = async (token: string): Promise<string> => {
      const keys = generateDeviceKeys();
      const client = new RendezvousClient({ url: server.url, keys, join: { link: token } });
      try {
        await client.connect();
        return 'signed in';
      } catch (err) {
        return (err as Error).message;
      } finally {
        await client.close();
      }
    };
    assert.match(await linkWithoutEndorsement(await link()), /endorsement/);
    const stranger = generateDeviceKeys();
    const forged = (device: DeviceKeys): Endorsement =>
      endorse(makeLinkGrant(stranger, deviceIdOf(a), state.user.id), publicDeviceOf(device));
    const laptop = generateDeviceKeys();
    const bad = new RendezvousClient({ url: server.url, keys: laptop, join: { link: await link() }, endorsement: forged(laptop) });
    await assert.rejects(bad.connect(), /endorsement/);
    await bad.close();
    const good = new RendezvousClient({
      url: server.url,
      keys: laptop,
      join: { link: await link() },
      endorsement: endorse(makeLinkGrant(a, deviceIdOf(a), state.user.id), publicDeviceOf(laptop)),
    });
    const linked = await good.connect();
    assert.equal(linked.user.id, state.user.id);
    assert.ok(linked.user.devices.find((d) => d.id === deviceIdOf(laptop))?.endorsement, 'the endorsement is kept with the device');
    await Promise.all([alice.close(), good.close()]);
  });
});
