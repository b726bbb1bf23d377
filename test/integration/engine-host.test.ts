import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import { EngineCallError } from '../../src/node/engine/engine-client';
import type { EngineEvent } from '../../src/node/engine/engine-protocol';
import { encodeFrame, FrameKind } from '../../src/sync/coedit/coedit-frame';
import { CoeditSession } from '../../src/sync/coedit/coedit-session';
import { seedUpdate } from '../../src/sync/coedit/shared-document';
import { CoeditPeer, sessionName } from './coedit-peer';
import { waitFor } from './disk-cluster';
import { LOOPBACK_LISTEN, readText, NetWorld } from './net-cluster';
import { EngineUser, SYNC_MS, twoContacts, write } from './engine-cluster';

async function sharedFolder(alice: EngineUser, bob: EngineUser, name: string, ignore?: readonly string[]): Promise<string> {
  fs.mkdirSync(alice.folder(name), { recursive: true });
  const bobId = (await alice.status()).contacts.find((c) => c.name === 'bob')!.id;
  const { space } = await alice.client.call('share', {
    path: alice.folder(name),
    with: [bobId],
    role: 'editor',
    ...(ignore ? { ignore } : {}),
  });
  await bob.untilEvent('invitation', (e) => e.invitation.space === space);
  await bob.client.call('join', { space, path: bob.folder(name) });
  return space;
}

test('engine hosts: identities, contacts, share, join, a file syncs, chat both ways and to an offline host', async () => {
  const world = new NetWorld();
  const users: EngineUser[] = [];
  try {
    const { alice, bob } = await twoContacts(world, users);
    assert.ok(
      alice.keys && !fs.readFileSync(nodePath.join(alice.home, 'identity.json'), 'utf8').includes('signSecret'),
      'the keys stay with the caller',
    );
    const aliceStatus = await alice.status();
    assert.equal(aliceStatus.identity?.name, 'alice');
    assert.match(aliceStatus.contacts[0]!.fingerprints[0]!, /^[A-Z2-7]{4}-/);
    assert.equal((await bob.status()).pendingContacts.length, 0, 'an accepted invite is no longer pending');

    // The extension passes its ignore-patterns setting: it becomes the folder's .sharedignore.
    const space = await sharedFolder(alice, bob, 'docs', ['*.log', 'build/']);
    write(nodePath.join(alice.folder('docs'), 'debug.log'), 'stays with alice\n');
    write(nodePath.join(alice.folder('docs'), 'hello.txt'), 'hello bob\n');
    await waitFor('hello.txt at bob', () => readText(nodePath.join(bob.folder('docs'), 'hello.txt')) === 'hello bob\n', SYNC_MS);
    assert.equal(readText(nodePath.join(bob.folder('docs'), '.sharedignore')), '*.log\nbuild/\n', 'the rules travel with the folder');
    assert.equal(readText(nodePath.join(bob.folder('docs'), 'debug.log')), undefined, 'an ignored file stays where it was written');
    await alice.until('the space in sync', (s) => s.spaces.find((x) => x.id === space)?.state.kind === 'inSync');
    const activity = await bob.untilEvent('activity', (e) => e.activity.kind === 'changed' && e.activity.paths.includes('hello.txt'));
    assert.equal(activity.activity.user, 'alice');
    assert.ok((await bob.status()).spaces[0]!.unseen > 0);
    await bob.client.call('markSeen', { space });
    assert.equal((await bob.status()).spaces[0]!.unseen, 0);
    // What a change replaced is what its diff shows as before: nothing for a new file, then the old bytes.
    assert.deepEqual(await bob.client.call('previousVersion', { activity: activity.activity.id, path: 'hello.txt' }), {});
    write(nodePath.join(alice.folder('docs'), 'hello.txt'), 'hello again bob\n');
    const changed = await bob.untilEvent(
      'activity',
      (e) => e.activity.kind === 'changed' && e.activity.id !== activity.activity.id && e.activity.paths.includes('hello.txt'),
    );
    await waitFor(
      'the new hello.txt at bob',
      () => readText(nodePath.join(bob.folder('docs'), 'hello.txt')) === 'hello again bob\n',
      SYNC_MS,
    );
    const { file } = await bob.client.call('previousVersion', { activity: changed.activity.id, path: 'hello.txt' });
    assert.equal(file === undefined ? undefined : readText(file), 'hello bob\n');

    const aliceId = (await alice.status()).identity!.user;
    const bobId = (await bob.status()).identity!.user;
    await alice.client.call('sendChat', { conversation: bobId, text: 'hi bob' });
    await bob.untilEvent('chat', (e) => e.message.text === 'hi bob' && e.message.conversation === aliceId);
    await bob.client.call('sendChat', { conversation: aliceId, text: 'hi alice' });
    await alice.untilEvent('chat', (e) => e.message.text === 'hi alice');
    const history = await alice.client.call('chatHistory', { conversation: bobId });
    assert.deepEqual(
      history.messages.map((m) => m.text),
      ['hi bob', 'hi alice'],
    );

    // bob's host stops; alice's message waits in the mailbox until he is back.
    await bob.stop();
    await alice.until('bob offline', (s) => s.contacts.find((c) => c.name === 'bob')?.presence === 'offline');
    await alice.client.call('sendChat', { conversation: bobId, text: 'while you were away' });
    await bob.restart();
    await bob.untilEvent('chat', (e) => e.message.text === 'while you were away');
    assert.equal((await bob.status()).identity?.name, 'bob', 'the restarted host signs in with the kept keys');
    const { activities } = await bob.client.call('activityHistory', {});
    assert.ok(
      activities.some((a) => a.kind === 'changed' && a.user === 'alice' && a.paths.includes('hello.txt')),
      'the activity feed is kept over a restart',
    );

    await assert.rejects(
      alice.client.call('acceptInvite', { code: 'nonsense' }),
      (err: EngineCallError) => err.code === 'usage' && /not a Shared Folders invite/.test(err.message),
    );
  } finally {
    for (const u of users) await u.stop();
    await world.close();
  }
});

