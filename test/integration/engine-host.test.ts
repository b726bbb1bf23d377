import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { EngineCallError } from '../../src/node/engine-client';
import { waitFor } from './disk-cluster';
import { readText, NetWorld } from './net-cluster';
import { SYNC_MS, twoContacts, write, type EngineUser } from './engine-cluster';

async function sharedFolder(alice: EngineUser, bob: EngineUser, name: string): Promise<string> {
  fs.mkdirSync(alice.folder(name), { recursive: true });
  const bobId = (await alice.status()).contacts.find((c) => c.name === 'bob')!.id;
  const { space } = await alice.client.call('share', { path: alice.folder(name), with: [bobId], role: 'editor' });
  await bob.untilEvent('invitation', (e) => e.invitation.space === space);
  await bob.client.call('join', { space, path: bob.folder(name) });
  return space;
}

test('engine hosts: identities, contacts, share, join, a file syncs, chat both ways and to an offline host', async () => {
  const world = new NetWorld();
  const users: EngineUser[] = [];
  try {
    const { alice, bob } = await twoContacts(world, users);
    assert.ok(alice.keys && !fs.readFileSync(nodePath.join(alice.home, 'identity.json'), 'utf8').includes('signSecret'), 'the keys stay with the caller');
    const aliceStatus = await alice.status();
    assert.equal(aliceStatus.identity?.name, 'alice');
    assert.match(aliceStatus.contacts[0]!.fingerprints[0]!, /^[A-Z2-7]{4}-/);
    assert.equal((await bob.status()).pendingContacts.length, 0, 'an accepted invite is no longer pending');

    const space = await sharedFolder(alice, bob, 'docs');
    write(nodePath.join(alice.folder('docs'), 'hello.txt'), 'hello bob\n');
    await waitFor('hello.txt at bob', () => readText(nodePath.join(bob.folder('docs'), 'hello.txt')) === 'hello bob\n', SYNC_MS);
    await alice.until('the space in sync', (s) => s.spaces.find((x) => x.id === space)?.state.kind === 'inSync');
    const activity = await bob.untilEvent('activity', (e) => e.activity.kind === 'changed' && e.activity.paths.includes('hello.txt'));
    assert.equal(activity.activity.user, 'alice');
    assert.ok((await bob.status()).spaces[0]!.unseen > 0);
    await bob.client.call('markSeen', { space });
    assert.equal((await bob.status()).spaces[0]!.unseen, 0);

    const aliceId = (await alice.status()).identity!.user;
    const bobId = (await bob.status()).identity!.user;
    await alice.client.call('sendChat', { conversation: bobId, text: 'hi bob' });
    await bob.untilEvent('chat', (e) => e.message.text === 'hi bob' && e.message.conversation === aliceId);
    await bob.client.call('sendChat', { conversation: aliceId, text: 'hi alice' });
    await alice.untilEvent('chat', (e) => e.message.text === 'hi alice');
    const history = await alice.client.call('chatHistory', { conversation: bobId });
    assert.deepEqual(history.messages.map((m) => m.text), ['hi bob', 'hi alice']);

    // bob's host stops; alice's message waits in the mailbox until he is back.
    await bob.stop();
    await alice.until('bob offline', (s) => s.contacts.find((c) => c.name === 'bob')?.presence === 'offline');
    await alice.client.call('sendChat', { conversation: bobId, text: 'while you were away' });
    await bob.restart();
    await bob.untilEvent('chat', (e) => e.message.text === 'while you were away');
    assert.equal((await bob.status()).identity?.name, 'bob', 'the restarted host signs in with the kept keys');

    await assert.rejects(alice.client.call('acceptInvite', { code: 'nonsense' }), (err: EngineCallError) => err.code === 'usage' && /not a Shared Folders invite/.test(err.message));
  } finally {
    for (const u of users) await u.stop();
    await world.close();
  }
});
