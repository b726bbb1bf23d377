import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { spaceDocSigningBytes, type Role, type SpaceDoc } from '../../src/sync/protocol/rendezvous';
import { toHex } from '../../src/sync/util/bytes';
import { withServer } from '../../src/node/agent/account';
import { DeviceHome } from '../../src/node/agent/device-home';
import { deviceIdOf, signWith } from '../../src/node/crypto/device-keys';
import { DiskStore } from '../../src/node/disk/disk-store';
import { waitFor } from './disk-cluster';
import { cli, NetWorld, readText } from './net-cluster';

/*
 * A hostile server rewrites the space documents in its own store (its SQLite file, between
 * restarts), helped by a hostile member who does the same to its own home. The victims' devices
 * must check every version themselves and go on as the last version they accepted says.
 */

const SYNC_MS = 30_000;

function write(world: NetWorld, folder: string, path: string, text: string): void {
  fs.writeFileSync(nodePath.join(world.folder(folder), path), text);
}

function arrives(world: NetWorld, folder: string, path: string, text: string): Promise<void> {
  return waitFor(`${path} in ${folder}`, () => readText(nodePath.join(world.folder(folder), path)) === text, SYNC_MS);
}

function homeOf(world: NetWorld, who: string): DeviceHome {
  return new DeviceHome(world.home(who));
}

function userId(world: NetWorld, who: string): string {
  return homeOf(world, who).identity().user!;
}

/** A space document signed with `who`'s device key, as that device would sign it. */
function signedBy(world: NetWorld, who: string, base: SpaceDoc, version: number, members: readonly [string, Role][]): SpaceDoc {
  const keys = homeOf(world, who).identity().keys;
  const unsigned = {
    id: base.id,
    kind: base.kind,
    version,
    members: members.map(([name, role]) => ({ user: userId(world, name), role })),
    author: deviceIdOf(keys),
  };
  return { ...unsigned, signature: toHex(signWith(keys, spaceDocSigningBytes(unsigned))) };
}

function serverDb(world: NetWorld): Database.Database {
  return new Database(nodePath.join(world.dataDir, 'server.sqlite'));
}

function storedDoc(world: NetWorld, space: string): SpaceDoc {
  const db = serverDb(world);
  try {
    return JSON.parse((db.prepare('SELECT doc FROM spaces WHERE id = ?').get(space) as { doc: string }).doc) as SpaceDoc;
  } finally {
    db.close();
  }
}

/** What the hostile server does, with the server stopped: its store now holds `doc`, and `joined` have joined. */
async function rewriteStore(world: NetWorld, doc: SpaceDoc, joined: readonly string[] = []): Promise<void> {
  await world.stopServer();
  const db = serverDb(world);
  db.prepare('UPDATE spaces SET version = ?, doc = ? WHERE id = ?').run(doc.version, JSON.stringify(doc), doc.id);
  for (const who of joined)
    db.prepare("INSERT OR REPLACE INTO members (space, user, status) VALUES (?, ?, 'joined')").run(doc.id, userId(world, who));
  db.close();
  await world.startServer();
}

/** What a hostile member does to its own home, its daemon stopped: it takes `doc` as accepted. */
function believe(world: NetWorld, who: string, doc: SpaceDoc): void {
  fs.writeFileSync(nodePath.join(world.home(who), 'space-docs.json'), JSON.stringify({ accepted: { [doc.id]: doc }, refused: {} }));
}

interface StatusWithErrors {
  errors: { space: string; path: string; message: string }[];
}

async function statusErrors(world: NetWorld, who: string): Promise<string[]> {
  const status = (await world.status(who)) as unknown as StatusWithErrors;
  return status.errors.map((e) => `${e.space}: ${e.message}`);
}

function readerRefusals(world: NetWorld): number {
  return (world.log('alice').match(/refused \d+ changes from bob, who may only read/g) ?? []).length;
}

/** Bob writes `path`; waits until alice refuses changes from him once more (her log says so) or takes the file, which must not be in her folder. */
async function refusedByAlice(world: NetWorld, path: string): Promise<void> {
  const before = readerRefusals(world);
  write(world, 'b', path, 'bob may only read\n');
  const file = nodePath.join(world.folder('a'), path);
  await waitFor(`alice to refuse or take bob's ${path}`, () => readText(file) !== undefined || readerRefusals(world) > before, SYNC_MS);
  assert.equal(readText(file), undefined, `bob's ${path} reached alice's folder: her device took the server's word that bob may edit`);
}

/** alice's and bob's daemons run, and a file of alice's has reached bob. */
async function bothRunningInSync(world: NetWorld): Promise<void> {
  world.start('alice');
  world.start('bob');
  write(world, 'a', 'first.txt', 'from alice\n');
  await arrives(world, 'b', 'first.txt', 'from alice\n');
}

/** The server shows `doc` as the space's document, and bob, who colludes, takes it as accepted. */
async function showToBobWhoPlaysAlong(world: NetWorld, doc: SpaceDoc): Promise<void> {
  await world.stop('bob');
  believe(world, 'bob', doc);
  await rewriteStore(world, doc);
  world.start('bob');
}

/** bob's next change is refused by alice, hers still reach him, and her log says why she kept her version. */
async function aliceKeepsHerVersion(world: NetWorld, space: string, why: string): Promise<void> {
  await refusedByAlice(world, 'sneaky.txt');
  write(world, 'a', 'second.txt', 'still from alice\n');
  await arrives(world, 'b', 'second.txt', 'still from alice\n');
  assert.match(world.log('alice'), new RegExp(`space ${space}: refused version \\d+ of its member list from the server: ${why}`));
}

