import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { EngineCallError, EngineClient } from '../../src/node/engine/engine-client';
import { sleep, waitFor } from './disk-cluster';
import { HOST, SYNC_MS } from './engine-cluster';
import { LOOPBACK_LISTEN, cli, NetWorld, ok, readText } from './net-cluster';

function write(world: NetWorld, folder: string, path: string, text: string): void {
  const abs = nodePath.join(world.folder(folder), path);
  fs.mkdirSync(nodePath.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, text);
}

function arrives(world: NetWorld, folder: string, path: string, text: string): Promise<void> {
  return waitFor(`${path} in ${folder}`, () => readText(nodePath.join(world.folder(folder), path)) === text, SYNC_MS);
}

function running(world: NetWorld, who: string, times = 1): Promise<void> {
  return waitFor(
    `${who}'s daemon to run`,
    () => (world.log(who).match(/running as device/g) ?? []).length >= times && fs.existsSync(nodePath.join(world.home(who), 'run.pid')),
    SYNC_MS,
  );
}

function files(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .sort();
}

test('a second run on a home exits at once with one line; the first daemon stays signed in and keeps syncing', async () => {
  const world = new NetWorld();
  try {
    await world.alicesFolderWithBob();
    world.start('alice');
    world.start('bob');
    await running(world, 'bob');
    write(world, 'a', 'first.txt', 'before\n');
    await arrives(world, 'b', 'first.txt', 'before\n');
    const pidFile = nodePath.join(world.home('bob'), 'run.pid');
    const pid = readText(pidFile);
    assert.equal(pid, String(world.daemons.get('bob')!.pid));

    const began = Date.now();
    const second = await cli(['run', '--home', world.home('bob'), '--listen', LOOPBACK_LISTEN], 20_000);
    assert.equal(second.code, 1);
    assert.equal(second.stderr, `shared-folders: ${world.home('bob')} is already running as process ${pid}\n`);
    assert.ok(Date.now() - began < 10_000, `the second run took ${Date.now() - began} ms`);
    assert.equal(readText(pidFile), pid, "the first daemon's run.pid is intact");
    assert.doesNotMatch(world.log('bob'), /disconnected from the server/, 'the first daemon was never knocked off');

    const status = await world.status('bob');
    assert.equal(status.spaces.length, 1);
    write(world, 'a', 'second.txt', 'after the second run\n');
    await arrives(world, 'b', 'second.txt', 'after the second run\n');

    // The extension's engine host on the same home is refused the same way, before signing in.
    const host = new EngineClient({ hostScript: HOST });
    try {
      await assert.rejects(
        host.call('start', { home: world.home('bob'), listen: LOOPBACK_LISTEN }),
        (err: unknown) =>
          err instanceof EngineCallError &&
          err.code === 'busy' &&
          err.message === `${world.home('bob')} is already running as process ${pid}`,
      );
    } finally {
      await host.dispose();
    }
    assert.doesNotMatch(world.log('bob'), /disconnected from the server/);
    assert.equal(readText(pidFile), pid);

    // Killed without a chance to clean up: the next run takes the home over.
    await world.stop('bob', 'SIGKILL');
    world.start('bob');
    await running(world, 'bob', 2);
    write(world, 'a', 'third.txt', 'after a kill\n');
    await arrives(world, 'b', 'third.txt', 'after a kill\n');
  } finally {
    await world.close();
  }
});

test('join and share while the daemon runs take effect in it at once, at the path given; nothing is deleted after restarts', async () => {
  const world = new NetWorld();
  try {
    await world.aliceAndBob();
    world.start('bob');
    const bobStarted = Date.now();
    await running(world, 'bob');
    for (const name of ['one.txt', 'two.txt', 'three.txt']) write(world, 'alice-docs', name, `${name} from alice\n`);
    const docs = await world.share('alice', 'alice-docs', ['bob']);
    world.start('alice');
    await running(world, 'alice');

    // bob joins with a path of his own while his daemon runs: the daemon does it.
    await ok(['join', '--home', world.home('bob'), '--space', docs, '--path', world.folder('bob-docs')]);
    for (const name of ['one.txt', 'two.txt', 'three.txt']) await arrives(world, 'bob-docs', name, `${name} from alice\n`);
    const folders = nodePath.join(world.home('bob'), 'folders');
    assert.ok(!fs.existsSync(folders) || fs.readdirSync(folders).length === 0, 'nothing lands in HOME/folders');
    assert.equal((await world.status('bob')).spaces.find((s) => s.id === docs)?.path, world.folder('bob-docs'));

    // bob shares a folder while his daemon runs (past the first seconds, when it waits for
    // notes from sibling devices); alice joins while hers runs.
    await sleep(Math.max(0, bobStarted + 11_000 - Date.now()));
    write(world, 'bob-notes', 'note.txt', 'from bob\n');
    const notes = await ok(['share', '--home', world.home('bob'), '--path', world.folder('bob-notes'), '--with', 'alice']);
    await ok(['join', '--home', world.home('alice'), '--space', notes, '--path', world.folder('alice-notes')]);
    await arrives(world, 'alice-notes', 'note.txt', 'from bob\n');
    assert.doesNotMatch(world.log('bob') + world.log('alice'), /disconnected from the server|joined on another device/);

    // The data loss came with the restart: bob's daemon scanned the path he gave.
    await world.stop('bob');
    world.start('bob');
    await running(world, 'bob', 2);
    await world.stop('alice');
    world.start('alice');
    await running(world, 'alice', 2);
    write(world, 'alice-docs', 'four.txt', 'after the restarts\n');
    write(world, 'bob-notes', 'later.txt', 'after the restarts\n');
    await arrives(world, 'bob-docs', 'four.txt', 'after the restarts\n');
    await arrives(world, 'alice-notes', 'later.txt', 'after the restarts\n');
    const all = ['four.txt', 'one.txt', 'three.txt', 'two.txt'];
    assert.deepEqual(files(world.folder('alice-docs')), all, 'alice kept every file');
    assert.deepEqual(files(world.folder('bob-docs')), all);
    assert.deepEqual(files(world.folder('bob-notes')), ['later.txt', 'note.txt']);
    assert.deepEqual(files(world.folder('alice-notes')), ['later.txt', 'note.txt']);
    assert.ok(!fs.existsSync(folders) || fs.readdirSync(folders).length === 0, 'nothing lands in HOME/folders');
  } finally {
    await world.close();
  }
});
