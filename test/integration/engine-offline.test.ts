import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { EngineCallError } from '../../src/node/engine/engine-client';
import { LOOPBACK_LISTEN, freePort, NetWorld } from './net-cluster';
import { EngineUser, twoContacts } from './engine-cluster';

// What the extension is told while the server cannot be reached: why, and what is known. Real
// engine hosts and a real server process on loopback.

test('engine hosts: Set Up against a dead port says refused; offline keeps contacts (over a restart) and why; setServer moves and reconnects', async () => {
  const world = new NetWorld();
  const users: EngineUser[] = [];
  try {
    const deadPort = await freePort();
    const dead = `ws://127.0.0.1:${deadPort}`;

    // A first Set Up against an address nobody listens on: code `server`, reason `refused`.
    const early = new EngineUser(world, 'early');
    users.push(early);
    await early.client.call('start', { home: early.home, listen: LOOPBACK_LISTEN });
    await assert.rejects(
      early.client.call('createIdentity', { server: dead, name: 'early' }),
      (err: EngineCallError) =>
        err instanceof EngineCallError && err.code === 'server' && err.reason === 'refused' && /connection refused/.test(err.message),
    );
    // Nothing was created: the same home can still be set up.
    assert.equal((await early.status()).identity, undefined);

    const { alice } = await twoContacts(world, users);
    await alice.until('bob online', (s) => s.connected && s.contacts.some((c) => c.name === 'bob' && c.presence === 'online'));
    assert.equal((await alice.status()).serverProblem, undefined);

    await world.stopServer();
    const offline = await alice.until(
      'offline with bob still listed and the reason',
      (s) => !s.connected && s.contacts.some((c) => c.name === 'bob') && /connection refused/.test(s.serverProblem ?? ''),
    );
    assert.equal(offline.contacts.find((c) => c.name === 'bob')?.presence, 'offline', 'no presence is shown as known while offline');
    assert.equal(offline.identity?.name, 'alice');

    // A restarted host, server still down: the last known contacts come from the home.
    await alice.stop();
    await alice.restart();
    const restarted = await alice.until('bob listed after a restart while offline', (s) => s.contacts.some((c) => c.name === 'bob'));
    assert.equal(restarted.connected, false);
    assert.ok(fs.existsSync(nodePath.join(alice.home, 'known-state.json')));

    await world.startServer();
    await alice.until('connected again, no problem reported', (s) => s.connected && s.serverProblem === undefined);

    // Change Server: a bad address is refused at once; a dead one goes offline; the right one reconnects.
    await assert.rejects(
      alice.client.call('setServer', { server: 'http://127.0.0.1:1' }),
      (err: EngineCallError) => err.code === 'usage' && /ws:\/\/HOST:PORT/.test(err.message),
    );
    const moved = await alice.client.call('setServer', { server: dead });
    assert.equal(moved.identity.server, dead);
    await alice.until('offline at the dead address', (s) => !s.connected && /connection refused/.test(s.serverProblem ?? ''));
    await alice.client.call('setServer', { server: world.url });
    await alice.until('back on the server, bob online', (s) => s.connected && s.contacts.some((c) => c.presence === 'online'));
    const identity = JSON.parse(fs.readFileSync(nodePath.join(alice.home, 'identity.json'), 'utf8')) as { server: string; keys?: string };
    assert.equal(identity.server, world.url);
    assert.equal(identity.keys, undefined, 'the keys stay out of the home');
  } finally {
    for (const u of users) await u.stop();
    await world.close();
  }
});
