import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { NodeHasher } from '../../src/node/workers/node-hasher';
import { DEFAULT_CHUNKING } from '../../src/sync/model/chunker';
import { contentHash } from '../../src/sync/model/content-hash';
import type { FileRecord } from '../../src/sync/model/file-record';
import { encodeMessage } from '../../src/sync/protocol/codec';
import type { BlockRequest, Hello } from '../../src/sync/protocol/messages';
import { sleep, waitFor } from './disk-cluster';
import { forgedFile, HostilePeer, indexBatch } from './hostile-peer';
import { cli, NetWorld, readText } from './net-cluster';

/**
 * Issue 15.3, amplification and stalls. mallory, a member whose daemon never runs, speaks the
 * real replica protocol to alice's daemon over the real relay: fifty hellos asking for alice's
 * whole index again; a record claiming 16 GiB that no content could match; a record whose
 * content hash does not match its blocks; and blocks answered with the wrong bytes. alice must
 * send little, refuse with a logged reason, back off (shown in `shared-folders status`) and keep
 * syncing everything else.
 */

const SYNC_MS = 30_000;
/** A normal file sent right after a hostile one arrives within this (the stall seen was 90 s). */
const PROMPT_MS = 15_000;
const hasher = new NodeHasher();
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** alice shares her folder `a` with mallory (in `role`), whose device the test drives itself. */
async function aliceAndMallory(
  role: 'editor' | 'reader',
  before?: (world: NetWorld) => void,
): Promise<{ world: NetWorld; space: string; evil: HostilePeer; alice: string; hello: Hello }> {
  const world = new NetWorld();
  await world.startServer();
  await world.user('alice');
  await world.user('mallory');
  await world.contacts('alice', 'mallory');
  const space = await world.share('alice', 'a', ['mallory'], role);
  await world.join('mallory', space, 'm');
  before?.(world);
  world.start('alice');
  // A hello relayed before alice is signed in would be dropped.
  await waitFor('alice to sync her folder', () => world.log('alice').includes(': syncing '), SYNC_MS);
  const evil = await HostilePeer.signIn(world, 'mallory');
  const alice = evil.deviceOf('alice');
  const hello = await evil.helloFrom(alice, space);
  return { world, space, evil, alice, hello };
}

/** A version by mallory that any check of vectors accepts: only mallory's counter, issued now. */
function mallorys(path: string, content: Uint8Array, sequence: number): FileRecord {
  return forgedFile(path, content, [{ id: 'mallory-index', counter: Math.floor(Date.now() / 1000) + sequence }], sequence);
}

function arrives(world: NetWorld, path: string, text: string, timeoutMs = SYNC_MS): Promise<void> {
  return waitFor(`${path} at alice`, () => readText(nodePath.join(world.folder('a'), path)) === text, timeoutMs);
}

function blockRequests(evil: HostilePeer): number {
  return evil.received.filter((r) => r.message.type === 'blockRequest').length;
}