function text(file: string): string | undefined {
  return readText(file);
}

test('engine hosts: pause and resume (kept over a restart), conflicts resolved with mine, theirs and both on either side, different lines merged, typing', async () => {
  const world = new NetWorld();
  const users: EngineUser[] = [];
  try {
    const { alice, bob } = await twoContacts(world, users);
    const space = await sharedFolder(alice, bob, 'work');
    const marker = await sharedFolder(alice, bob, 'marker');
    const at = (u: EngineUser, path: string): string => nodePath.join(u.folder('work'), path);
    const names = ['alice-mine', 'alice-theirs', 'alice-both', 'bob-mine', 'bob-theirs', 'bob-both'].map((n) => `${n}.txt`);
    for (const n of names) write(at(alice, n), `base of ${n}\n`);
    write(at(alice, 'lines.txt'), 'one\ntwo\nthree\nfour\nfive\n');
    for (const n of [...names, 'lines.txt']) await waitFor(`${n} at bob`, () => text(at(bob, n)) !== undefined, SYNC_MS);

    // Paused, alice's copy neither sends nor applies; the marker space, not paused, shows time has passed.
    await alice.client.call('setPaused', { space, paused: true });
    await alice.until('the space paused', (s) => s.spaces.find((x) => x.id === space)?.state.kind === 'paused');
    write(at(bob, 'while-paused.txt'), 'from bob\n');
    write(at(alice, 'alice-while-paused.txt'), 'from alice\n');
    write(nodePath.join(bob.folder('marker'), 'after.txt'), 'later\n');
    write(nodePath.join(alice.folder('marker'), 'alice-after.txt'), 'later\n');
    await waitFor('the marker at alice', () => text(nodePath.join(alice.folder('marker'), 'after.txt')) === 'later\n', SYNC_MS);
    await waitFor('the marker at bob', () => text(nodePath.join(bob.folder('marker'), 'alice-after.txt')) === 'later\n', SYNC_MS);
    assert.equal(text(at(alice, 'while-paused.txt')), undefined, 'a paused space applies nothing');
    assert.equal(text(at(bob, 'alice-while-paused.txt')), undefined, 'a paused space sends nothing');

    // Both edit the same files while alice is paused: concurrent versions, conflicts on resume.
    for (const n of names) {
      write(at(alice, n), `alice's ${n}\n`);
      write(at(bob, n), `bob's ${n}\n`);
    }
    // Different lines of one text file: merged on resume, no conflict left, and said in Activity.
    write(at(alice, 'lines.txt'), 'one, by alice\ntwo\nthree\nfour\nfive\n');
    write(at(bob, 'lines.txt'), 'one\ntwo\nthree\nfour\nfive, by bob\n');
    await alice.stop();
    await alice.restart();
    const restarted = await alice.until('the space still paused after a restart', (s) => s.spaces.some((x) => x.id === space));
    assert.equal(restarted.spaces.find((x) => x.id === space)!.state.kind, 'paused');
    await alice.client.call('setPaused', { space, paused: false });
    await waitFor('while-paused.txt at alice', () => text(at(alice, 'while-paused.txt')) === 'from bob\n', SYNC_MS);
    await waitFor('alice-while-paused.txt at bob', () => text(at(bob, 'alice-while-paused.txt')) === 'from alice\n', SYNC_MS);
    const merged = 'one, by alice\ntwo\nthree\nfour\nfive, by bob\n';
    for (const u of [alice, bob]) await waitFor(`lines.txt merged at ${u.name}`, () => text(at(u, 'lines.txt')) === merged, SYNC_MS);
    const mergedActivity = (u: EngineUser) =>
      u.event('activity', (e) => e.activity.kind === 'merged' && e.activity.space === space && e.activity.paths.includes('lines.txt'));
    await waitFor('a merged activity on the host that merged', () => (mergedActivity(alice) ?? mergedActivity(bob)) !== undefined, SYNC_MS);
    for (const u of [alice, bob])
      await u.until('six conflicts, lines.txt not among them', (s) => {
        const conflicts = s.spaces.find((x) => x.id === space)?.conflicts ?? [];
        return conflicts.length === 6 && !conflicts.some((c) => c.path === 'lines.txt');
      });
    for (const u of [alice, bob]) await u.untilEvent('conflict', (e) => e.conflict.space === space);
    await bob.untilEvent('activity', (e) => e.activity.kind === 'conflict' && e.activity.space === space);

    // What each side sees before resolving: the file (the winner) and the copy (the other version).
    const before = new Map<string, { file: string; copy: string; copyPath: string }>();
    for (const c of (await alice.status()).spaces.find((x) => x.id === space)!.conflicts) {
      before.set(c.path, { file: text(at(alice, c.path))!, copy: text(at(alice, c.copy))!, copyPath: c.copy });
    }
    for (const n of names) {
      const [who, choice] = n.replace('.txt', '').split('-') as ['alice' | 'bob', 'mine' | 'theirs' | 'both'];
      await (who === 'alice' ? alice : bob).client.call('resolveConflict', { space, path: n, choice });
    }
    for (const u of [alice, bob]) await u.until('no conflicts left', (s) => s.spaces.find((x) => x.id === space)?.conflicts.length === 0);
    for (const n of names) {
      const { file, copy, copyPath } = before.get(n)!;
      const choice = n.replace('.txt', '').split('-')[1];
      const stem = n.replace('.txt', '');
      for (const u of [alice, bob]) {
        const expected = choice === 'theirs' ? copy : file;
        await waitFor(`${n} settled at ${u.name}`, () => text(at(u, n)) === expected && text(at(u, copyPath)) === undefined, SYNC_MS);
        if (choice === 'both') {
          const kept = fs.readdirSync(u.folder('work')).find((f) => f.startsWith(`${stem} (`));
          assert.ok(kept, `${n}: the other version kept under a normal name at ${u.name}`);
          await waitFor(`${kept} at ${u.name}`, () => text(at(u, kept)) === copy, SYNC_MS);
        }
      }
    }
    // The version 'theirs' replaced is in the resolver's versions folder.
    const versions = fs.readdirSync(nodePath.join(alice.folder('work'), '.shared-folder', 'versions'));
    assert.ok(
      versions.some((f) => f.startsWith('alice-theirs~')),
      versions.join(', '),
    );

    const aliceId = (await alice.status()).identity!.user;
    const bobId = (await bob.status()).identity!.user;
    await alice.client.call('sendTyping', { conversation: bobId });
    const typing = await bob.untilEvent('typing');
    assert.deepEqual([typing.conversation, typing.user, typing.name], [aliceId, aliceId, 'alice']);
    await bob.client.call('sendTyping', { conversation: marker });
    const group = await alice.untilEvent('typing', (e) => e.conversation === marker);
    assert.equal(group.name, 'bob');
  } finally {
    for (const u of users) await u.stop();
    await world.close();
  }
});

