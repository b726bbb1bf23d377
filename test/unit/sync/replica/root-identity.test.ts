import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideRoot, ForeignSpaceError } from '../../../../src/sync/replica/root-identity';
import type { ReplicaEvent } from '../../../../src/sync/replica/replica-events';
import { SimulatedCrash } from '../../../sim/crash-switch';
import { MemoryStore } from '../../../sim/memory-store';
import { Cluster, type Peer } from './engine-harness';

const ROOT_A = 'a'.repeat(32);
const ROOT_B = 'b'.repeat(32);

test('decideRoot: every case', () => {
  const held = { fresh: false, rootId: ROOT_A };
  assert.deepEqual(decideRoot({ space: 's', root: ROOT_A }, held, 's'), { kind: 'same' });
  assert.deepEqual(decideRoot({ space: 's', root: ROOT_B }, held, 's'), { kind: 'reRoot', reason: 'foreignMarker' });
  assert.deepEqual(decideRoot(undefined, held, 's'), { kind: 'reRoot', reason: 'noIdentity' });
  assert.deepEqual(decideRoot({ space: 's', root: '' }, held, 's'), { kind: 'reRoot', reason: 'noIdentity' }, 'a marker initFolder named');
  // A state written before roots had identities matches no folder.
  assert.deepEqual(decideRoot({ space: 's', root: ROOT_A }, { fresh: false }, 's'), { kind: 'reRoot', reason: 'foreignMarker' });
  assert.deepEqual(decideRoot(undefined, { fresh: false }, 's'), { kind: 'reRoot', reason: 'noIdentity' });
  // A state that holds nothing fits any folder of its space.
  assert.deepEqual(decideRoot(undefined, { fresh: true }, 's'), { kind: 'claim' });
  assert.deepEqual(decideRoot({ space: 's', root: ROOT_B }, { fresh: true, rootId: ROOT_A }, 's'), { kind: 'claim' });
  assert.deepEqual(decideRoot({ space: 's', root: ROOT_A }, { fresh: true, rootId: ROOT_A }, 's'), { kind: 'same' });
  // Another space's folder is refused whatever the state, and whatever its root.
  assert.deepEqual(decideRoot({ space: 'other', root: ROOT_A }, held, 's'), { kind: 'foreignSpace', other: 'other' });
  assert.deepEqual(decideRoot({ space: 'other', root: '' }, { fresh: true }, 's'), { kind: 'foreignSpace', other: 'other' });
  // Unnamed on either side: no space to compare.
  assert.deepEqual(decideRoot({ space: '', root: ROOT_A }, held, 's'), { kind: 'same' });
  assert.deepEqual(decideRoot({ space: 'other', root: ROOT_A }, held, undefined), { kind: 'same' });
});

function reRoots(peer: Peer): ReplicaEvent[] {
  return peer.events.filter((e) => e.kind === 'reRooted');
}

function paths(peer: Peer): string[] {
  return peer.store.snapshot().map((e) => e.path);
}

/** alice and bob in sync on three files. */
async function synced(): Promise<{ c: Cluster; alice: Peer; bob: Peer }> {
  const c = new Cluster({ space: 'space-1' });
  const alice = await c.add('alice');
  const bob = await c.add('bob');
  for (const name of ['a.txt', 'b.txt', 'c.txt']) c.write('alice', name, `content of ${name}`);
  await c.connect('alice', 'bob');
  await c.settle();
  assert.deepEqual(paths(bob), ['a.txt', 'b.txt', 'c.txt']);
  return { c, alice, bob };
}

/** bob's state, opened against another folder (as when the home points the space elsewhere). */
async function moveBob(c: Cluster, bob: Peer, folder: MemoryStore): Promise<void> {
  await c.disconnect('alice', 'bob');
  bob.store = folder;
  bob.replica = await c.open(bob);
  await c.connect('alice', 'bob');
}

