import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { EngineCallError } from '../../src/node/engine/engine-client';
import { waitFor } from './disk-cluster';
import { readText, NetWorld } from './net-cluster';
import { EngineUser, SYNC_MS, twoContacts, write } from './engine-cluster';

const BASE = '# Plan\n\nStatus: draft\nBudget: none\n';
const ALICE = '# Plan\n\nStatus: approved by alice\nBudget: none\n';
const BOB = '# Plan\n\nStatus: final, bob signed off\nBudget: none\n';
const MERGED = '# Plan\n\nStatus: approved by alice, final, bob signed off\nBudget: none\n';

test('engine hosts: a text conflict names who wrote each side and its base; the merged file settles it on both, and the other side hears who did', async () => {
  const world = new NetWorld();
  const users: EngineUser[] = [];
  try {
    const { alice, bob } = await twoContacts(world, users);
    fs.mkdirSync(alice.folder('work'), { recursive: true });
    const bobId = (await alice.status()).contacts.find((c) => c.name === 'bob')!.id;
    const { space } = await alice.client.call('share', { path: alice.folder('work'), with: [bobId], role: 'editor' });
    await bob.untilEvent('invitation', (e) => e.invitation.space === space);
    await bob.client.call('join', { space, path: bob.folder('work') });
    const at = (u: EngineUser, path: string): string => nodePath.join(u.folder('work'), path);
    write(at(alice, 'plan.md'), BASE);
    write(at(alice, 'data.bin'), 'binary\u0000base\n');
    for (const n of ['plan.md', 'data.bin']) await waitFor(`${n} at bob`, () => readText(at(bob, n)) !== undefined, SYNC_MS);
    // Bases are kept on the replicas' ticks, a moment after a version lands.
    await new Promise((resolve) => setTimeout(resolve, 3_000));

    for (const u of [alice, bob]) {
      await u.client.call('setPaused', { space, paused: true });
      await u.until('the space paused', (s) => s.spaces.find((x) => x.id === space)?.state.kind === 'paused');
    }
    write(at(alice, 'plan.md'), ALICE);
    write(at(alice, 'data.bin'), 'binary\u0000alice\n');
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    write(at(bob, 'plan.md'), BOB);
    write(at(bob, 'data.bin'), 'binary\u0000bob\n');
    for (const u of [alice, bob]) await u.client.call('setPaused', { space, paused: false });
    for (const u of [alice, bob]) await u.until('two conflicts', (s) => s.spaces.find((x) => x.id === space)?.conflicts.length === 2);

    const conflicts = (await bob.status()).spaces.find((x) => x.id === space)!.conflicts;
    const plan = conflicts.find((c) => c.path === 'plan.md')!;
    const bin = conflicts.find((c) => c.path === 'data.bin')!;
    // bob's edit came later: it stays at the path, alice's goes to the copy.
    assert.equal(plan.fileAuthor?.name, 'bob');
    assert.equal(plan.copyAuthor?.name, 'alice');
    assert.ok(plan.copyAuthor!.at < plan.fileAuthor!.at, 'each side carries when it was changed');
    assert.match(plan.base ?? '', /^[0-9a-f]{64}$/, 'a text conflict names its base');
    assert.equal(bin.base, undefined, 'a binary conflict has no base');
    for (const u of [alice, bob]) {
      const { base } = await u.client.call('conflictBase', { space, copy: plan.copy });
      assert.equal(Buffer.from(base!, 'base64').toString('utf8'), BASE, `${u.name} serves the base`);
      assert.deepEqual(await u.client.call('conflictBase', { space, copy: bin.copy }), {});
    }
    await assert.rejects(
      alice.client.call('conflictBase', { space, copy: 'plan.md' }),
      (err: EngineCallError) => err.code === 'usage' && /not the copy of an open conflict/.test(err.message),
    );

    // Alice completes a merge: the file holds the merged bytes, and "keep the file" settles it
    // everywhere. She merges what her disk shows: bob's version at the path, hers in the copy (the
    // conflict is listed as soon as it is known, the winner is installed and recorded a moment
    // later; an edit made before that is an edit of her own version, and conflicts with bob's again).
    await waitFor(
      "bob's version at alice's path and hers in the copy",
      () => readText(at(alice, 'plan.md')) === BOB && readText(at(alice, plan.copy)) === ALICE,
      SYNC_MS,
    );
    await alice.until('the install recorded (in sync)', (s) => s.spaces.find((x) => x.id === space)?.state.kind === 'inSync');
    write(at(alice, 'plan.md'), MERGED);
    await alice.client.call('resolveConflict', { space, path: plan.copy, choice: 'mine' });
    for (const u of [alice, bob])
      await waitFor(
        `the merged file and no copy at ${u.name}`,
        () => readText(at(u, 'plan.md')) === MERGED && readText(at(u, plan.copy)) === undefined,
        SYNC_MS,
      );
    for (const u of [alice, bob]) await u.until('one conflict left', (s) => s.spaces.find((x) => x.id === space)?.conflicts.length === 1);
    const told = await bob.untilEvent('conflictResolved', (e) => e.conflict.copy === plan.copy);
    assert.equal(told.by, 'alice', 'bob hears who settled it');
    assert.equal(
      bob.event('conflictResolved', (e) => e.conflict.copy === bin.copy),
      undefined,
      'the open conflict is not reported gone',
    );
    // No new conflict from the merged version: it supersedes both sides.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    for (const u of [alice, bob]) {
      const left = (await u.status()).spaces.find((x) => x.id === space)!.conflicts;
      assert.deepEqual(
        left.map((c) => c.path),
        ['data.bin'],
        u.name,
      );
    }
  } finally {
    for (const u of users) await u.stop();
    await world.close();
  }
});