test('engine hosts: addMember, changeRole, removeMember, decline, leave, stopSharing, removeContact, and a crashed host restarted by the client', async () => {
  const world = new NetWorld();
  const users: EngineUser[] = [];
  try {
    const { alice, bob } = await twoContacts(world, users);
    const carol = new EngineUser(world, 'carol');
    users.push(carol);
    await carol.setUp();
    const { code } = await carol.client.call('createInvite', {});
    const { pending } = await alice.client.call('openInvite', { code });
    assert.equal((await alice.status()).pendingContacts[0]?.fingerprint, pending.fingerprint, 'an opened invite waits in the home');
    await alice.client.call('acceptInvite', { code });
    const carolId = (await carol.status()).identity!.user;
    const bobId = (await bob.status()).identity!.user;

    // A second code, opened and declined, leaves nothing pending.
    const second = await carol.client.call('createInvite', {});
    await bob.client.call('openInvite', { code: second.code });
    await bob.client.call('declineInvite', { code: second.code });
    assert.equal((await bob.status()).pendingContacts.length, 0);

    const space = await sharedFolder(alice, bob, 'team');
    write(nodePath.join(alice.folder('team'), 'plan.md'), 'the plan\n');
    await alice.client.call('addMember', { space, user: carolId, role: 'editor' });
    await carol.untilEvent('invitation', (e) => e.invitation.space === space && e.invitation.from === 'alice');
    await carol.client.call('join', { space, path: carol.folder('team') });
    for (const who of [carol, bob])
      await waitFor(`plan.md at ${who.name}`, () => readText(nodePath.join(who.folder('team'), 'plan.md')) === 'the plan\n', SYNC_MS);
    await bob.untilEvent('activity', (e) => e.activity.kind === 'joined' && e.activity.user === 'carol');
    const members = (await bob.status()).spaces.find((s) => s.id === space)!.members;
    assert.deepEqual(members.map((m) => `${m.name}:${m.role}:${m.status}`).sort(), [
      'alice:owner:joined',
      'bob:editor:joined',
      'carol:editor:joined',
    ]);

    // Only an owner changes roles (mayChangeSpace); alice makes bob a reader, and his status says so.
    await assert.rejects(
      carol.client.call('changeRole', { space, user: bobId, role: 'reader' }),
      (err: { code: string; message: string }) => err.code === 'usage' && /only an owner/.test(err.message),
    );
    await alice.client.call('changeRole', { space, user: bobId, role: 'reader' });
    await bob.until('bob a reader', (s) => s.spaces.find((x) => x.id === space)?.role === 'reader');
    await assert.rejects(
      alice.client.call('changeRole', { space, user: (await alice.status()).identity!.user, role: 'reader' }),
      (err: { code: string }) => err.code === 'usage',
      'a space keeps an owner: alice cannot demote herself',
    );

    // carol declines another folder.
    fs.mkdirSync(alice.folder('private'), { recursive: true });
    const other = (await alice.client.call('share', { path: alice.folder('private'), with: [carolId], role: 'reader' })).space;
    await carol.untilEvent('invitation', (e) => e.invitation.space === other && e.invitation.role === 'reader');
    await carol.client.call('decline', { space: other });
    await carol.until('the invitation gone', (s) => !s.invitations.some((i) => i.space === other));
    await alice.until(
      'carol declined',
      (s) => s.spaces.find((x) => x.id === other)?.members.find((m) => m.name === 'carol')?.status === 'declined',
    );
    await assert.rejects(
      carol.client.call('removeMember', { space: other, user: carolId }),
      (err: { code: string }) => err.code === 'usage',
    );
    await alice.client.call('removeMember', { space: other, user: carolId });
    await alice.until('carol removed', (s) => !s.spaces.find((x) => x.id === other)?.members.some((m) => m.name === 'carol'));

    // bob leaves; his files stay, the others are told.
    await bob.client.call('leave', { space });
    await bob.until('the space gone at bob', (s) => !s.spaces.some((x) => x.id === space));
    await alice.untilEvent('activity', (e) => e.activity.kind === 'left' && e.activity.user === 'bob' && e.activity.space === space);
    assert.equal(readText(nodePath.join(bob.folder('team'), 'plan.md')), 'the plan\n');

    // Only an owner may stop sharing; then the space is gone for everyone, files kept.
    await assert.rejects(carol.client.call('stopSharing', { space }), (err: { code: string }) => err.code === 'usage');
    await alice.client.call('stopSharing', { space });
    await carol.until('the space gone at carol', (s) => !s.spaces.some((x) => x.id === space));
    // Each side's Activity names the folder the space was, though the space is gone from the status.
    await carol.untilEvent(
      'activity',
      (e) =>
        e.activity.kind === 'stopped' &&
        e.activity.space === space &&
        e.activity.user === 'alice' &&
        e.activity.spaceName === nodePath.basename(carol.folder('team')),
    );
    const aliceId = (await alice.status()).identity!.user;
    await alice.untilEvent(
      'activity',
      (e) =>
        e.activity.kind === 'stopped' &&
        e.activity.space === space &&
        e.activity.user === aliceId &&
        e.activity.spaceName === nodePath.basename(alice.folder('team')),
    );
    assert.ok(
      !alice.events.some(
        (e) => e.event === 'activity' && e.activity.kind === 'left' && e.activity.space === space && e.activity.user === 'carol',
      ),
      "alice's own Stop Sharing is one entry, not 'carol left'",
    );
    assert.ok(!(await alice.status()).spaces.some((x) => x.id === space));
    assert.equal(readText(nodePath.join(carol.folder('team'), 'plan.md')), 'the plan\n');

    // A link code adds a second device to alice's user.
    const { code: link } = await alice.client.call('createLink', {});
    const laptop = new EngineUser(world, 'alice-laptop');
    users.push(laptop);
    await laptop.client.call('start', { home: laptop.home, listen: LOOPBACK_LISTEN });
    const linked = await laptop.client.call('createIdentity', { server: world.url, name: '', link });
    assert.deepEqual([linked.identity.user, linked.identity.name], [(await alice.status()).identity!.user, 'alice']);
    assert.notEqual(linked.identity.device, (await alice.status()).identity!.device);

    await bob.client.call('removeContact', { user: (await alice.status()).identity!.user });
    await alice.until('bob no longer a contact', (s) => !s.contacts.some((c) => c.id === bobId));

    // The host dies; the client starts another, replays start, and calls work again.
    const pid = alice.client.pid!;
    const restarted = new Promise<void>((resolve) => alice.client.on('restarted', () => resolve()));
    process.kill(pid, 'SIGKILL');
    await restarted;
    assert.notEqual(alice.client.pid, pid);
    const after = await alice.until('signed in again', (s) => s.connected);
    assert.equal(after.identity?.name, 'alice');
  } finally {
    for (const u of users) await u.stop();
    await world.close();
  }
});