test('a first open claims the folder: the marker and the state carry one new root', async () => {
  const c = new Cluster({ space: 'space-1' });
  const alice = await c.add('alice');
  const marker = alice.store.rootIdentity();
  assert.equal(marker?.space, 'space-1');
  assert.match(marker?.root ?? '', /^[0-9a-f]{32}$/);
  assert.equal((await alice.state.load())?.meta.rootId, marker?.root);
  assert.deepEqual(reRoots(alice), []);
  // Opened again: the same root, the same index.
  const indexId = alice.replica.indexId;
  alice.replica = await c.open(alice);
  assert.equal(alice.replica.indexId, indexId);
  assert.deepEqual(alice.store.rootIdentity(), marker);
});

test('a state opened against an empty folder without identity: re-rooted, nothing deleted, the peer fills it', async () => {
  const { c, alice, bob } = await synced();
  const oldIndex = bob.replica.indexId;
  await moveBob(c, bob, new MemoryStore(bob.crash));
  assert.deepEqual(
    reRoots(bob).map((e) => e.kind === 'reRooted' && e.reason),
    ['noIdentity'],
  );
  assert.notEqual(bob.replica.indexId, oldIndex, 'a fresh index');
  assert.equal(bob.replica.records().length, 0, 'the old state was set aside whole');
  await c.settle();
  assert.ok(!c.log.some((e) => e.message.type === 'index' && e.message.records.some((r) => r.deleted)), 'no delete was sent');
  assert.deepEqual(paths(alice), ['a.txt', 'b.txt', 'c.txt']);
  assert.deepEqual(paths(bob), ['a.txt', 'b.txt', 'c.txt'], 'filled from alice');
  assert.equal(bob.store.rootIdentity()?.root, (await bob.state.load())?.meta.rootId);
});

test("a state opened against another replica's folder (its marker too): re-rooted, its files taken as new", async () => {
  const { c, alice, bob } = await synced();
  const copy = new MemoryStore(bob.crash);
  alice.store.copyTo(copy);
  copy.userWrite('d.txt', new TextEncoder().encode('only in the copy'), c.time.now());
  await moveBob(c, bob, copy);
  assert.deepEqual(
    reRoots(bob).map((e) => e.kind === 'reRooted' && e.reason),
    ['foreignMarker'],
  );
  assert.notEqual(bob.store.rootIdentity()?.root, alice.store.rootIdentity()?.root, 'bob gave the copy a root of its own');
  await c.settle();
  assert.ok(!c.log.some((e) => e.message.type === 'index' && e.message.records.some((r) => r.deleted)), 'no delete was sent');
  assert.deepEqual(paths(alice), ['a.txt', 'b.txt', 'c.txt', 'd.txt']);
  assert.deepEqual(paths(bob), paths(alice));
  assert.equal(alice.replica.conflicts().length, 0, 'equal content is no conflict');
});

test('a folder of another space is refused, and neither it nor the state is touched', async () => {
  const { c, bob } = await synced();
  const foreign = new MemoryStore(bob.crash);
  foreign.userWrite('theirs.txt', new TextEncoder().encode('x'), 0);
  foreign.setRootIdentity({ space: 'space-2', root: ROOT_B });
  const stateBefore = JSON.stringify(await bob.state.load());
  bob.store = foreign;
  await assert.rejects(
    c.open(bob),
    (err: unknown) => err instanceof ForeignSpaceError && err.other === 'space-2' && err.space === 'space-1',
  );
  assert.deepEqual(foreign.rootIdentity(), { space: 'space-2', root: ROOT_B });
  assert.deepEqual(paths(bob), ['theirs.txt']);
  assert.equal(JSON.stringify(await bob.state.load()), stateBefore);
});

test('a marker that comes back as another root: the running replica stops, then starts over there', async () => {
  const { c, alice, bob } = await synced();
  bob.store.removeRootMarker();
  assert.equal((await bob.replica.scan()).state, 'stopped');
  // Another disk at the path: empty, its marker without identity.
  bob.store.mountInstead(new MemoryStore(bob.crash));
  bob.store.restoreRootMarker();
  const report = await bob.replica.scan();
  assert.notEqual(report.state, 'stopped');
  assert.deepEqual(
    reRoots(bob).map((e) => e.kind === 'reRooted' && e.reason),
    ['noIdentity'],
  );
  await c.settle();
  assert.ok(!c.log.some((e) => e.message.type === 'index' && e.message.records.some((r) => r.deleted)), 'no delete was sent');
  assert.deepEqual(paths(alice), ['a.txt', 'b.txt', 'c.txt']);
  assert.deepEqual(paths(bob), ['a.txt', 'b.txt', 'c.txt']);
});