async function statusText(world: NetWorld): Promise<string> {
  const r = await cli(['status', '--home', world.home('alice')]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

test('fifty hellos from a reader make the victim send its index again once at most, not fifty times', async () => {
  // Above the floor of the allowance (1,000 records), so that it is one index's worth.
  const files = 1_500;
  const { world, evil, alice, space, hello } = await aliceAndMallory('reader', (w) => {
    fs.mkdirSync(w.folder('a'), { recursive: true });
    for (let i = 0; i < files; i++) fs.writeFileSync(nodePath.join(w.folder('a'), `notes-${i}.txt`), `note ${i}\n`);
  });
  try {
    const indexBytes = (): number =>
      evil.received.filter((r) => r.from === alice && r.message.type === 'index').reduce((n, r) => n + encodeMessage(r.message).length, 0);
    const records = (): number =>
      evil.received.reduce((n, r) => n + (r.from === alice && r.message.type === 'index' ? r.message.records.length : 0), 0);
    await waitFor(`alice's ${files} records`, () => records() >= files, SYNC_MS);
    await sleep(1000);
    const whole = indexBytes();
    const replies = (): number => evil.received.filter((r) => r.from === alice && r.message.type === 'hello').length;
    const repliesBefore = replies();
    const ask: Hello = {
      type: 'hello',
      indexId: 'hostile-index',
      maxSequence: 0,
      knownIndexId: hello.indexId,
      knownSequence: 0,
      summary: new Uint8Array(32),
      reply: false,
      wholeBlockLists: false,
    };
    for (let i = 0; i < 50; i++) evil.send(alice, space, ask);
    const flood = 50 * encodeMessage(ask).length;
    // alice answers each hello after the batches it sends for it: the last answer closes the count.
    await waitFor('alice to answer the fifty hellos', () => replies() >= repliesBefore + 50, 60_000);
    const again = indexBytes() - whole;
    console.log(`index ${whole} bytes; 50 hellos (${flood} bytes) made alice send ${again} index bytes more`);
    assert.ok(again <= whole * 1.1, `alice sent ${again} bytes again for ${flood} bytes of hellos; her whole index is ${whole}`);
  } finally {
    await evil.close();
    await world.close();
  }
});

test('a record claiming 16 GiB that its blocks cannot make is refused with a logged reason; the next file arrives promptly', async () => {
  const { world, evil, alice, space } = await aliceAndMallory('editor');
  try {
    const zero = new Uint8Array(DEFAULT_CHUNKING.maxSize);
    evil.serve(zero);
    const block = { hash: hasher.sha256(zero), size: zero.length };
    const count = (16 * 2 ** 30) / zero.length;
    const huge: FileRecord = {
      ...mallorys('huge.img', zero, 1),
      size: count * zero.length,
      blocks: Array.from({ length: count }, () => block),
      hash: new Uint8Array(crypto.randomBytes(32)),
    };
    evil.send(alice, space, indexBatch('mallory-index', [huge]));
    evil.serve(utf8('right after\n'));
    evil.send(alice, space, indexBatch('mallory-index', [mallorys('after.txt', utf8('right after\n'), 2)], 1, 2));
    await arrives(world, 'after.txt', 'right after\n', PROMPT_MS);
    await waitFor("the refusal in alice's log", () => /huge\.img: badRecord \(apply\): refused: /.test(world.log('alice')), SYNC_MS);
    assert.match(
      world.log('alice'),
      /claims 17179869184 bytes under a content hash that does not match its own block list; next try in 1 s/,
    );
    assert.equal(fs.existsSync(nodePath.join(world.folder('a'), 'huge.img')), false);
  } finally {
    await evil.close();
    await world.close();
  }
});

test('a record whose blocks fail verification backs off, shown in status, with no fetch loop', async () => {
  const { world, evil, alice, space } = await aliceAndMallory('editor');
  try {
    const content = new Uint8Array(crypto.randomBytes(300_000));
    evil.serve(content);
    const forged: FileRecord = { ...mallorys('forged.bin', content, 1), hash: new Uint8Array(crypto.randomBytes(32)) };
    evil.send(alice, space, indexBatch('mallory-index', [forged]));
    await sleep(8000);
    console.log(`block requests for the forged record in 8 s: ${blockRequests(evil)}`);
    assert.equal(blockRequests(evil), 0, 'no block of a record that cannot verify is ever fetched, let alone again and again');
    await waitFor("the refusal in alice's log", () => world.log('alice').includes('forged.bin: badRecord (apply): refused'), SYNC_MS);
    assert.match(
      await statusText(world),
      /error in [0-9a-f]+: forged\.bin: refused: the version by mallory \(sent by [0-9a-f]+\) claims 300000 bytes .*; next try in (4|8|16) s/,
    );
    assert.equal(fs.existsSync(nodePath.join(world.folder('a'), 'forged.bin')), false);
  } finally {
    await evil.close();
    await world.close();
  }
});

test('blocks answered with the wrong bytes: the sender is named in status and each round waits longer', async () => {
  const { world, evil, alice, space } = await aliceAndMallory('editor');
  try {
    const content = new Uint8Array(crypto.randomBytes(1000));
    const record = mallorys('lied.bin', content, 1);
    evil.serveAs(record.blocks[0]!.hash, new Uint8Array(crypto.randomBytes(content.length)));
    evil.send(alice, space, indexBatch('mallory-index', [record]));
    await waitFor('a first block request', () => blockRequests(evil) > 0, SYNC_MS);
    const first = Date.now();
    // Rounds at a fixed 5 s would ask three times in 16 s; doubling waits (10 s, then 20 s) ask twice.
    await sleep(16_000);
    const requests = evil.received.filter((r) => r.message.type === 'blockRequest').map((r) => (r.message as BlockRequest).id);
    const status = await statusText(world);
    console.log(`block requests in the 16 s after the first: ${requests.length - 1} (${Date.now() - first} ms)`);
    assert.match(
      status,
      /error in [0-9a-f]+: lied\.bin: a block sent by [0-9a-f]+ did not match its hash \((1|2) times\); asked again in (10|20) s at most/,
    );
    assert.ok(requests.length <= 2, `${requests.length} requests in 16 s: the wait must double with every wrong answer`);
    assert.equal(fs.existsSync(nodePath.join(world.folder('a'), 'lied.bin')), false);
  } finally {
    await evil.close();
    await world.close();
  }
});

/** The size of the one temp file in alice's folder, 0 if there is none. */
function tempBytes(world: NetWorld): number {
  const dir = nodePath.join(world.folder('a'), '.shared-folder', 'tmp');
  let bytes = 0;
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) bytes = Math.max(bytes, fs.statSync(nodePath.join(dir, name)).size);
  return bytes;
}

test('a genuine 2 GiB file of zeros is verified while the next file arrives and is installed', async () => {
  const { world, evil, alice, space } = await aliceAndMallory('editor');
  try {
    const zero = new Uint8Array(DEFAULT_CHUNKING.maxSize);
    evil.serve(zero);
    const block = { hash: hasher.sha256(zero), size: zero.length };
    const blocks = Array.from({ length: (2 * 2 ** 30) / zero.length }, () => block);
    const zeros: FileRecord = { ...mallorys('zeros.img', zero, 1), size: 2 * 2 ** 30, blocks, hash: contentHash(blocks, hasher) };
    evil.send(alice, space, indexBatch('mallory-index', [zeros]));
    // Every block is in the temp file: what is left is sealing it and reading all of it back.
    await waitFor('the whole temp file at alice', () => tempBytes(world) === zeros.size, 120_000);
    evil.serve(utf8('right after\n'));
    const sent = Date.now();
    evil.send(alice, space, indexBatch('mallory-index', [mallorys('after.txt', utf8('right after\n'), 2)], 1, 2));
    await arrives(world, 'after.txt', 'right after\n', 120_000);
    const arrived = Date.now();
    const bigThere = fs.existsSync(nodePath.join(world.folder('a'), 'zeros.img'));
    assert.equal(bigThere, false, 'after.txt waited for zeros.img to be verified');
    await waitFor('zeros.img at alice', () => fs.existsSync(nodePath.join(world.folder('a'), 'zeros.img')), 120_000);
    console.log(`after.txt arrived ${arrived - sent} ms after it was sent; zeros.img was in place ${Date.now() - sent} ms after`);
    assert.equal(fs.statSync(nodePath.join(world.folder('a'), 'zeros.img')).size, zeros.size);
  } finally {
    await evil.close();
    await world.close();
  }
});