test('engine hosts: presence, a download limit and progress events, open files, errors as codes, offline state', async () => {
  const world = new NetWorld();
  const users: EngineUser[] = [];
  try {
    // Before start, and before an identity, calls fail with a code the extension can act on.
    const early = new EngineUser(world, 'early');
    users.push(early);
    await assert.rejects(
      early.client.call('status', {}).then(() => early.client.call('createInvite', {})),
      (err: { code: string }) => err.code === 'notSetUp',
    );
    await world.startServer();
    await early.client.call('start', { home: early.home, listen: LOOPBACK_LISTEN });
    await assert.rejects(early.client.call('createInvite', {}), (err: { code: string }) => err.code === 'notSetUp');
    assert.equal((await early.status()).identity, undefined);

    const { alice, bob } = await twoContacts(world, users);
    await alice.client.call('setPresence', { presence: 'away' });
    await bob.until('alice away', (s) => s.contacts.find((c) => c.name === 'alice')?.presence === 'away');
    await alice.client.call('setPresence', { presence: 'online' });
    await bob.until('alice online', (s) => s.contacts.find((c) => c.name === 'alice')?.presence === 'online');

    const space = await sharedFolder(alice, bob, 'big');
    await bob.client.call('setLimits', { limitDown: 1024 * 1024 });
    await bob.client.call('setOpenFiles', { paths: [nodePath.join(bob.folder('big'), 'open.txt')] });
    const big = new Uint8Array(crypto.randomBytes(4 * 1024 * 1024));
    fs.writeFileSync(nodePath.join(alice.folder('big'), 'big.bin'), big);
    write(nodePath.join(alice.folder('big'), 'open.txt'), 'wanted first\n');
    await waitFor(
      'big.bin at bob',
      () => fs.statSync(nodePath.join(bob.folder('big'), 'big.bin'), { throwIfNoEntry: false })?.size === big.length,
      SYNC_MS * 2,
    );
    assert.equal(readText(nodePath.join(bob.folder('big'), 'open.txt')), 'wanted first\n');
    const sha = (data: Uint8Array): string => crypto.createHash('sha256').update(data).digest('hex');
    assert.equal(sha(new Uint8Array(fs.readFileSync(nodePath.join(bob.folder('big'), 'big.bin')))), sha(big));
    const progress = bob.events.filter((e) => e.event === 'progress' && e.space === space) as {
      files: number;
      bytes: number;
      totalBytes: number;
    }[];
    assert.ok(
      progress.some((p) => p.files > 0 && p.totalBytes >= big.length),
      JSON.stringify(progress),
    );
    assert.ok(progress.every((p) => p.bytes <= p.totalBytes));
    assert.ok(
      bob.events.some((e) => e.event === 'status' && e.status.spaces.some((s) => s.id === space && s.state.kind === 'syncing')),
      'the transfer showed as syncing',
    );
    await bob.client.call('setLimits', {});
    await bob.until('in sync', (s) => s.spaces.find((x) => x.id === space)?.state.kind === 'inSync');

    await assert.rejects(
      bob.client.call('join', { space: '00'.repeat(16), path: bob.folder('x') }),
      (err: { code: string }) => err.code === 'usage',
    );
    await assert.rejects(
      bob.client.call('resolveConflict', { space, path: 'big.bin', choice: 'mine' }),
      (err: { code: string; message: string }) => err.code === 'usage' && /no conflict/.test(err.message),
    );

    await world.stopServer();
    await bob.until('offline', (s) => !s.connected && s.spaces.find((x) => x.id === space)?.state.kind === 'offline');
    await assert.rejects(bob.client.call('createInvite', {}), (err: { code: string }) => err.code === 'server');
  } finally {
    for (const u of users) await u.stop();
    await world.close();
  }
});

