import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '../../../../src/sync/protocol/messages';
import { Cluster } from './engine-harness';

async function aliceAndBob(c: Cluster): Promise<void> {
  await c.add('alice');
  await c.add('bob');
  c.write('alice', 'start.txt', 'in sync');
  await c.connect('alice', 'bob');
  await c.settle();
}

const requests = (c: Cluster, from: number): number => c.log.slice(from).filter((e) => e.message.type === 'blockRequest').length;

test("a small file saved on alice reaches bob's disk with its blocks pushed: bob asks for nothing", async () => {
  const c = new Cluster();
  await aliceAndBob(c);
  const before = c.log.length;
  c.write('alice', 'note.txt', 'x'.repeat(3000));
  await c.peers.get('alice')!.replica.scan();
  await new Promise((resolve) => setImmediate(resolve));
  // Handed over as a network would: the pushed blocks arrive while bob applies the record.
  await Promise.all(c.post());
  await c.settle();
  assert.equal(c.read('bob', 'note.txt'), 'x'.repeat(3000));
  assert.equal(requests(c, before), 0);
  const pushed = c.log.slice(before).filter((e) => e.message.type === 'blockResponse' && e.message.id === 0);
  assert.ok(pushed.length > 0 && pushed.every((e) => e.from === 'alice'), 'alice pushed, bob did not push it back');
});

test('a pushed block that is not what its hash says is dropped, and the block is asked for', async () => {
  const c = new Cluster();
  await aliceAndBob(c);
  c.tamper = (_from, _to, message): Message =>
    message.type === 'blockResponse' && message.id === 0 ? { ...message, data: message.data.map((b) => b ^ 1) } : message;
  const before = c.log.length;
  c.write('alice', 'note.txt', 'y'.repeat(3000));
  await c.settle();
  assert.equal(c.read('bob', 'note.txt'), 'y'.repeat(3000));
  assert.ok(requests(c, before) > 0, 'bob asked for the block');
});

test('a file larger than 64 KiB is not pushed', async () => {
  const c = new Cluster();
  await aliceAndBob(c);
  const before = c.log.length;
  c.write('alice', 'big.txt', 'z'.repeat(65 * 1024));
  await c.settle();
  assert.equal(c.read('bob', 'big.txt'), 'z'.repeat(65 * 1024));
  assert.equal(c.log.slice(before).filter((e) => e.message.type === 'blockResponse' && e.message.id === 0).length, 0);
  assert.ok(requests(c, before) > 0);
});
