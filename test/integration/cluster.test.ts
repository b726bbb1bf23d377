import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from './disk-cluster';
import { NetWorld, sameFile, writeRandom } from './net-cluster';

/**
 * A cluster of three server processes over PostgreSQL and NATS behind HAProxy, whatever
 * SF_TEST_CLUSTER says: alice's devices are pinned to the first process, bob's to the second.
 * Each test kills a process with SIGKILL, so nothing it held in memory survives: what arrives
 * afterwards came through the shared database, the bus and the other processes.
 */

const SYNC_MS = 60_000;
const MiB = 1024 * 1024;
const [FIRST, SECOND, THIRD] = [0, 1, 2];

/** Three processes; alice and bob contacts, alice's folder `a` shared with bob as `b`. */
async function aliceSharingWithBob(world: NetWorld, serverFlags: readonly string[] = []): Promise<void> {
  await world.startServer(serverFlags);
  await world.user('alice');
  await world.user('bob');
  await world.contacts('alice', 'bob');
  const space = await world.share('alice', 'a', ['bob']);
  await world.join('bob', space, 'b');
}

async function signedInTo(world: NetWorld, who: string, index: number): Promise<void> {
  await waitFor(`${who} to sign in to node${index + 1}`, () => world.processOf(who) === index, SYNC_MS);
}

async function presenceAt(world: NetWorld, viewer: string, of: string): Promise<string | undefined> {
  const status = await world.status(viewer);
  return status.spaces.flatMap((s) => s.members).find((m) => m.name === of)?.presence;
}

test("cluster: bob's process is killed mid-way through a 50 MiB change from alice on another; bob fails over and it arrives whole", async () => {
  const world = new NetWorld(3);
  try {
    await aliceSharingWithBob(world);
    world.start('alice');
    // Held to 8 MiB/s, so the process can be killed while most of the change is still to come.
    world.start('bob', ['--limit-down', '8192', '--no-direct']);
    await signedInTo(world, 'alice', FIRST);
    await signedInTo(world, 'bob', SECOND);
    // Each learns of the other through the bus before the change starts.
    await waitFor('alice to see bob online', async () => (await presenceAt(world, 'alice', 'bob')) === 'online', SYNC_MS);
    await waitFor('bob to see alice online', async () => (await presenceAt(world, 'bob', 'alice')) === 'online', SYNC_MS);
    const big = writeRandom(world, 'a', 'big.bin', 50 * MiB);
    await waitFor('bob to have received 10 MiB of it', async () => (await world.status('bob')).bytesReceived > 10 * MiB, SYNC_MS);
    assert.equal(sameFile(world, 'b', 'big.bin', big), false, 'the change is still arriving when the process is killed');
    await world.killProcess(SECOND);

    // HAProxy sends bob's reconnection to the third process; alice stays on the first, so the
    // rest of the change crosses processes over the bus, and the frames lost with the killed
    // process are recovered by the sync protocol's own resend.
    await signedInTo(world, 'bob', THIRD);
    await waitFor('the 50 MiB change at bob, byte-identical', () => sameFile(world, 'b', 'big.bin', big), 2 * SYNC_MS);
    assert.equal(world.processOf('alice'), FIRST);
  } finally {
    await world.close();
  }
});

test('cluster: a mailbox item deposited through a process that is then killed is delivered to its recipient by another', async () => {
  const world = new NetWorld(3);
  try {
    await aliceSharingWithBob(world);
    world.start('alice');
    await signedInTo(world, 'alice', FIRST);
    const note = writeRandom(world, 'a', 'for-bob.bin', 200 * 1024);
    // Logged once the server has answered after the deposits: they are acknowledged.
    await waitFor(
      'alice to mail her change to bob, offline',
      () => /mailed changes up to \d+ to offline device/.test(world.log('alice')),
      SYNC_MS,
    );
    assert.ok((await world.metric('sharedfolders_mailbox_items')) > 0);
    // alice goes too, so nothing can deposit the change again: what bob gets is what the killed process took.
    await world.stop('alice', 'SIGKILL');
    await world.killProcess(FIRST);

    world.start('bob');
    await signedInTo(world, 'bob', SECOND);
    await waitFor("alice's change at bob, from the mailbox", () => sameFile(world, 'b', 'for-bob.bin', note), SYNC_MS);
    await waitFor(
      'the mailbox to empty once bob acknowledged',
      async () => (await world.metric('sharedfolders_mailbox_items')) === 0,
      SYNC_MS,
    );
  } finally {
    await world.close();
  }
});

test("cluster: when a process is killed, its users turn offline at their contacts' on other processes within the heartbeat bound", async () => {
  const world = new NetWorld(3);
  try {
    await aliceSharingWithBob(world, ['--heartbeat', '1']);
    world.start('alice');
    const bob = world.start('bob');
    await signedInTo(world, 'alice', FIRST);
    await signedInTo(world, 'bob', SECOND);
    await waitFor('alice to see bob online', async () => (await presenceAt(world, 'alice', 'bob')) === 'online', SYNC_MS);

    // The process dies first, so it never sees bob's socket close and never says he left; bob's
    // daemon dies a moment later, before it can reconnect elsewhere. Only the cluster noticing
    // the dead process can turn him offline.
    const killed = world.killProcess(SECOND); // sends SIGKILL before it returns
    bob.kill('SIGKILL');
    await killed;
    // Two heartbeats of 1 s make the bound; the wait allows for slow machines, not for a stale view.
    await waitFor('alice to see bob offline', async () => (await presenceAt(world, 'alice', 'bob')) === 'offline', 15_000);
    assert.equal(world.processOf('alice'), FIRST);
  } finally {
    await world.close();
  }
});