test('engine hosts: a mass delete pauses the space until the user answers restore or delete', async () => {
  const world = new NetWorld();
  const users: EngineUser[] = [];
  try {
    const { alice, bob } = await twoContacts(world, users);
    const space = await sharedFolder(alice, bob, 'many');
    const files = (dir: string): number => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.startsWith('f')).length : 0);
    const count = (u: EngineUser): number => files(u.folder('many')) + files(nodePath.join(u.folder('many'), 'batch'));
    for (let i = 0; i < 150; i++) write(nodePath.join(alice.folder('many'), ...(i < 120 ? ['batch'] : []), `f${i}.txt`), `file ${i}\n`);
    await waitFor('150 files at bob', () => count(bob) === 150, SYNC_MS);
    await bob.until('in sync', (s) => s.spaces.find((x) => x.id === space)?.state.kind === 'inSync');

    const massDelete = async (dir: string): Promise<void> => {
      // Moved out of the folder in one step: the watcher reports one change, and its scan sees 120 files gone.
      fs.renameSync(nodePath.join(bob.folder('many'), dir), nodePath.join(world.dir, `gone-${Date.now()}`));
      await bob.until('paused by the guard', (s) => {
        const state = s.spaces.find((x) => x.id === space)?.state;
        return state?.kind === 'paused' && state.reason === 'massDelete';
      });
    };
    await massDelete('batch');
    assert.equal(count(alice), 150, 'nothing deleted elsewhere while the space waits');
    await assert.rejects(
      alice.client.call('resolveMassDelete', { space, choice: 'restore' }),
      (err: { code: string }) => err.code === 'usage',
    );
    await bob.client.call('resolveMassDelete', { space, choice: 'restore' });
    await waitFor('the files back at bob', () => count(bob) === 150, SYNC_MS);

    // A second batch, synced the usual way (200 of 350 files), is deleted for good this time.
    for (let i = 0; i < 200; i++) write(nodePath.join(alice.folder('many'), 'batch2', `f${i}.txt`), `second ${i}\n`);
    const second = (u: EngineUser): number => files(nodePath.join(u.folder('many'), 'batch2'));
    await waitFor('the second batch at bob', () => second(bob) === 200, SYNC_MS);
    await bob.until('in sync again', (s) => s.spaces.find((x) => x.id === space)?.state.kind === 'inSync');
    await massDelete('batch2');
    await bob.client.call('resolveMassDelete', { space, choice: 'delete' });
    await waitFor('the deletes at alice', () => second(alice) === 0, SYNC_MS);
    assert.equal(count(bob), 150);
    assert.equal(count(alice), 150);
  } finally {
    for (const u of users) await u.stop();
    await world.close();
  }
});

