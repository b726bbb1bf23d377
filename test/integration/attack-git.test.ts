import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { sleep, waitFor } from './disk-cluster';
import { depositForged, forgedSyncItem } from './forged-mail';
import { NetWorld, ok, readText } from './net-cluster';

const SYNC_MS = 30_000;
const BOBS_SECRET = 'https://bob:ghp_bobs-token@example.org/bob/private.git';

function write(world: NetWorld, folder: string, path: string, text: string, mode = 0o644): void {
  const abs = nodePath.join(world.folder(folder), path);
  fs.mkdirSync(nodePath.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, text, { mode });
  fs.chmodSync(abs, mode);
}

function arrives(world: NetWorld, folder: string, path: string, text: string): Promise<void> {
  return waitFor(`${path} in ${folder}`, () => readText(nodePath.join(world.folder(folder), path)) === text, SYNC_MS);
}

function exists(world: NetWorld, folder: string, path: string): boolean {
  return fs.existsSync(nodePath.join(world.folder(folder), path));
}

/** Every file under `dir` whose bytes contain `text`, relative to `dir`. */
function filesHolding(dir: string, text: string): string[] {
  const out: string[] = [];
  const visit = (rel: string): void => {
    for (const e of fs.readdirSync(nodePath.join(dir, rel), { withFileTypes: true })) {
      const path = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) visit(path);
      else if (e.isFile() && fs.readFileSync(nodePath.join(dir, path), 'utf8').includes(text)) out.push(path);
    }
  };
  visit('');
  return out;
}

test('an editor cannot place git hooks or config on a member, nor pull the member’s .git, whatever .sharedignore says', async () => {
  const world = new NetWorld();
  try {
    const space = await world.alicesFolderWithBob();
    // bob's folder is a git working copy of his own: its config holds a token.
    write(world, 'b', '.git/config', `[remote "origin"]\n\turl = ${BOBS_SECRET}\n`);
    write(world, 'b', '.git/refs/heads/bobs-branch', '1111111111111111111111111111111111111111\n');
    world.start('alice');
    world.start('bob');

    // alice, an editor, lifts the default rule for the whole folder, then plants a hook and a config.
    write(world, 'a', '.sharedignore', '!.git/\n');
    await arrives(world, 'b', '.sharedignore', '!.git/\n');
    write(world, 'a', '.git/hooks/pre-commit', '#!/bin/sh\ntouch /tmp/pwned\n', 0o755);
    write(world, 'a', '.git/config', '[core]\n\tfsmonitor = touch /tmp/pwned\n');
    write(world, 'a', '.git/refs/heads/main', '2222222222222222222222222222222222222222\n');
    write(world, 'a', 'sub/.GIT/hooks/post-checkout', '#!/bin/sh\ntouch /tmp/pwned\n', 0o755);
    write(world, 'a', '.hg/hgrc', '[hooks]\nprecommit = touch /tmp/pwned\n');
    // An ordinary script keeps its executable bit, as git and Syncthing keep it.
    write(world, 'a', 'tools/build.sh', '#!/bin/sh\necho build\n', 0o755);
    write(world, 'a', 'after.txt', 'written after the attack\n');
    await arrives(world, 'b', 'after.txt', 'written after the attack\n');
    await arrives(world, 'b', 'tools/build.sh', '#!/bin/sh\necho build\n');
    assert.equal(fs.statSync(nodePath.join(world.folder('b'), 'tools/build.sh')).mode & 0o111, 0o111, 'the script arrives executable');

    // bob writes after the rule reached him and his replica rescanned under it.
    write(world, 'b', 'from-bob.txt', 'bob was here\n');
    await arrives(world, 'a', 'from-bob.txt', 'bob was here\n');
    await sleep(2000);

    for (const path of ['.git/hooks/pre-commit', 'sub/.GIT/hooks/post-checkout', '.hg/hgrc', '.git/refs/heads/main'])
      assert.equal(exists(world, 'b', path), false, `${path} must never be written on bob's disk`);
    assert.equal(
      readText(nodePath.join(world.folder('b'), '.git/config')),
      `[remote "origin"]\n\turl = ${BOBS_SECRET}\n`,
      "bob's config is his own",
    );
    assert.deepEqual(filesHolding(world.folder('a'), 'ghp_bobs-token'), [], "bob's .git never reaches alice");
    assert.equal(exists(world, 'a', '.git/refs/heads/bobs-branch'), false);

    // A hostile client skips its own guard: the records come anyway, and bob's replica refuses them.
    const hook = new TextEncoder().encode('#!/bin/sh\ntouch /tmp/pwned\n');
    await depositForged(
      world,
      'alice',
      'bob',
      forgedSyncItem(space, [
        { path: '.git/hooks' },
        { path: '.git/hooks/pre-commit', data: hook, executable: true },
        { path: '.git/config', data: new TextEncoder().encode('[core]\n\tfsmonitor = touch /tmp/pwned\n') },
        { path: 'forged-but-harmless.txt', data: new TextEncoder().encode('an ordinary file\n') },
      ]),
    );
    await arrives(world, 'b', 'forged-but-harmless.txt', 'an ordinary file\n');
    await sleep(1000);
    assert.equal(exists(world, 'b', '.git/hooks/pre-commit'), false, 'a forged hook is never written');
    assert.equal(readText(nodePath.join(world.folder('b'), '.git/config')), `[remote "origin"]\n\turl = ${BOBS_SECRET}\n`);
    // The line names the device that sent the record (alice's), not the author the record claims.
    const refused = (path: string): RegExp =>
      new RegExp(
        `space ${space}: ${path.replace(/\./g, '\\.')}: protected \\(remote, from alice on device [0-9a-f]+\\): version-control folders`,
      );
    assert.match(world.log('bob'), refused('.git/hooks/pre-commit'));
    assert.match(world.log('bob'), refused('.git/config'));

    // Both opt in on their own device: .git syncs, all but hooks and config.
    await ok(['space-option', '--home', world.home('alice'), '--space', space, '--sync-git', 'on']);
    await ok(['space-option', '--home', world.home('bob'), '--space', space, '--sync-git', 'on']);
    await arrives(world, 'b', '.git/refs/heads/main', '2222222222222222222222222222222222222222\n');
    write(world, 'a', '.git/description', 'a shared repository\n');
    await arrives(world, 'b', '.git/description', 'a shared repository\n');
    write(world, 'a', 'after-opt-in.txt', 'later\n');
    await arrives(world, 'b', 'after-opt-in.txt', 'later\n');
    await arrives(world, 'a', '.git/refs/heads/bobs-branch', '1111111111111111111111111111111111111111\n');
    await sleep(2000);
    assert.equal(exists(world, 'b', '.git/hooks/pre-commit'), false, 'hooks never sync, even opted in');
    assert.equal(exists(world, 'b', 'sub/.GIT/hooks/post-checkout'), false);
    assert.equal(exists(world, 'b', '.hg/hgrc'), false, 'other version-control folders never sync');
    assert.equal(readText(nodePath.join(world.folder('b'), '.git/config')), `[remote "origin"]\n\turl = ${BOBS_SECRET}\n`);
    assert.deepEqual(filesHolding(world.folder('a'), 'ghp_bobs-token'), [], 'configs never sync, even opted in');
  } finally {
    await world.close();
  }
});
