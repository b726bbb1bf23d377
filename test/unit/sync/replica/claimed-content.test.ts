import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentHash } from '../../../../src/sync/model/content-hash';
import type { BlockRef, FileRecord } from '../../../../src/sync/model/file-record';
import { claimedContentProblem } from '../../../../src/sync/replica/claimed-content';
import { NodeHasher } from '../../../../src/node/workers/node-hasher';
import { bareRecord, Cluster, SMALL_CHUNKS } from './engine-harness';

const hasher = new NodeHasher();
const zeros = (n: number): Uint8Array => new Uint8Array(n);

function fileRecord(path: string, sequence: number, blocks: BlockRef[], over: Partial<FileRecord> = {}): FileRecord {
  const size = blocks.reduce((sum, b) => sum + b.size, 0);
  return bareRecord(path, sequence, {
    type: 'file',
    size,
    blocks,
    hash: contentHash(blocks, hasher),
    modifiedBy: 'mallory',
    version: [{ id: 'evil', counter: sequence }],
    ...over,
  });
}

const zeroBlock: BlockRef = { hash: hasher.sha256(zeros(SMALL_CHUNKS.maxSize)), size: SMALL_CHUNKS.maxSize };

test('a record is plausible only if its blocks fit the chunker, add up to its size and hash to its content hash', () => {
  const good = fileRecord('a', 1, [zeroBlock, zeroBlock]);
  assert.equal(claimedContentProblem(good, SMALL_CHUNKS, hasher), undefined);
  assert.match(
    claimedContentProblem({ ...good, hash: hasher.sha256(zeros(1)) }, SMALL_CHUNKS, hasher)!,
    /content hash that does not match/,
  );
  assert.match(claimedContentProblem({ ...good, size: 16 * 2 ** 30 }, SMALL_CHUNKS, hasher)!, /add up to 2048/);
  const huge = fileRecord('b', 2, [{ hash: zeroBlock.hash, size: SMALL_CHUNKS.maxSize + 1 }]);
  assert.match(claimedContentProblem(huge, SMALL_CHUNKS, hasher)!, /blocks are 1 to 1024 bytes/);
  assert.equal(claimedContentProblem(fileRecord('empty', 3, []), SMALL_CHUNKS, hasher), undefined, 'an empty file has no blocks');
});

async function victim(): Promise<{ c: Cluster; bob: Awaited<ReturnType<Cluster['add']>> }> {
  const c = new Cluster();
  await c.add('alice');
  const bob = await c.add('bob');
  await c.connect('alice', 'bob');
  await c.pump();
  return { c, bob };
}

test('a forged content hash is refused before any block is asked for, names the sender, backs off, and the rest of the batch arrives', async () => {
  const { c, bob } = await victim();
  c.write('alice', 'good.txt', 'a good file');
  await c.peers.get('alice')!.replica.scan();
  await c.pump();
  const forged = fileRecord(
    'zeros.img',
    1,
    Array.from({ length: 64 }, () => zeroBlock),
    { hash: hasher.sha256(zeros(3)) },
  );
  await bob.replica.receive('alice', {
    type: 'index',
    indexId: 'evil',
    fromSequence: 0,
    toSequence: 1,
    maxSequence: 1,
    records: [forged],
  });
  await c.pump();
  assert.equal(c.read('bob', 'good.txt'), 'a good file');
  const problem = bob.replica.errors().get('zeros.img');
  assert.equal(problem?.code, 'badRecord');
  assert.match(problem!.message, /mallory \(sent by alice\) claims 65536 bytes under a content hash that does not match/);
  assert.match(problem!.message, /next try in 1 s/);
  const asked = () => c.sent('blockRequest').filter((e) => e.from === 'bob').length;
  const before = asked();
  for (let i = 0; i < 20; i++) {
    c.time.advance(500);
    await bob.replica.tick();
    await c.pump();
  }
  assert.equal(asked(), before, 'no block of the refused record is ever asked for');
  assert.match(bob.replica.errors().get('zeros.img')!.message, /next try in (8|16) s/, 'the waits double');
  assert.equal(bob.replica.state(), 'syncing', 'the version is still wanted: a correct one replaces it');
});

test('a file bigger than the free space waits with a typed problem, and comes once there is room', async () => {
  const { c, bob } = await victim();
  bob.store.free = 100;
  c.write(
    'alice',
    'big.bin',
    new Uint8Array(5000).map((_, i) => i % 251),
  );
  c.write('alice', 'small.txt', 'fits');
  await c.peers.get('alice')!.replica.scan();
  await c.pump();
  assert.equal(c.read('bob', 'small.txt'), 'fits');
  assert.equal(c.read('bob', 'big.bin'), undefined);
  const problem = bob.replica.errors().get('big.bin');
  assert.equal(problem?.code, 'noSpace');
  assert.match(problem!.message, /takes 5000 bytes, the disk has 100 free/);
  bob.store.free = 1_000_000;
  await c.settle();
  assert.equal(c.peers.get('bob')!.store.readUser('big.bin')?.length, 5000);
  assert.equal(bob.replica.errors().has('big.bin'), false, 'the problem goes once the file is written');
});