test("engine hosts: a published folder: the reader's own changes stay with it, and both sides still show in sync", async () => {
  const world = new NetWorld();
  const users: EngineUser[] = [];
  try {
    const { alice, bob } = await twoContacts(world, users);
    fs.mkdirSync(alice.folder('pub'), { recursive: true });
    const bobId = (await bob.status()).identity!.user;
    const { space } = await alice.client.call('share', { path: alice.folder('pub'), with: [bobId], role: 'reader' });
    await bob.untilEvent('invitation', (e) => e.invitation.space === space && e.invitation.kind === 'publish');
    await bob.client.call('join', { space, path: bob.folder('pub') });
    write(nodePath.join(bob.folder('pub'), 'mine.txt'), 'bob may only read\n');
    write(nodePath.join(alice.folder('pub'), 'news.txt'), 'for readers\n');
    await waitFor('news.txt at bob', () => readText(nodePath.join(bob.folder('pub'), 'news.txt')) === 'for readers\n', SYNC_MS);
    for (const u of [alice, bob]) await u.until('in sync', (s) => s.spaces.find((x) => x.id === space)?.state.kind === 'inSync');
    assert.equal(readText(nodePath.join(alice.folder('pub'), 'mine.txt')), undefined);
    assert.equal((await bob.status()).spaces.find((x) => x.id === space)!.role, 'reader');
  } finally {
    for (const u of users) await u.stop();
    await world.close();
  }
});

