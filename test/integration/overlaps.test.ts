import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import type { EngineCallError } from '../../src/node/engine/engine-client';
import { sleep, waitFor } from './disk-cluster';
import { EngineUser, twoContacts } from './engine-cluster';
import { cli, freePort, NetWorld, ok, readText } from './net-cluster';

const SYNC_MS = 30_000;

function write(file: string, text: string): void {
  fs.mkdirSync(nodePath.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

/** Every file and folder under `dir` (markers included) with the files' text: what "nothing changed on disk" compares. */
function tree(dir: string, out: Record<string, string> = {}, under = ''): Record<string, string> {
  for (const entry of fs.readdirSync(nodePath.join(dir, under), { withFileTypes: true })) {
    const rel = nodePath.join(under, entry.name);
    if (entry.isDirectory()) {
      out[rel] = '/';
      tree(dir, out, rel);
    } else out[rel] = entry.isFile() ? fs.readFileSync(nodePath.join(dir, rel), 'utf8') : '->';
  }
  return out;
}

/** A command that must be refused with exactly this one line, exit code `code`. */
/** A command the CLI understood but cannot do as asked: exit status 1 (2 is a wrong command line). */
async function refused(args: readonly string[], message: string, code = 1): Promise<void> {
  const r = await cli(args);
  assert.equal(r.stderr, `shared-folders: ${message}\n`, `shared-folders ${args.join(' ')}`);
  assert.equal(r.code, code, `shared-folders ${args.join(' ')} exit code`);
}

/** The files directly under `dir` whose names start with `stem`, with their text. */
function named(dir: string, stem: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.startsWith(stem))
    .map((f) => fs.readFileSync(nodePath.join(dir, f), 'utf8'))
    .sort();
}

test('overlaps: share and join refuse a folder that is, lies in or holds a shared folder, naming it, and change nothing', async () => {
  const world = new NetWorld();
  try {
    await world.aliceAndBob();
    const docs = world.folder('alice/docs');
    write(nodePath.join(docs, 'a.txt'), 'a');
    write(nodePath.join(docs, 'sub', 'b.txt'), 'b');
    const space = await ok(['share', '--home', world.home('alice'), '--path', docs, '--with', 'bob']);
    await world.join('bob', space, 'bob/docs');
    // Beside docs, not in it: shares fine, and gives bob a second space to try to put in the wrong place.
    const docs2 = world.folder('alice/docs2');
    fs.mkdirSync(docs2);
    const other = await ok(['share', '--home', world.home('alice'), '--path', docs2, '--with', 'bob']);
    fs.symlinkSync(docs, world.folder('alice/link'));
    fs.mkdirSync(world.folder('bob/docs/sub'));

    const before = tree(world.folder(''));
    const spaces = {
      alice: readText(nodePath.join(world.home('alice'), 'spaces.json')),
      bob: readText(nodePath.join(world.home('bob'), 'spaces.json')),
    };
    const share = (who: string, path: string): string[] => [
      'share',
      '--home',
      world.home(who),
      '--path',
      path,
      '--with',
      who === 'alice' ? 'bob' : 'alice',
    ];
    const join = (path: string, extra: string[] = []): string[] => [
      'join',
      '--home',
      world.home('bob'),
      '--space',
      other,
      '--path',
      path,
      ...extra,
    ];
    const docsName = `"docs" (space ${space})`;

    await refused(share('alice', docs), `${docs} is already shared as ${docsName}: there is nothing to share again`);
    await refused(
      share('alice', world.folder('alice/link')),
      `${world.folder('alice/link')} is already shared as ${docsName}: there is nothing to share again`,
    );
    const sub = nodePath.join(docs, 'sub');
    await refused(share('alice', sub), `${sub} is inside the shared folder ${docsName}: choose a folder outside it`);
    const alices = world.folder('alice');
    await refused(
      share('alice', alices),
      `${alices} contains the shared folder ${docsName} at ${docs}: choose a folder that does not hold it`,
    );
    // Bob knows the space by the name alice gave it, from its space note.
    const bobDocs = world.folder('bob/docs');
    await refused(
      share('bob', nodePath.join(bobDocs, 'sub')),
      `${nodePath.join(bobDocs, 'sub')} is inside the shared folder ${docsName}: choose a folder outside it`,
    );
    await refused(
      join(nodePath.join(bobDocs, 'inner')),
      `${nodePath.join(bobDocs, 'inner')} is inside the shared folder ${docsName}: choose a folder outside it`,
    );
    await refused(join(bobDocs), `${bobDocs} is already the shared folder ${docsName}: choose another folder`);
    const bobs = world.folder('bob');
    await refused(
      join(bobs, ['--merge']),
      `${bobs} contains the shared folder ${docsName} at ${bobDocs}: choose a folder that does not hold it`,
    );
    // A shared folder of another home on this machine is known by its marker.
    await refused(share('bob', sub), `${sub} is inside the shared folder "docs" at ${docs}: choose a folder outside it`);

    assert.deepEqual(tree(world.folder('')), before);
    assert.equal(readText(nodePath.join(world.home('alice'), 'spaces.json')), spaces.alice);
    assert.equal(readText(nodePath.join(world.home('bob'), 'spaces.json')), spaces.bob);
  } finally {
    await world.close();
  }
});

test('overlaps: a join into a folder with files needs --merge, then merges keeping both sides of a conflict; a second join moves the folder', async () => {
  const world = new NetWorld();
  try {
    await world.aliceAndBob();
    write(world.folder('a/only-alice.txt'), 'from alice\n');
    write(world.folder('a/clash.txt'), 'alice wrote this\n');
    const space = await world.share('alice', 'a', ['bob']);
    const b = world.folder('b');
    write(nodePath.join(b, 'only-bob.txt'), 'from bob\n');
    write(nodePath.join(b, 'clash.txt'), 'bob wrote this\n');

    const join = (path: string, extra: string[] = []): string[] => [
      'join',
      '--home',
      world.home('bob'),
      '--space',
      space,
      '--path',
      path,
      ...extra,
    ];
    await refused(
      join(b),
      `${b} already has files: add --merge to merge them with the shared folder (conflicting files keep both versions), or choose an empty folder`,
    );
    assert.deepEqual(fs.readdirSync(b).sort(), ['clash.txt', 'only-bob.txt']);
    assert.equal(readText(nodePath.join(world.home('bob'), 'spaces.json')) ?? '[]', '[]');
    await ok(join(b, ['--merge']));

    world.start('alice');
    world.start('bob');
    const a = world.folder('a');
    for (const dir of [a, b]) {
      await waitFor(
        `both files in ${dir}`,
        () => fs.existsSync(nodePath.join(dir, 'only-alice.txt')) && fs.existsSync(nodePath.join(dir, 'only-bob.txt')),
        SYNC_MS,
      );
      await waitFor(`both sides of clash.txt in ${dir}`, () => named(dir, 'clash').length === 2, SYNC_MS);
      assert.deepEqual(named(dir, 'clash'), ['alice wrote this\n', 'bob wrote this\n']);
    }

    // The same space joined at another path: bob's folder moves there, marker and all.
    await world.stop('bob');
    const moved = world.folder('moved/b');
    await ok(join(moved));
    assert.equal(fs.existsSync(b), false);
    assert.ok(fs.statSync(nodePath.join(moved, '.shared-folder')).isDirectory());
    assert.deepEqual(named(moved, 'clash'), ['alice wrote this\n', 'bob wrote this\n']);
    assert.equal(readText(nodePath.join(moved, 'only-alice.txt')), 'from alice\n');
    const local = JSON.parse(readText(nodePath.join(world.home('bob'), 'spaces.json'))!) as { id: string; path: string }[];
    assert.deepEqual(
      local.map((s) => [s.id, s.path]),
      [[space, moved]],
    );
    // Joining where it already is changes nothing.
    await ok(join(moved));
    assert.equal(fs.existsSync(b), false);

    world.start('bob');
    write(nodePath.join(a, 'after-move.txt'), 'still syncing\n');
    await waitFor(
      'after-move.txt in the moved folder',
      () => readText(nodePath.join(moved, 'after-move.txt')) === 'still syncing\n',
      SYNC_MS,
    );
    write(nodePath.join(moved, 'from-new-place.txt'), 'hello\n');
    await waitFor('a file from the moved folder at alice', () => readText(nodePath.join(a, 'from-new-place.txt')) === 'hello\n', SYNC_MS);
    await sleep(1000);
    for (const f of ['only-alice.txt', 'only-bob.txt', 'clash.txt', 'after-move.txt'])
      assert.ok(fs.existsSync(nodePath.join(a, f)), `alice still has ${f}`);
    assert.equal(fs.existsSync(b), false, 'no stray folder or marker at the old place');

    // Moved again while bob's daemon runs: the join goes through it, and the replica follows its
    // marker to the new place, state and all, so nothing is taken as new and nothing deleted.
    const again = world.folder('again/b');
    await ok(join(again));
    assert.equal(fs.existsSync(moved), false);
    await waitFor('bob to sync at the new place', () => /its folder is now .*again/.test(world.log('bob')), SYNC_MS);
    write(nodePath.join(a, 'after-second-move.txt'), 'and still\n');
    await waitFor('the file at the second place', () => readText(nodePath.join(again, 'after-second-move.txt')) === 'and still\n', SYNC_MS);
    assert.doesNotMatch(world.log('bob'), /taken as new/, 'the moved replica kept its own state');
    for (const f of ['only-alice.txt', 'only-bob.txt', 'clash.txt', 'after-move.txt', 'from-new-place.txt'])
      assert.ok(fs.existsSync(nodePath.join(a, f)), `alice still has ${f} after the move under a running daemon`);
  } finally {
    await world.close();
  }
});

test('overlaps: share and join while the daemons run land at the paths given, never in the home folders', async () => {
  const world = new NetWorld();
  try {
    await world.aliceAndBob();
    world.start('alice');
    world.start('bob');
    for (const who of ['alice', 'bob']) await waitFor(`${who}'s daemon`, () => world.log(who).includes('running as device'), SYNC_MS);
    // Past the wait a daemon gives a space joined elsewhere for its name: the moment it used to take the folder for itself.
    await sleep(10_500);
    write(world.folder('a/plan.md'), 'the plan\n');
    const space = await world.share('alice', 'a', ['bob']);
    await world.join('bob', space, 'b');
    const b = world.folder('b');
    await waitFor('plan.md in the folder bob gave', () => readText(nodePath.join(b, 'plan.md')) === 'the plan\n', SYNC_MS);
    for (const who of ['alice', 'bob']) {
      const folders = nodePath.join(world.home(who), 'folders');
      assert.deepEqual(fs.existsSync(folders) ? fs.readdirSync(folders) : [], [], `${who}'s home folders stay empty`);
      assert.doesNotMatch(world.log(who), /joined on another device/);
    }
    for (const who of ['alice', 'bob']) await world.stop(who);
    world.start('alice');
    world.start('bob');
    write(nodePath.join(b, 'reply.md'), 'ok\n');
    await waitFor('reply.md at alice', () => readText(world.folder('a/reply.md')) === 'ok\n', SYNC_MS);
    assert.equal(readText(world.folder('a/plan.md')), 'the plan\n');
    assert.equal(readText(nodePath.join(b, 'plan.md')), 'the plan\n');
  } finally {
    await world.close();
  }
});

test('overlaps: an own invite is refused without using it up; damaged codes and unreachable servers say what is wrong', async () => {
  const world = new NetWorld();
  try {
    await world.startServer();
    await world.user('alice');
    await world.user('bob');
    const code = await ok(['invite', '--home', world.home('alice')]);
    const own = 'this invite code is your own: send it to the person you want to add as a contact';
    await refused(['accept', '--home', world.home('alice'), code], own, 1);
    // A second device of alice is alice too.
    await ok(['init', '--home', world.home('alice2'), '--server', world.url, '--link', await ok(['link', '--home', world.home('alice')])]);
    await refused(['accept', '--home', world.home('alice2'), code], own, 1);

    const middle = Math.floor(code.length / 2);
    const damaged = [
      code.slice(0, middle) + (code[middle] === 'A' ? 'B' : 'A') + code.slice(middle + 1),
      code.slice(0, -1),
      code + 'x',
      code.slice(0, 12) + code.slice(13),
      code.replace('sf-invite-', 'sf-invit-'),
    ];
    for (const text of damaged) await refused(['accept', '--home', world.home('bob'), text], 'the invite code is damaged', 1);
    assert.equal(await ok(['accept', '--home', world.home('bob'), code]), 'alice');

    const link = await ok(['link', '--home', world.home('alice')]);
    const brokenLink = link.slice(0, 20) + (link[20] === 'A' ? 'B' : 'A') + link.slice(21);
    await refused(['init', '--home', world.home('alice3'), '--server', world.url, '--link', brokenLink], 'the link code is damaged', 1);
    assert.equal(fs.existsSync(nodePath.join(world.home('alice3'), 'identity.json')), false);

    const closed = await freePort();
    await refused(
      ['init', '--home', world.home('carol'), '--name', 'carol', '--server', `ws://127.0.0.1:${closed}`],
      `cannot reach the server at ws://127.0.0.1:${closed}: connection refused (is the server running?)`,
      1,
    );
    await refused(
      ['init', '--home', world.home('carol'), '--name', 'carol', '--server', `127.0.0.1:${world.port}`],
      `--server 127.0.0.1:${world.port} is not a server address: write it as ws://HOST:PORT or wss://HOST`,
      2,
    );
  } finally {
    await world.close();
  }
});

test('overlaps through the engine host: join into files answers notEmpty, then merges when asked; a refused share leaves the folder as it was', async () => {
  const world = new NetWorld();
  const users: EngineUser[] = [];
  try {
    const { alice, bob } = await twoContacts(world, users);
    const docs = alice.folder('docs');
    write(nodePath.join(docs, 'a.txt'), 'from alice\n');
    const bobId = (await alice.status()).contacts.find((c) => c.name === 'bob')!.id;
    const { space } = await alice.client.call('share', { path: docs, with: [bobId], role: 'editor' });
    const sub = nodePath.join(docs, 'sub');
    fs.mkdirSync(sub);
    await assert.rejects(
      alice.client.call('share', { path: sub, with: [bobId], role: 'editor', ignore: ['*.log'] }),
      (err: EngineCallError) =>
        err.code === 'usage' &&
        err.message === `${sub} is inside the shared folder "alice-docs" (space ${space}): choose a folder outside it`,
    );
    assert.deepEqual(fs.readdirSync(sub), [], 'no .sharedignore or marker left in the refused folder');

    await bob.untilEvent('invitation', (e) => e.invitation.space === space);
    const target = bob.folder('docs');
    write(nodePath.join(target, 'b.txt'), 'from bob\n');
    await assert.rejects(
      bob.client.call('join', { space, path: target }),
      (err: EngineCallError) => err.code === 'notEmpty' && err.message.startsWith(`${target} already has files`),
    );
    assert.deepEqual(fs.readdirSync(target), ['b.txt']);
    await bob.client.call('join', { space, path: target, merge: true });
    await waitFor('a.txt at bob', () => readText(nodePath.join(target, 'a.txt')) === 'from alice\n', 60_000);
    await waitFor('b.txt at alice', () => readText(nodePath.join(docs, 'b.txt')) === 'from bob\n', 60_000);

    // The engine's accept refuses an own invite too, and the code still works for the contact it was for.
    const carol = new EngineUser(world, 'carol');
    users.push(carol);
    await carol.setUp();
    const { code } = await alice.client.call('createInvite', {});
    await assert.rejects(
      alice.client.call('acceptInvite', { code }),
      (err: EngineCallError) => err.message === 'this invite code is your own: send it to the person you want to add as a contact',
    );
    await carol.client.call('acceptInvite', { code });
    await alice.until('carol as a contact', (s) => s.contacts.some((c) => c.name === 'carol'));
  } finally {
    for (const u of users) await u.stop();
    await world.close();
  }
});