test('a server that promotes a reader with a document the owner never signed: the owner refuses it and the reader stays a reader', async () => {
  const world = new NetWorld();
  try {
    await world.aliceAndBob();
    const space = await world.share('alice', 'a', ['bob'], 'reader');
    await world.join('bob', space, 'b');
    await bothRunningInSync(world);

    // The server rewrites version 2 with bob as editor, signed by bob (who colludes), not by alice.
    const v1 = storedDoc(world, space);
    const forged = signedBy(world, 'bob', v1, 2, [
      ['alice', 'owner'],
      ['bob', 'editor'],
    ]);
    await showToBobWhoPlaysAlong(world, forged);
    await aliceKeepsHerVersion(world, space, 'its author bob may not make this change to version 1; keeping version 1');
    assert.ok(
      (await statusErrors(world, 'alice')).some((e) => e.startsWith(`${space}: refused version 2`)),
      'the refusal shows in status',
    );
    const human = await cli(['status', '--home', world.home('alice')]);
    assert.match(human.stdout, new RegExp(`error in ${space}: refused version 2 of its member list from the server: its author bob`));
    const bob = (await world.status('alice')).spaces.find((s) => s.id === space)!.members.find((m) => m.name === 'bob');
    assert.equal(bob?.role, 'reader', 'alice shows bob with the role of the version she accepted');
  } finally {
    await world.close();
  }
});

test('a server that adds a member to a one-contact space: no device of the space syncs with the stranger', async () => {
  const world = new NetWorld();
  try {
    const space = await world.alicesFolderWithBob();
    await world.user('mallory');
    await bothRunningInSync(world);

    // The server adds mallory, who joins at once, with a version signed by mallory herself.
    const v1 = storedDoc(world, space);
    const forged = signedBy(world, 'mallory', v1, 2, [
      ['alice', 'owner'],
      ['bob', 'editor'],
      ['mallory', 'editor'],
    ]);
    await rewriteStore(world, forged, ['mallory']);
    const mallory = homeOf(world, 'mallory');
    fs.mkdirSync(world.folder('m'), { recursive: true });
    await DiskStore.initFolder(world.folder('m'), space);
    mallory.putSpace({ id: space, path: world.folder('m') });
    believe(world, 'mallory', forged);
    world.start('mallory');

    write(world, 'a', 'secret.txt', 'for bob only\n');
    write(world, 'b', 'reply.txt', 'for alice only\n');
    await arrives(world, 'b', 'secret.txt', 'for bob only\n');
    await arrives(world, 'a', 'reply.txt', 'for alice only\n');
    // mallory's daemon is signed in and has had as long as bob needed to get both files.
    await waitFor(
      'mallory to be signed in',
      () => /"connected": true/.test(readText(nodePath.join(world.home('mallory'), 'status.json')) ?? ''),
      SYNC_MS,
    );
    write(world, 'a', 'later.txt', 'for bob only, later\n');
    await arrives(world, 'b', 'later.txt', 'for bob only, later\n');
    for (const f of ['first.txt', 'secret.txt', 'reply.txt', 'later.txt'])
      assert.equal(readText(nodePath.join(world.folder('m'), f)), undefined, `mallory got ${f}`);
    for (const who of ['alice', 'bob'])
      assert.match(
        world.log(who),
        new RegExp(
          `space ${space}: refused version 2 of its member list from the server: its author mallory may not make this change to version 1; keeping version 1`,
        ),
      );
    const members = (await world.status('alice')).spaces.find((s) => s.id === space)!.members.map((m) => m.name);
    assert.deepEqual(members.sort(), ['alice', 'bob'], 'alice sees the members of the version she accepted');
  } finally {
    await world.close();
  }
});

test('a server that rolls a space back to an older version the owner signed: refused, the demoted editor stays a reader', async () => {
  const world = new NetWorld();
  try {
    const space = await world.alicesFolderWithBob();
    await bothRunningInSync(world);

    // alice makes bob a reader: version 2, signed by her, sent over the real protocol.
    const v1 = storedDoc(world, space);
    const v2 = signedBy(world, 'alice', v1, 2, [
      ['alice', 'owner'],
      ['bob', 'reader'],
    ]);
    await withServer(homeOf(world, 'alice'), homeOf(world, 'alice').identity(), (session) =>
      session.client.request({ t: 'putSpace', doc: v2 }),
    );
    await waitFor(
      "alice's device to take version 2",
      async () => (await world.status('alice')).spaces[0]?.members.find((m) => m.name === 'bob')?.role === 'reader',
      SYNC_MS,
    );

    // The server goes back to version 1, where bob was an editor; bob plays along.
    await showToBobWhoPlaysAlong(world, v1);
    await aliceKeepsHerVersion(world, space, 'version 1 is older than version 2, which this device already accepted; keeping version 2');

    // The accepted version survives alice's restart: the rollback is refused again, not taken.
    await world.stop('alice');
    world.start('alice');
    write(world, 'a', 'third.txt', 'after the restart\n');
    await arrives(world, 'b', 'third.txt', 'after the restart\n');
    await refusedByAlice(world, 'sneaky2.txt');
  } finally {
    await world.close();
  }
});
