import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import type { VersionVector } from '../../src/sync/model/version-vector';
import type { FileRecord } from '../../src/sync/model/file-record';
import { sleep, waitFor } from './disk-cluster';
import { forgedFile, forgedTombstone, HostilePeer, indexBatch } from './hostile-peer';
import { NetWorld, readText } from './net-cluster';

/**
 * Issue 15.1, version-vector poisoning: mallory, an editor, forges versions whose vectors carry
 * the victim's own index id at 2^53-1 (a version of a file the victim has, and a tombstone for a
 * path the victim has not made yet), so that every later edit of the victim's would lose. Sent
 * live, relayed through a third member, and through the mailbox: the victim's later edits must
 * survive and reach the others, and the refusal is logged naming mallory.
 */

const SYNC_MS = 30_000;
const MAX = Number.MAX_SAFE_INTEGER;

function write(world: NetWorld, folder: string, path: string, text: string): void {
  const abs = nodePath.join(world.folder(folder), path);
  fs.mkdirSync(nodePath.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, text);
}

function arrives(world: NetWorld, folder: string, path: string, text: string): Promise<void> {
  return waitFor(`${path} with "${text}" in ${folder}`, () => readText(nodePath.join(world.folder(folder), path)) === text, SYNC_MS);
}

interface Attack {
  readonly world: NetWorld;
  readonly space: string;
  readonly evil: HostilePeer;
  readonly alice: string;
  readonly bob: string;
  /** The index id alice's vectors carry. */
  readonly aliceIndex: string;
}

/**
 * alice (the victim, owner), bob and mallory (editors) share alice's folder `a` as `b` and `m`;
 * alice and bob run daemons and hold doc.txt; mallory is the hostile peer, in touch with both.
 */
async function underAttack(run: (attack: Attack) => Promise<void>): Promise<void> {
  const world = new NetWorld();
  let evil: HostilePeer | undefined;
  try {
    await world.aliceAndBob();
    await world.user('mallory');
    await world.contacts('alice', 'mallory');
    await world.contacts('bob', 'mallory');
    const space = await world.share('alice', 'a', ['bob', 'mallory']);
    await world.join('bob', space, 'b');
    await world.join('mallory', space, 'm');
    world.start('alice');
    world.start('bob');
    write(world, 'a', 'doc.txt', 'alice wrote this\n');
    await arrives(world, 'b', 'doc.txt', 'alice wrote this\n');

    evil = await HostilePeer.signIn(world, 'mallory');
    evil.serve(EVIL);
    const alice = evil.deviceOf('alice');
    const bob = evil.deviceOf('bob');
    const aliceIndex = (await evil.helloFrom(alice, space)).indexId;
    await evil.helloFrom(bob, space);
    await run({ world, space, evil, alice, bob, aliceIndex });
  } finally {
    await evil?.close();
    await world.close();
  }
}

const EVIL = new TextEncoder().encode('mallory was here\n');

/** The poison: doc.txt rewritten with the victim's counter at 2^53-1, banned.txt deleted the same way. */
function poison(victimIndex: string, counter = MAX): FileRecord[] {
  const vector: VersionVector = [{ id: victimIndex, counter }];
  return [forgedFile('doc.txt', EVIL, vector, 1), forgedTombstone('banned.txt', vector, 2)];
}

/** After the poison: alice edits doc.txt and makes banned.txt; both stay hers and reach bob. */
async function victimEditsSurvive(world: NetWorld): Promise<void> {
  write(world, 'a', 'doc.txt', 'alice edits after the attack\n');
  write(world, 'a', 'banned.txt', 'a new file alice makes\n');
  await arrives(world, 'b', 'doc.txt', 'alice edits after the attack\n');
  await arrives(world, 'b', 'banned.txt', 'a new file alice makes\n');
  // Long enough for a reverting version to have come back from any member.
  await sleep(2000);
  assert.equal(readText(nodePath.join(world.folder('a'), 'doc.txt')), 'alice edits after the attack\n');
  assert.equal(readText(nodePath.join(world.folder('a'), 'banned.txt')), 'a new file alice makes\n');
  assert.equal(readText(nodePath.join(world.folder('b'), 'doc.txt')), 'alice edits after the attack\n');
}

/** The line the receiver logs for the refused version of doc.txt, naming mallory as its sender. */
function refused(sender: string): RegExp {
  return new RegExp(`doc\\.txt: forgedVersion \\(remote, from ${sender} on device [0-9a-f]+\\): .*forged version`);
}

function refusalLogged(world: NetWorld, who: string, sender = 'mallory'): Promise<void> {
  return waitFor(`${who} to log the refusal`, () => refused(sender).test(world.log(who)), SYNC_MS);
}

test('a poisoned vector sent live is refused by the victim, logged naming the sender, and later edits survive', () =>
  underAttack(async ({ world, space, evil, alice, aliceIndex }) => {
    evil.send(alice, space, indexBatch('mallory-index', poison(aliceIndex)));
    await refusalLogged(world, 'alice');
    await victimEditsSurvive(world);
  }));

test('a poisoned vector sent to a third member is refused there and never reaches the victim', () =>
  underAttack(async ({ world, space, evil, bob, aliceIndex }) => {
    // Only bob is sent the poison: today bob takes it and passes it on to alice.
    evil.send(bob, space, indexBatch('mallory-index', poison(aliceIndex)));
    await refusalLogged(world, 'bob');
    await victimEditsSurvive(world);
  }));

test("a claim on the victim's counter close to the clock, taken and relayed by a third member, is refused and outbid by the victim", () =>
  underAttack(async ({ world, space, evil, bob, aliceIndex }) => {
    // 20 minutes ahead: bob cannot tell it from a counter of alice's, takes it and passes it on.
    evil.send(bob, space, indexBatch('mallory-index', poison(aliceIndex, Date.now() + 20 * 60_000)));
    await refusalLogged(world, 'alice', 'bob');
    await arrives(world, 'b', 'doc.txt', 'alice wrote this\n');
    await victimEditsSurvive(world);
  }));

test('a poisoned vector sent through the mailbox is refused by the victim, and later edits survive', () =>
  underAttack(async ({ world, space, evil, alice, aliceIndex }) => {
    // The blocks travel in the item too, as a daemon mails them; the index follows.
    evil.mail(alice, space, [
      { type: 'blockResponse', id: 0, hash: forgedFile('x', EVIL, [], 0).blocks[0]!.hash, status: 'ok', data: EVIL },
      indexBatch('mallory-index', poison(aliceIndex)),
    ]);
    await refusalLogged(world, 'alice');
    await victimEditsSurvive(world);
  }));
