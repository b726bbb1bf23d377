import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import WebSocket from 'ws';
import { toHex } from '../../src/sync/util/bytes';
import { deviceIdOf, generateDeviceKeys } from '../../src/node/crypto/device-keys';
import { sleep, waitFor } from './disk-cluster';
import { NetWorld, ok, readText } from './net-cluster';

const SYNC_MS = 30_000;

function write(world: NetWorld, folder: string, path: string, text: string | Uint8Array): void {
  const abs = nodePath.join(world.folder(folder), path);
  fs.mkdirSync(nodePath.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, text);
}

function arrives(world: NetWorld, folder: string, path: string, text: string): Promise<void> {
  return waitFor(
    `${path} with "${text.slice(0, 20)}" in ${folder}`,
    () => readText(nodePath.join(world.folder(folder), path)) === text,
    SYNC_MS,
  );
}

function chatLines(world: NetWorld, who: string): string[] {
  const dir = nodePath.join(world.home(who), 'chat');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).flatMap((f) => fs.readFileSync(nodePath.join(dir, f), 'utf8').split('\n').filter(Boolean));
}

test('live sync both ways between users and devices, a group of three, a reader refused by replicas, chat both ways', async () => {
  const world = new NetWorld();
  try {
    await world.startServer();
    await world.user('alice');
    await world.user('bob');
    await world.user('carol');
    // alice's second device joins her user through a link code.
    const link = await ok(['link', '--home', world.home('alice')]);
    await ok(['init', '--home', world.home('alice2'), '--server', world.url, '--link', link]);
    await world.contacts('alice', 'bob');
    await world.contacts('alice', 'carol');

    const group = await world.share('alice', 'alice-group', ['bob', 'carol']);
    await world.join('bob', group, 'bob-group');
    await world.join('carol', group, 'carol-group');
    await world.join('alice2', group, 'alice2-group');
    const published = await world.share('alice', 'alice-pub', ['bob'], 'reader');
    await world.join('bob', published, 'bob-pub');

    for (const who of ['alice', 'alice2', 'bob', 'carol']) world.start(who);

    write(world, 'alice-group', 'notes/plan.md', 'from alice\n');
    for (const f of ['bob-group', 'carol-group', 'alice2-group']) await arrives(world, f, 'notes/plan.md', 'from alice\n');
    write(world, 'bob-group', 'bob.txt', 'from bob\n');
    for (const f of ['alice-group', 'carol-group', 'alice2-group']) await arrives(world, f, 'bob.txt', 'from bob\n');
    write(world, 'alice2-group', 'second-device.txt', 'alice on her laptop\n');
    for (const f of ['alice-group', 'bob-group', 'carol-group']) await arrives(world, f, 'second-device.txt', 'alice on her laptop\n');

    // The reader's change is refused by alice's replica itself; the owner's change reaches the reader.
    write(world, 'bob-pub', 'sneaky.txt', 'bob may only read\n');
    await sleep(1500);
    write(world, 'alice-pub', 'published.txt', 'for readers\n');
    await arrives(world, 'bob-pub', 'published.txt', 'for readers\n');
    await sleep(1500);
    assert.equal(readText(nodePath.join(world.folder('alice-pub'), 'sneaky.txt')), undefined, "a reader's file never reaches the owner");
    assert.match(world.log('alice'), /refused .* from bob, who may only read/);

    await ok(['chat', '--home', world.home('alice'), '--to', 'bob', 'hello bob']);
    await ok(['chat', '--home', world.home('bob'), '--to', 'alice', 'hello alice']);
    await waitFor("bob to have alice's message", () => chatLines(world, 'bob').some((l) => l.includes('hello bob')), SYNC_MS);
    await waitFor("alice to have bob's message", () => chatLines(world, 'alice').some((l) => l.includes('hello alice')), SYNC_MS);

    await waitFor(
      'alice to report the group in sync',
      async () => (await world.status('alice')).spaces.find((s) => s.id === group)?.inSync === true,
      SYNC_MS,
    );
    const status = await world.status('alice');
    const space = status.spaces.find((s) => s.id === group)!;
    assert.deepEqual(space.members.map((m) => m.name).sort(), ['alice', 'bob', 'carol']);
    assert.ok(
      space.members.every((m) => m.presence === 'online'),
      JSON.stringify(space.members),
    );
    assert.ok(status.bytesSent > 0 && status.bytesReceived > 0);
  } finally {
    await world.close();
  }
});