test('the same disk mounted again resumes as it was', async () => {
  const { c, bob } = await synced();
  const indexId = bob.replica.indexId;
  bob.store.removeRootMarker();
  assert.equal((await bob.replica.scan()).state, 'stopped');
  bob.store.restoreRootMarker();
  assert.equal((await bob.replica.scan()).state, 'idle');
  assert.equal(bob.replica.indexId, indexId);
  assert.deepEqual(reRoots(bob), []);
  await c.settle();
});

test('a crash at any point of a re-root leaves a state that deletes nothing', async () => {
  for (let crashAt = 1; crashAt <= 8; crashAt++) {
    const { c, alice, bob } = await synced();
    await c.disconnect('alice', 'bob');
    bob.store = new MemoryStore(bob.crash);
    bob.crash.armAfter(crashAt);
    let crashed = false;
    try {
      bob.replica = await c.open(bob);
    } catch (err) {
      if (!(err instanceof SimulatedCrash)) throw err;
      crashed = true;
    }
    bob.crash.reset();
    if (crashed) bob.replica = await c.open(bob);
    await bob.replica.scan();
    assert.ok(
      bob.replica.records().every((r) => !r.deleted),
      `crash at ${crashAt}: ${bob.replica.records().length} records`,
    );
    await c.connect('alice', 'bob');
    await c.settle();
    assert.deepEqual(paths(alice), ['a.txt', 'b.txt', 'c.txt'], `crash at ${crashAt}`);
    assert.deepEqual(paths(bob), ['a.txt', 'b.txt', 'c.txt'], `crash at ${crashAt}`);
  }
});

test('opened while the marker is gone: nothing is decided until it is back, then the same root resumes', async () => {
  const { c, bob } = await synced();
  const indexId = bob.replica.indexId;
  bob.store.removeRootMarker();
  bob.replica = await c.open(bob);
  assert.equal((await bob.replica.scan()).state, 'stopped');
  bob.store.restoreRootMarker();
  assert.equal((await bob.replica.scan()).state, 'idle');
  assert.equal(bob.replica.indexId, indexId);
  assert.deepEqual(reRoots(bob), []);
  assert.deepEqual(paths(bob), ['a.txt', 'b.txt', 'c.txt']);
});

test("another space's disk mounted at the path stops the running replica with an error, until a folder of its own is back", async () => {
  const { c, alice, bob } = await synced();
  bob.store.removeRootMarker();
  await bob.replica.scan();
  const foreign = new MemoryStore(bob.crash);
  foreign.setRootIdentity({ space: 'space-2', root: ROOT_B });
  bob.store.mountInstead(foreign);
  bob.store.restoreRootMarker();
  assert.equal((await bob.replica.scan()).state, 'stopped');
  assert.equal(bob.replica.errors().get('')?.code, 'foreignSpace');
  assert.deepEqual(bob.store.rootIdentity(), { space: 'space-2', root: ROOT_B }, 'not claimed');
  await c.round();
  assert.deepEqual(paths(alice), ['a.txt', 'b.txt', 'c.txt']);
  // The user puts an empty folder of this space there.
  bob.store.mountInstead(new MemoryStore(bob.crash));
  assert.notEqual((await bob.replica.scan()).state, 'stopped');
  assert.equal(bob.replica.errors().size, 0);
  assert.deepEqual(
    reRoots(bob).map((e) => e.kind === 'reRooted' && e.reason),
    ['noIdentity'],
  );
  await c.settle();
  assert.deepEqual(paths(bob), ['a.txt', 'b.txt', 'c.txt']);
  assert.deepEqual(paths(alice), ['a.txt', 'b.txt', 'c.txt']);
});
