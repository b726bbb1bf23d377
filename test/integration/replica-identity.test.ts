import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { DeviceHome } from '../../src/node/agent/device-home';
import { DiskStore, MARKER_DIR } from '../../src/node/disk/disk-store';
import { readRootIdentity } from '../../src/node/disk/root-marker';
import { ForeignSpaceError } from '../../src/sync/replica/root-identity';
import { DiskCluster, openTestReplica, sleep, snapshotTree, waitFor, type Member } from './disk-cluster';
import { NetWorld, cli, ok, readText } from './net-cluster';

const SPACE = 'space-1';
const FILES = ['a.txt', 'b.txt', 'docs/c.txt'];

/** Files a member's folder moved to its versions folder: what a delete there leaves. */
function versioned(m: Member): string[] {
  const dir = nodePath.join(m.root, MARKER_DIR, 'versions');
  return fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true }).map(String) : [];
}

/** alice and bob in sync on three files. */
async function synced(): Promise<{ cluster: DiskCluster; alice: Member; bob: Member }> {
  const cluster = await DiskCluster.create(['alice', 'bob'], { space: SPACE });
  const alice = cluster.member('alice');
  fs.mkdirSync(nodePath.join(alice.root, 'docs'));
  for (const f of FILES) fs.writeFileSync(nodePath.join(alice.root, f), `content of ${f}`);
  await cluster.linkAll();
  await cluster.settle();
  return { cluster, alice, bob: cluster.member('bob') };
}

async function files(root: string): Promise<string[]> {
  return [...(await snapshotTree(root))].filter(([, e]) => e.type === 'file').map(([p]) => p);
}

test("a replica's state opened against an empty folder: nothing is deleted anywhere, the folder fills from the peer", async () => {
  const { cluster, alice, bob } = await synced();
  try {
    const before = bob.root;
    const other = nodePath.join(cluster.base, 'bob', 'elsewhere');
    // As `join` makes a folder: its marker names the space, no replica claimed it yet.
    await DiskStore.initFolder(other, SPACE);
    await cluster.reopenAt('bob', other);
    assert.deepEqual(
      bob.events.filter((e) => e.kind === 'reRooted').map((e) => e.kind === 'reRooted' && e.reason),
      ['noIdentity'],
    );
    await cluster.settle();
    assert.deepEqual(await files(alice.root), FILES);
    assert.deepEqual(await files(other), FILES, 'filled from alice');
    assert.deepEqual(versioned(alice), [], 'alice deleted nothing');
    assert.deepEqual(await files(before), FILES, 'the folder bob left is as it was');
    assert.equal((await readRootIdentity(other))?.space, SPACE);
    assert.match((await readRootIdentity(other))?.root ?? '', /^[0-9a-f]{32}$/);
    assert.notEqual((await readRootIdentity(other))?.root, (await readRootIdentity(before))?.root);
  } finally {
    await cluster.close();
  }
});

test("a state opened against a copy of another replica's folder, marker and all: its files are taken as new, nothing deleted", async () => {
  const { cluster, alice, bob } = await synced();
  try {
    const copy = nodePath.join(cluster.base, 'bob', 'copy');
    fs.cpSync(alice.root, copy, { recursive: true, preserveTimestamps: true });
    fs.rmSync(nodePath.join(copy, 'b.txt'));
    fs.writeFileSync(nodePath.join(copy, 'new.txt'), 'only in the copy');
    await cluster.reopenAt('bob', copy);
    assert.deepEqual(
      bob.events.filter((e) => e.kind === 'reRooted').map((e) => e.kind === 'reRooted' && e.reason),
      ['foreignMarker'],
    );
    await cluster.settle();
    // b.txt was never on bob's new disk as far as bob knows: it comes back rather than goes.
    assert.deepEqual(await files(alice.root), ['a.txt', 'b.txt', 'docs/c.txt', 'new.txt']);
    assert.deepEqual(await files(copy), await files(alice.root));
    assert.deepEqual(versioned(alice), [], 'alice deleted nothing');
    assert.notEqual((await readRootIdentity(copy))?.root, (await readRootIdentity(alice.root))?.root);
  } finally {
    await cluster.close();
  }
});

test('a folder of another space is refused with a typed error and left as it is', async () => {
  const { cluster, bob } = await synced();
  try {
    const foreign = nodePath.join(cluster.base, 'foreign');
    await DiskStore.initFolder(foreign, 'space-2');
    fs.writeFileSync(nodePath.join(foreign, 'theirs.txt'), 'theirs');
    await assert.rejects(
      openTestReplica(foreign, nodePath.join(cluster.base, 'carol-state'), 'carol', { send: () => undefined }, { space: SPACE }),
      (err: unknown) => err instanceof ForeignSpaceError && err.other === 'space-2',
    );
    assert.deepEqual(await readRootIdentity(foreign), { space: 'space-2', root: '' });
    assert.deepEqual(await files(foreign), ['theirs.txt']);
    assert.equal(bob.disk.replica.state(), 'idle');
  } finally {
    await cluster.close();
  }
});