test('offline delivery: bob offline, alice changes files and goes offline too; bob gets everything from the mailbox, which then empties', async () => {
  const world = new NetWorld();
  try {
    await world.alicesFolderWithBob();
    world.start('alice');
    world.start('bob');
    write(world, 'a', 'first.txt', 'both online\n');
    await arrives(world, 'b', 'first.txt', 'both online\n');

    await world.stop('bob');
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 2654435761) >>> 24);
    write(world, 'a', 'while-bob-was-away.txt', 'written while bob was offline\n');
    write(world, 'a', 'data/big.bin', big);
    write(world, 'a', 'first.txt', 'changed offline\n');
    await waitFor(
      'alice to deposit her changes for bob',
      () => /mailed changes up to \d+ to offline device/.test(world.log('alice')),
      SYNC_MS,
    );
    await waitFor('the mailbox to hold items', async () => (await world.metric('sharedfolders_mailbox_items')) > 0, SYNC_MS);
    await world.stop('alice');

    world.start('bob');
    await arrives(world, 'b', 'while-bob-was-away.txt', 'written while bob was offline\n');
    await arrives(world, 'b', 'first.txt', 'changed offline\n');
    await waitFor('the big file', () => fs.existsSync(nodePath.join(world.folder('b'), 'data/big.bin')), SYNC_MS);
    assert.deepEqual(new Uint8Array(fs.readFileSync(nodePath.join(world.folder('b'), 'data/big.bin'))), big);
    await waitFor(
      'the mailbox to be empty',
      async () => (await world.metric('sharedfolders_mailbox_items')) === 0 && (await world.metric('sharedfolders_mailbox_bytes')) === 0,
      SYNC_MS,
    );
  } finally {
    await world.close();
  }
});

test('conflicts through the network: both edit the same file offline, then both come online', async () => {
  const world = new NetWorld();
  try {
    const space = await world.alicesFolderWithBob();
    world.start('alice');
    world.start('bob');
    write(world, 'a', 'shared.bin', 'base version\n');
    await arrives(world, 'b', 'shared.bin', 'base version\n');
    await sleep(1000);
    await world.stop('alice');
    await world.stop('bob');

    write(world, 'a', 'shared.bin', 'alice edit\n');
    write(world, 'b', 'shared.bin', 'bob edit\n');
    world.start('alice');
    world.start('bob');
    const names = (folder: string): string[] =>
      fs
        .readdirSync(world.folder(folder))
        .filter((n) => !n.startsWith('.shared-folder'))
        .sort();
    await waitFor(
      'a conflict copy on both sides, trees equal',
      () => names('a').length === 2 && names('b').length === 2 && names('a').join() === names('b').join(),
      SYNC_MS,
    );
    const contents = (folder: string): string[] =>
      names(folder)
        .map((n) => fs.readFileSync(nodePath.join(world.folder(folder), n), 'utf8'))
        .sort();
    await waitFor('identical contents', () => contents('a').join() === contents('b').join(), SYNC_MS);
    assert.deepEqual(contents('a'), ['alice edit\n', 'bob edit\n'], 'both versions survive');
    for (const who of ['alice', 'bob']) {
      await waitFor(
        `${who}'s status to list the conflict`,
        async () => (await world.status(who)).conflicts.some((c) => c.space === space && c.path === 'shared.bin'),
        SYNC_MS,
      );
    }
  } finally {
    await world.close();
  }
});

