import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { VersionsFolder } from '../../src/node/disk/versions-folder';
import type { FileRecord } from '../../src/sync/model/file-record';
import { printable } from '../../src/sync/util/printable';
import { waitFor } from './disk-cluster';
import { forgedFile, HostilePeer, indexBatch } from './hostile-peer';
import { NetWorld, readText } from './net-cluster';

/**
 * Issue 15.4, silent drops: a member's batch with paths the ignore matcher cannot judge (`../x`,
 * `/x`, `./x`) among good records dropped the whole batch with no log line, and every later batch
 * was refused as a gap; a file with a 250-byte name could be created but never updated, because
 * its version's name in the versions folder was too long. Each bad record must get its own logged
 * problem, the rest of its batch and later batches must apply, and long names keep versions.
 */

const SYNC_MS = 30_000;
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** alice shares her folder `a` with mallory, an editor whose daemon never runs; mallory says hello. */
async function aliceAndMallory(world: NetWorld): Promise<{ space: string; evil: HostilePeer; alice: string }> {
  await world.startServer();
  await world.user('alice');
  await world.user('mallory');
  await world.contacts('alice', 'mallory');
  const space = await world.share('alice', 'a', ['mallory']);
  await world.join('mallory', space, 'm');
  world.start('alice');
  const evil = await HostilePeer.signIn(world, 'mallory');
  closing.push(() => evil.close());
  const alice = evil.deviceOf('alice');
  await evil.helloFrom(alice, space);
  return { space, evil, alice };
}

/** What a test opened, closed in its `finally` even when the setup failed half way. */
const closing: (() => Promise<void>)[] = [];

async function closeAll(world: NetWorld): Promise<void> {
  for (const close of closing.splice(0)) await close();
  await world.close();
}

function arrives(world: NetWorld, path: string, text: string): Promise<void> {
  return waitFor(`${path} with "${text.slice(0, 20)}" at alice`, () => readText(nodePath.join(world.folder('a'), path)) === text, SYNC_MS);
}

/** mallory's versions carry only mallory's counter, issued now: genuine, as far as anyone can tell. */
function file(evil: HostilePeer, path: string, text: string, sequence: number, counter = Date.now()): FileRecord {
  evil.serve(utf8(text));
  return forgedFile(path, utf8(text), [{ id: 'mallory-index', counter }], sequence);
}

test('bad paths in a batch are each refused and logged, the good records and later batches apply', async () => {
  const world = new NetWorld();
  try {
    const { space, evil, alice } = await aliceAndMallory(world);
    const forged = '\u001b[31mred\nspace x: forged line/../y';
    const bad = ['../x', '/x', './x', forged];
    const records = [
      file(evil, 'good-1.txt', 'one\n', 1),
      file(evil, bad[0]!, 'bad\n', 2),
      file(evil, 'good-2.txt', 'two\n', 3),
      file(evil, bad[1]!, 'bad\n', 4),
      file(evil, bad[2]!, 'bad\n', 5),
      file(evil, bad[3]!, 'bad\n', 6),
      file(evil, 'good-3.txt', 'three\n', 7),
    ];
    evil.send(alice, space, indexBatch('mallory-index', records));
    await arrives(world, 'good-1.txt', 'one\n');
    await arrives(world, 'good-2.txt', 'two\n');
    await arrives(world, 'good-3.txt', 'three\n');
    for (const path of bad) {
      const line = `${printable(path)}: `;
      await waitFor(`alice to log ${JSON.stringify(path)}`, () => world.log('alice').includes(line), SYNC_MS);
      assert.match(world.log('alice'), new RegExp(`${escape(line)}\\w+ \\(remote, from mallory on device `));
    }
    assert.ok(!world.log('alice').includes('\u001b'), 'no raw escape code reaches the log');
    assert.ok(!world.log('alice').includes('\nspace x: forged line'), 'no forged log line');
    assert.equal(fs.existsSync(nodePath.join(world.dir, 'folders', 'x')), false, 'nothing written outside the folder');

    // The next batch follows on from the first: it is not a gap.
    evil.send(alice, space, indexBatch('mallory-index', [file(evil, 'later.txt', 'later\n', 8)], 7, 8));
    await arrives(world, 'later.txt', 'later\n');
  } finally {
    await closeAll(world);
  }
});

test('a file with a 250-byte name is updated twice, its old versions kept under a shortened name', async () => {
  const world = new NetWorld();
  try {
    const { space, evil, alice } = await aliceAndMallory(world);
    const name = `${'n'.repeat(246)}.txt`;
    assert.equal(Buffer.byteLength(name), 250);
    const t = Date.now();
    evil.send(alice, space, indexBatch('mallory-index', [file(evil, name, 'first\n', 1, t)]));
    await arrives(world, name, 'first\n');
    evil.send(alice, space, indexBatch('mallory-index', [file(evil, name, 'second\n', 2, t + 1)], 1, 2));
    await arrives(world, name, 'second\n');
    evil.send(alice, space, indexBatch('mallory-index', [file(evil, name, 'third\n', 3, t + 2)], 2, 3));
    await arrives(world, name, 'third\n');

    const versions = new VersionsFolder(nodePath.join(world.folder('a'), '.shared-folder', 'versions'), { now: () => Date.now() });
    const kept = await versions.of(name);
    assert.deepEqual(
      kept.map((f) => fs.readFileSync(f, 'utf8')),
      ['first\n', 'second\n'],
    );
    for (const f of kept) {
      const base = nodePath.basename(f);
      assert.ok(Buffer.byteLength(base) <= 255, `${base} fits a file system`);
      assert.match(base, /^n+#[0-9a-f]{16}~\d{8}-\d{6}(~\d+)?\.txt$/);
    }
    assert.doesNotMatch(world.log('alice'), /ENAMETOOLONG|name too long/i);
  } finally {
    await closeAll(world);
  }
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