test('a 3-file folder emptied pauses; no delete reaches the peer until confirmed, then the deletes flow', async () => {
  const { cluster, alice, bob } = await synced();
  try {
    for (const f of FILES) fs.rmSync(nodePath.join(bob.root, f));
    await waitFor('bob to pause', () => bob.disk.replica.state() === 'paused');
    assert.ok(bob.events.some((e) => e.kind === 'paused' && e.reason === 'massDelete' && e.deletes === 3 && e.liveFiles === 3));
    // Rescans and ticks go on meanwhile: still nothing reaches alice.
    await bob.disk.scan();
    await sleep(1_000);
    assert.equal(bob.disk.replica.state(), 'paused');
    assert.deepEqual(await files(alice.root), FILES, 'nothing deleted at alice yet');
    await bob.disk.replica.resolveMassDelete('delete');
    // A file may go between the listing and its read while the deletes land: look again then.
    await waitFor(
      'the deletes to reach alice',
      async () =>
        (await files(alice.root).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? ['?'] : Promise.reject(err)))).length === 0,
    );
    assert.deepEqual(versioned(alice).filter((p) => p.endsWith('.txt')).length, 3, "alice's copies are in her versions folder");
    await cluster.settle();
  } finally {
    await cluster.close();
  }
});

test('a daemon whose space is pointed at another folder reopens it there: the old state stays off the new folder', async () => {
  const world = new NetWorld();
  try {
    const space = await world.alicesFolderWithBob();
    world.start('alice');
    world.start('bob');
    for (const f of ['one.txt', 'two.txt', 'three.txt']) fs.writeFileSync(nodePath.join(world.folder('a'), f), f);
    await waitFor('the files at bob', () => readText(nodePath.join(world.folder('b'), 'three.txt')) === 'three.txt', 30_000);
    await waitFor('bob to sync', () => readText(nodePath.join(world.folder('b'), 'one.txt')) === 'one.txt', 30_000);
    // Another process (a second `join`, the extension) points the space at a new, empty folder.
    const moved = world.folder('b-moved');
    await DiskStore.initFolder(moved, space);
    new DeviceHome(world.home('bob')).putSpace({ id: space, path: moved });
    for (const f of ['one.txt', 'two.txt', 'three.txt']) {
      await waitFor(`${f} in the new folder`, () => readText(nodePath.join(moved, f)) === f, 30_000);
    }
    assert.match(world.log('bob'), /its folder is now .*b-moved/);
    assert.match(world.log('bob'), /the folder has no identity of its own/);
    // And after a restart, still nothing is deleted anywhere.
    await world.stop('bob');
    world.start('bob');
    await waitFor('bob to sync again', () => world.log('bob').split(`space ${space}: syncing ${moved}`).length > 2, 30_000);
    await sleep(1_500);
    for (const f of ['one.txt', 'two.txt', 'three.txt']) {
      assert.equal(readText(nodePath.join(world.folder('a'), f)), f, `${f} still at alice`);
      assert.equal(readText(nodePath.join(world.folder('b'), f)), f, `${f} still in the folder bob left`);
    }
    const versions = nodePath.join(world.folder('a'), MARKER_DIR, 'versions');
    assert.deepEqual(fs.existsSync(versions) ? fs.readdirSync(versions) : [], [], 'alice deleted nothing');
  } finally {
    await world.close();
  }
});

test('through the CLI: an emptied folder pauses until "deletes" answers it; restore brings the files back, apply deletes them everywhere', async () => {
  const world = new NetWorld();
  try {
    const space = await world.alicesFolderWithBob();
    for (const f of ['one.txt', 'two.txt', 'three.txt']) fs.writeFileSync(nodePath.join(world.folder('a'), f), `text of ${f}`);
    const refused = await cli(['deletes', '--home', world.home('alice'), '--space', space, '--answer', 'apply']);
    assert.equal(refused.code, 1, 'no daemon: nothing holds a pause');
    assert.match(refused.stderr, /^shared-folders: no daemon is running for .*: start "shared-folders run --home /);
    world.start('alice');
    world.start('bob');
    const names = (folder: string): string[] =>
      fs
        .readdirSync(world.folder(folder))
        .filter((n) => n !== MARKER_DIR)
        .sort();
    await waitFor('bob to have the three files', () => names('b').join() === 'one.txt,three.txt,two.txt', 30_000);

    const emptyAlice = async (): Promise<void> => {
      const before = (world.log('alice').match(/: paused: /g) ?? []).length;
      for (const f of names('a')) fs.rmSync(nodePath.join(world.folder('a'), f));
      await waitFor('alice to pause', () => (world.log('alice').match(/: paused: /g) ?? []).length > before, 30_000);
    };
    await emptyAlice();
    assert.match(world.log('alice'), new RegExp(`answer .*"shared-folders deletes --space ${space} --answer apply\\|restore"`));
    await sleep(2_000);
    assert.deepEqual(names('b'), ['one.txt', 'three.txt', 'two.txt'], 'no delete left alice while she is paused');

    await ok(['deletes', '--home', world.home('alice'), '--space', space, '--answer', 'restore']);
    await waitFor('alice to have her files back', () => names('a').join() === 'one.txt,three.txt,two.txt', 30_000);
    assert.equal(fs.readFileSync(nodePath.join(world.folder('a'), 'two.txt'), 'utf8'), 'text of two.txt');
    const wrong = await cli(['deletes', '--home', world.home('alice'), '--space', space, '--answer', 'restore']);
    assert.equal(wrong.code, 1, 'a folder that is not paused has nothing to answer');
    assert.match(wrong.stderr, /not waiting for an answer about deleted files/);

    await emptyAlice();
    await ok(['deletes', '--home', world.home('alice'), '--space', space, '--answer', 'apply']);
    await waitFor('the deletes to reach bob', () => names('b').length === 0, 30_000);
    const bobsVersions = fs.readdirSync(nodePath.join(world.folder('b'), MARKER_DIR, 'versions'), { recursive: true }).map(String);
    for (const f of ['one', 'two', 'three'])
      assert.ok(
        bobsVersions.some((v) => v.startsWith(f)),
        `bob keeps ${f} in his versions folder`,
      );
  } finally {
    await world.close();
  }
});