/** The first `kind` event pushed after the `from`-th event of all. */
async function eventAfter<E extends EngineEvent['event']>(
  u: EngineUser,
  from: number,
  kind: E,
  check: (e: Extract<EngineEvent, { event: E }>) => boolean,
): Promise<Extract<EngineEvent, { event: E }>> {
  const find = (): Extract<EngineEvent, { event: E }> | undefined =>
    u.events
      .slice(from)
      .find((e): e is Extract<EngineEvent, { event: E }> => e.event === kind && check(e as Extract<EngineEvent, { event: E }>));
  await waitFor(`${u.name}: a ${kind} event`, () => find() !== undefined, SYNC_MS);
  return find()!;
}

const b64 = (bytes: readonly number[] | Uint8Array): string =>
  Buffer.from(bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes)).toString('base64');

test('engine hosts: co-editing', async () => {
  const world = new NetWorld();
  const users: EngineUser[] = [];
  try {
    const { alice, bob } = await twoContacts(world, users);
    const space = await sharedFolder(alice, bob, 'co');
    const seed = 'line one\nline two\n';
    const path = 'notes.txt';
    write(nodePath.join(alice.folder('co'), path), seed);
    await waitFor('notes.txt at bob', () => readText(nodePath.join(bob.folder('co'), path)) === seed, SYNC_MS);
    const [aliceId, aliceDevice] = await (async (s) => [s.identity!.user, s.identity!.device])(await alice.status());
    const [bobId, bobDevice] = await (async (s) => [s.identity!.user, s.identity!.device])(await bob.status());
    const session = sessionName(seed);
    const other = sessionName('another seed');
    const inFile = (e: { space: string; path: string }): boolean => e.space === space && e.path === path;

    // Both announce: each hears of the other, whoever came first.
    await alice.client.call('coeditOpen', { space, path, session, live: false });
    await bob.client.call('coeditOpen', { space, path, session, live: false });
    const seenByAlice = await alice.untilEvent('coeditPeers', (e) => inFile(e) && e.peers.some((p) => p.device === bobDevice));
    assert.deepEqual(seenByAlice.peers, [{ device: bobDevice, user: bobId, name: 'bob', readOnly: false, session, live: false }]);
    await bob.untilEvent('coeditPeers', (e) => inFile(e) && e.peers.some((p) => p.device === aliceDevice && p.session === session));

    // Frames go to the peers of the same session only, or to the device named.
    await alice.client.call('coeditSend', { space, path, session: other, frames: [b64([1, 3, 0xee])] });
    await alice.client.call('coeditSend', { space, path, session, frames: [b64([1, 3, 1]), b64([1, 3, 2])] });
    const first = await bob.untilEvent('coeditFrame', (e) => e.frame === b64([1, 3, 1]));
    assert.equal(first.session, session);
    assert.equal(first.from, aliceDevice);
    assert.ok(inFile(first));
    await bob.untilEvent('coeditFrame', (e) => e.frame === b64([1, 3, 2]));
    assert.equal(
      bob.event('coeditFrame', (e) => e.frame === b64([1, 3, 0xee])),
      undefined,
      'a frame for another session stays home',
    );
    await bob.client.call('coeditSend', { space, path, session: other, frames: [b64([1, 3, 3])], to: aliceDevice });
    assert.equal((await alice.untilEvent('coeditFrame', (e) => e.frame === b64([1, 3, 3]))).session, other);

    // The caller's mistakes are usage errors.
    const usage = (err: EngineCallError): boolean => err.code === 'usage';
    await assert.rejects(alice.client.call('coeditOpen', { space: '0'.repeat(32), path, session, live: false }), usage);
    await assert.rejects(alice.client.call('coeditOpen', { space, path: '../outside.txt', session, live: false }), usage);
    await assert.rejects(alice.client.call('coeditOpen', { space, path, session: 'not-a-hash', live: false }), usage);
    await assert.rejects(alice.client.call('coeditSend', { space, path, session, frames: [b64([1])] }), usage);

    // Where alice is: an event at bob's, and the member's active file in his status.
    await alice.client.call('setActiveEditor', { space, path, top: 3 });
    const active = await bob.untilEvent('activeEditor', (e) => e.editor.device === aliceDevice && e.editor.path === path);
    assert.deepEqual(active.editor, { device: aliceDevice, user: aliceId, name: 'alice', space, path, top: 3 });
    await bob.until(
      'alice active in notes.txt',
      (s) => s.spaces.find((x) => x.id === space)?.members.find((m) => m.user === aliceId)?.activeFile === path,
    );

    // Real sessions driven through the hosts converge, either way.
    const atAlice = new CoeditPeer(alice.client, space, path, seed, { id: aliceId, name: 'alice' });
    const atBob = new CoeditPeer(bob.client, space, path, seed, { id: bobId, name: 'bob' });
    await atAlice.open();
    await atBob.open();
    await waitFor('both sessions see each other', () => atAlice.peers.has(bobDevice) && atBob.peers.has(aliceDevice), SYNC_MS);
    atAlice.editor.edit(seed.indexOf('two'), 0, 'number ');
    await waitFor("alice's edit at bob", () => atBob.editor.text === 'line one\nline number two\n', SYNC_MS);
    atBob.editor.edit(0, 0, 'bob: ');
    atAlice.editor.edit(atAlice.editor.text.length, 0, 'alice was here\n');
    await waitFor(
      'both texts equal',
      () =>
        atAlice.editor.text === atBob.editor.text &&
        atBob.editor.text.startsWith('bob: ') &&
        atBob.editor.text.endsWith('alice was here\n'),
      SYNC_MS,
    );
    atAlice.session.setLocalSelection({ anchor: 2, head: 2 });
    await waitFor(
      "alice's cursor at bob",
      () => atBob.session.remoteCursors().some((c) => c.user.name === 'alice' && c.selection?.head === 2),
      SYNC_MS,
    );
    assert.deepEqual([...atAlice.errors, ...atBob.errors], []);

    // bob closes the file: he leaves alice's list.
    let mark = alice.events.length;
    await atBob.close();
    await eventAfter(alice, mark, 'coeditPeers', (e) => inFile(e) && !e.peers.some((p) => p.device === bobDevice));

    // A reader: presence and state vectors arrive, edits never.
    fs.mkdirSync(alice.folder('pub'), { recursive: true });
    const { space: pub } = await alice.client.call('share', { path: alice.folder('pub'), with: [bobId], role: 'reader' });
    await bob.untilEvent('invitation', (e) => e.invitation.space === pub);
    await bob.client.call('join', { space: pub, path: bob.folder('pub') });
    await bob.until('pub open', (s) => s.spaces.some((x) => x.id === pub && x.state.kind !== 'error'));
    mark = alice.events.length;
    await alice.client.call('coeditOpen', { space: pub, path: 'news.txt', session, live: false });
    await bob.client.call('coeditOpen', { space: pub, path: 'news.txt', session, live: false });
    const reader = await eventAfter(alice, mark, 'coeditPeers', (e) => e.space === pub && e.peers.some((p) => p.device === bobDevice));
    assert.equal(reader.peers[0]!.readOnly, true);
    const doc = new CoeditSession({ seed, user: { id: bobId, name: 'bob' }, broadcast: () => undefined });
    const [join, awareness] = doc.join();
    const updateFrame = encodeFrame(
      FrameKind.Sync,
      syncMessage((e) => syncProtocol.writeUpdate(e, seedUpdate('evil'))),
    );
    const joinWithUpdate = encodeFrame(
      FrameKind.Join,
      syncMessage((e) => syncProtocol.writeUpdate(e, seedUpdate('evil'))),
    );
    mark = alice.events.length;
    await bob.client.call('coeditSend', {
      space: pub,
      path: 'news.txt',
      session,
      frames: [b64(updateFrame), b64(joinWithUpdate), b64(join!), b64(awareness!)],
    });
    await eventAfter(alice, mark, 'coeditFrame', (e) => e.space === pub && e.frame === b64(awareness!));
    const arrived = alice.events
      .slice(mark)
      .filter((e) => e.event === 'coeditFrame')
      .map((e) => (e as { frame: string }).frame);
    assert.deepEqual(arrived, [b64(join!), b64(awareness!)], "only the reader's join and presence arrive");
    await waitFor(
      "the drop in alice's log",
      () => /who may only read space/.test(readText(nodePath.join(world.dir, 'alice-host.log')) ?? ''),
      SYNC_MS,
    );
    doc.destroy();

    // bob's host stops: he leaves every session, and his active file goes with him.
    await bob.client.call('setActiveEditor', { space, path });
    await alice.until(
      'bob active',
      (s) => s.spaces.find((x) => x.id === space)?.members.find((m) => m.user === bobId)?.activeFile === path,
    );
    mark = alice.events.length;
    await bob.stop();
    await eventAfter(alice, mark, 'coeditPeers', (e) => e.space === pub && e.peers.length === 0);
    await eventAfter(alice, mark, 'activeEditor', (e) => e.editor.device === bobDevice && e.editor.path === undefined);
    assert.equal((await alice.status()).spaces.find((x) => x.id === space)!.members.find((m) => m.user === bobId)!.activeFile, undefined);
    await atAlice.close();
  } finally {
    for (const u of users) await u.stop();
    await world.close();
  }
});

function syncMessage(write: (e: encoding.Encoder) => void): Uint8Array {
  const e = encoding.createEncoder();
  write(e);
  return encoding.toUint8Array(e);
}