test('conflicts through the network: edits of different lines made offline merge, on both disks, with no conflict copy', async () => {
  const world = new NetWorld();
  try {
    const space = await world.alicesFolderWithBob();
    world.start('alice');
    world.start('bob');
    const base = 'title\nalice writes here\nmiddle\nmore\nbob writes here\nend\n';
    write(world, 'a', 'notes.md', base);
    await arrives(world, 'b', 'notes.md', base);
    // Each side keeps the version both will start from (on its next tick).
    const bases = (who: string): string[] =>
      fs
        .readdirSync(nodePath.join(world.home(who), 'state', space, 'bases'), { withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => e.name);
    for (const who of ['alice', 'bob']) await waitFor(`${who} to keep the merge base`, () => bases(who).length > 0, SYNC_MS);
    await world.stop('alice');
    await world.stop('bob');

    write(world, 'a', 'notes.md', base.replace('alice writes here', 'alice wrote this offline'));
    write(world, 'b', 'notes.md', base.replace('bob writes here', 'bob wrote this offline'));
    world.start('alice');
    world.start('bob');
    const merged = 'title\nalice wrote this offline\nmiddle\nmore\nbob wrote this offline\nend\n';
    await arrives(world, 'a', 'notes.md', merged);
    await arrives(world, 'b', 'notes.md', merged);
    const names = (folder: string): string[] =>
      fs
        .readdirSync(world.folder(folder))
        .filter((n) => !n.startsWith('.shared-folder'))
        .sort();
    await waitFor(
      'no conflict copy left on either side',
      () => names('a').join() === 'notes.md' && names('b').join() === 'notes.md',
      SYNC_MS,
    );
    // One readable line each side: the merge where it was made, the merged version where it arrived.
    const merger = /: merged .* into notes\.md/.test(world.log('alice')) ? 'alice' : 'bob';
    const other = merger === 'alice' ? 'bob' : 'alice';
    assert.match(world.log(merger), /space [0-9a-f]+: merged .* into notes\.md/);
    await waitFor(
      `${other} to log the merged version arriving`,
      () => new RegExp(`space [0-9a-f]+: changes from ${merger} to 1 file: "notes.md"`).test(world.log(other)),
      SYNC_MS,
    );
    for (const who of ['alice', 'bob']) assert.doesNotMatch(world.log(who), /\{"kind":/, `${who} logs no raw event object`);
    for (const who of ['alice', 'bob']) {
      await waitFor(
        `${who}'s status to be in sync`,
        async () => (await world.status(who)).spaces.find((s) => s.id === space)?.inSync === true,
        SYNC_MS,
      );
      assert.deepEqual((await world.status(who)).conflicts, [], `${who} lists no conflict`);
    }
  } finally {
    await world.close();
  }
});

test('faults: garbage, oversized and unauthorised frames; the server restarted and a daemon killed mid-transfer; no plaintext on the server', async () => {
  const world = new NetWorld();
  try {
    await world.aliceAndBob();
    const space = await world.share('alice', 'secret-folder-MARKERDIR', ['bob']);
    await world.join('bob', space, 'b');
    world.start('alice');
    world.start('bob');
    write(world, 'secret-folder-MARKERDIR', 'MARKERNAME-file.txt', 'MARKERCONTENT inside\n');
    await arrives(world, 'b', 'MARKERNAME-file.txt', 'MARKERCONTENT inside\n');

    // Hostile clients: each is closed with a code; the server stays up.
    const closes: number[] = [];
    for (const send of [
      (ws: WebSocket) => ws.send('this is not json'),
      (ws: WebSocket) => ws.send(Buffer.alloc(17 * 1024 * 1024)),
      (ws: WebSocket) => ws.send(Buffer.from([1, 2, 3])),
      (ws: WebSocket) => ws.send(JSON.stringify({ t: 'putSpace', id: 1, doc: {} })),
      (ws: WebSocket) =>
        ws.send(
          JSON.stringify({ t: 'hello', v: 1, device: { id: '00'.repeat(16), signPublic: '11'.repeat(32), agreePublic: '22'.repeat(32) } }),
        ),
    ]) {
      const ws = new WebSocket(world.url);
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      ws.on('error', () => undefined);
      send(ws);
      closes.push(await Promise.race([closed, sleep(15_000).then(() => -1)]));
    }
    // The 17 MiB frame (the second) passes the 32 KiB a connection may send before sign-in: the
    // server cuts the socket, and its 1009 close frame may or may not reach the client first (1006).
    assert.ok(
      closes.every((c, i) => c === 1008 || c === 1009 || (i === 1 && c === 1006)),
      `closed with codes ${closes.join(',')}`,
    );

    // The server restarts mid-sync: the daemons reconnect and what was written meanwhile arrives.
    const payload = new Uint8Array(8 * 1024 * 1024).map((_, i) => (i * 40503) >>> 8);
    write(world, 'secret-folder-MARKERDIR', 'during-restart.bin', payload);
    await world.stopServer('SIGKILL');
    write(world, 'secret-folder-MARKERDIR', 'while-server-down.txt', 'server was down\n');
    await world.startServer();
    await arrives(world, 'b', 'while-server-down.txt', 'server was down\n');
    await waitFor(
      'the 8 MiB file after the restart',
      () => fs.statSync(nodePath.join(world.folder('b'), 'during-restart.bin'), { throwIfNoEntry: false })?.size === payload.length,
      SYNC_MS,
    );

    // bob is killed while a large file streams to him; after a restart it arrives whole.
    const large = new Uint8Array(24 * 1024 * 1024).map((_, i) => (i * 2246822519) >>> 27);
    write(world, 'secret-folder-MARKERDIR', 'large.bin', large);
    await sleep(700);
    await world.stop('bob', 'SIGKILL');
    world.start('bob');
    await waitFor(
      'the large file after bob was killed',
      () => fs.statSync(nodePath.join(world.folder('b'), 'large.bin'), { throwIfNoEntry: false })?.size === large.length,
      SYNC_MS * 2,
    );
    assert.deepEqual(new Uint8Array(fs.readFileSync(nodePath.join(world.folder('b'), 'large.bin'))), large);
    assert.deepEqual(new Uint8Array(fs.readFileSync(nodePath.join(world.folder('b'), 'during-restart.bin'))), payload);

    // Neither the server's data folder nor its log holds a name or a byte of content in plaintext.
    await world.stop('alice');
    await world.stop('bob');
    await world.stopServer();
    const files = [world.serverLog, ...fs.readdirSync(world.dataDir).map((f) => nodePath.join(world.dataDir, f))];
    for (const file of files) {
      const bytes = fs.readFileSync(file);
      for (const marker of ['MARKERDIR', 'MARKERNAME', 'MARKERCONTENT'])
        assert.equal(bytes.indexOf(marker), -1, `${marker} found in ${file}`);
    }
  } finally {
    await world.close();
  }
});

test("a user's other devices sync every space the user joined, in a folder named as the user named it on the device that joined", async () => {
  const world = new NetWorld();
  try {
    await world.aliceAndBob();
    const space = await world.share('alice', 'design-notes', ['bob']);
    write(world, 'design-notes', 'idea.md', 'shared before the laptop existed\n');
    await world.join('bob', space, 'bob-notes');
    // bob's laptop is linked after he joined; it never runs `join`.
    const link = await ok(['link', '--home', world.home('bob')]);
    await ok(['init', '--home', world.home('bob-laptop'), '--server', world.url, '--link', link]);
    world.start('alice');
    world.start('bob');
    world.start('bob-laptop', ['--folders', world.folder('laptop')]);
    const landed = nodePath.join(world.folder('laptop'), 'bob-notes');
    await waitFor(
      "the space on bob's laptop",
      () => readText(nodePath.join(landed, 'idea.md')) === 'shared before the laptop existed\n',
      SYNC_MS,
    );
    fs.writeFileSync(nodePath.join(landed, 'from-laptop.md'), 'bob on his laptop\n');
    await arrives(world, 'design-notes', 'from-laptop.md', 'bob on his laptop\n');
    await arrives(world, 'bob-notes', 'from-laptop.md', 'bob on his laptop\n');
    const status = await world.status('bob-laptop');
    assert.deepEqual(
      status.spaces.map((s) => [s.id, s.path]),
      [[space, landed]],
    );
  } finally {
    await world.close();
  }
});

test('a device the server slips into a user is never trusted: no changes, chat or channel are ever encrypted for it', async () => {
  const world = new NetWorld();
  try {
    const space = await world.alicesFolderWithBob();
    // A malicious server adds a device of its own to alice's user (no endorsement from her devices).
    await world.stopServer();
    const evil = generateDeviceKeys();
    const evilId = deviceIdOf(evil);
    await slipDeviceIn(world, 'alice', evilId, toHex(evil.signPublic), toHex(evil.agreePublic));
    await world.startServer();

    world.start('bob');
    write(world, 'b', 'for-alice.txt', 'only alice may read this\n');
    await waitFor(
      'bob to mail his change to alice, who is offline',
      () => /mailed changes up to \d+ to offline device/.test(world.log('bob')),
      SYNC_MS,
    );
    await ok(['chat', '--home', world.home('bob'), '--to', 'alice', 'hello alice']);
    world.start('alice');
    await arrives(world, 'a', 'for-alice.txt', 'only alice may read this\n');
    await waitFor("alice to have bob's message", () => chatLines(world, 'alice').some((l) => l.includes('hello alice')), SYNC_MS);

    await world.stopServer();
    assert.equal(await itemsFor(world, evilId), 0, 'nothing was deposited for the injected device');
    assert.doesNotMatch(world.log('bob'), new RegExp(`mailed changes up to \\d+ to offline device ${evilId}`));
    assert.doesNotMatch(world.log('bob') + world.log('alice'), new RegExp(`secure channel to device ${evilId}`));
    const status = JSON.parse(fs.readFileSync(nodePath.join(world.home('bob'), 'status.json'), 'utf8')) as { spaces: { id: string }[] };
    assert.deepEqual(
      status.spaces.map((s) => s.id),
      [space],
    );
  } finally {
    await world.close();
  }
});

/** What a malicious server does to its own store: a device of its own in `name`'s user, SQLite or PostgreSQL. */
async function slipDeviceIn(world: NetWorld, name: string, id: string, signPublic: string, agreePublic: string): Promise<void> {
  if (world.database) {
    await onPostgres(world.database.url, (c) =>
      c.query(
        'INSERT INTO devices (id, user_id, sign_public, agree_public, created) SELECT $1, id, $2, $3, $4 FROM users WHERE name = $5',
        [id, signPublic, agreePublic, Date.now(), name],
      ),
    );
    return;
  }
  const db = new Database(nodePath.join(world.dataDir, 'server.sqlite'));
  const user = (db.prepare('SELECT id FROM users WHERE name = ?').get(name) as { id: string }).id;
  db.prepare('INSERT INTO devices (id, user, sign_public, agree_public, created) VALUES (?, ?, ?, ?, ?)').run(
    id,
    user,
    signPublic,
    agreePublic,
    Date.now(),
  );
  db.close();
}

/** Mailbox items the server stores for `device`. */
async function itemsFor(world: NetWorld, device: string): Promise<number> {
  if (world.database) {
    const r = await onPostgres(world.database.url, (c) => c.query('SELECT COUNT(*)::int AS n FROM recipients WHERE device = $1', [device]));
    return (r.rows[0] as { n: number }).n;
  }
  const db = new Database(nodePath.join(world.dataDir, 'server.sqlite'), { readonly: true });
  const n = (db.prepare('SELECT COUNT(*) AS n FROM recipients WHERE device = ?').get(device) as { n: number }).n;
  db.close();
  return n;
}

async function onPostgres<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
