import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeHasher } from '../../../../src/node/workers/node-hasher';
import type { Message } from '../../../../src/sync/protocol/messages';
import { BlockFetcher } from '../../../../src/sync/replica/block-fetcher';
import { Cluster } from './engine-harness';

const hasher = new NodeHasher();

test('wrong bytes for a block: the file names the sender in its problem, and each new round waits twice as long', async () => {
  const c = new Cluster();
  await c.add('alice');
  const bob = await c.add('bob');
  await c.connect('alice', 'bob');
  await c.pump();
  c.write('alice', 'a.txt', 'the real content');
  await c.peers.get('alice')!.replica.scan();
  let lying = true;
  c.tamper = (from, _to, m): Message =>
    lying && from === 'alice' && m.type === 'blockResponse' && m.status === 'ok'
      ? { ...m, data: new Uint8Array(m.data.length).fill(7) }
      : m;
  await c.pump();
  const problem = bob.replica.errors().get('a.txt');
  assert.equal(problem?.code, 'badBlock');
  assert.match(problem!.message, /a block sent by alice did not match its hash \(1 times\); asked again in 10 s at most/);
  const askedAt: number[] = [];
  const start = c.time.now();
  for (let s = 0; s < 80; s++) {
    c.time.advance(1_000);
    const before = c.sent('blockRequest').length;
    await bob.replica.tick();
    await c.pump();
    if (c.sent('blockRequest').length > before) askedAt.push((c.time.now() - start) / 1000);
  }
  assert.deepEqual(askedAt, [10, 30, 70], 'asked again after 10, 20 and 40 s: no loop, however fast the peer answers');
  assert.equal(c.read('bob', 'a.txt'), undefined, 'wrong bytes are never written');
  lying = false;
  for (let s = 0; s < 80 && c.read('bob', 'a.txt') === undefined; s++) {
    c.time.advance(1_000);
    await bob.replica.tick();
    await c.pump();
  }
  assert.equal(c.read('bob', 'a.txt'), 'the real content');
  assert.equal(bob.replica.errors().has('a.txt'), false);
});

test('a peer that never answers holds up only its own requests', () => {
  const sent: { to: string; id: number }[] = [];
  const fetcher = new BlockFetcher({ send: (to, m) => void (m.type === 'blockRequest' && sent.push({ to, id: m.id })) }, hasher, {
    maxInFlight: 2,
    timeoutMs: 30_000,
    retryMs: 5_000,
    maxRetryMs: 60_000,
  });
  const blocks = Array.from({ length: 12 }, (_, i) => new Uint8Array([i, i * 7 + 1, 3]));
  for (const b of blocks) fetcher.want(hasher.sha256(b), b.length);
  fetcher.request(['mute', 'quick'], 0);
  assert.equal(sent.filter((s) => s.to === 'mute').length, 2);
  assert.equal(sent.filter((s) => s.to === 'quick').length, 2);
  // The quick peer answers notFound at once, again and again: each answer frees a request of its own.
  for (let round = 0; round < 4; round++) {
    for (const s of sent.filter((s) => s.to === 'quick').slice(-2)) {
      fetcher.accept('quick', { type: 'blockResponse', id: s.id, status: 'notFound', hash: new Uint8Array(32), data: new Uint8Array() });
    }
    fetcher.request(['mute', 'quick'], 1);
  }
  assert.equal(sent.filter((s) => s.to === 'mute').length, 2, 'the silent peer still has only its two');
  assert.equal(sent.filter((s) => s.to === 'quick').length, 10, 'the other went on asking, two at a time');
});
