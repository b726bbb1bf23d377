import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BlockRef } from '../../../../src/sync/model/file-record';
import { encodeMessage } from '../../../../src/sync/protocol/codec';
import type { IndexBatch, Message } from '../../../../src/sync/protocol/messages';
import { applyBlockListDelta, diffBlockLists, RecentBlockLists } from '../../../../src/sync/replica/block-list-delta';
import { Cluster } from './engine-harness';

/** Bytes from a fixed sequence: the same file on every run. */
function pseudoRandom(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function insertByte(data: Uint8Array): Uint8Array {
  const mid = data.length >> 1;
  const out = new Uint8Array(data.length + 1);
  out.set(data.subarray(0, mid));
  out[mid] = 0x42;
  out.set(data.subarray(mid), mid + 1);
  return out;
}

const block = (n: number): BlockRef => ({ hash: new Uint8Array(32).fill(n), size: n });
const base = Array.from({ length: 100 }, (_, i) => block(i + 1));

test('a delta gives back the list it was made from: edits at the start, middle and end, none, all', () => {
  const cases: BlockRef[][] = [
    base,
    [...base.slice(0, 50), block(200), ...base.slice(51)],
    [...base.slice(0, 50), block(200), block(201), ...base.slice(50)],
    [...base.slice(0, 40), ...base.slice(60)],
    [block(200), ...base.slice(1)],
    [...base.slice(0, 99), block(200), block(201)],
    [block(200)],
    [],
  ];
  for (const next of cases) {
    const delta = diffBlockLists(new Uint8Array(32), base, next);
    assert.deepEqual(applyBlockListDelta(base, delta), next);
    assert.ok(delta.prefix + delta.suffix <= Math.min(base.length, next.length));
  }
  const inserted = diffBlockLists(new Uint8Array(32), base, [...base.slice(0, 50), block(200), ...base.slice(51)]);
  assert.deepEqual([inserted.prefix, inserted.middle.length, inserted.suffix], [50, 1, 49]);
});

test('a delta that asks for more blocks than its base has is not resolved', () => {
  assert.equal(applyBlockListDelta(base.slice(0, 10), { base: new Uint8Array(32), prefix: 8, suffix: 3, middle: [] }), undefined);
});

test('recent block lists keep the newest within their budget of blocks', () => {
  const recent = new RecentBlockLists(250);
  recent.remember('a', base);
  recent.remember('b', base);
  recent.remember('a', base); // used again: now the newest
  recent.remember('c', base);
  assert.equal(recent.get('b'), undefined);
  assert.ok(recent.get('a') && recent.get('c'));
  recent.remember('small', base.slice(0, 10));
  assert.equal(recent.get('small'), undefined, 'a short list is sent whole and not kept');
});

/** alice's 64 KiB file at bob (about 250 blocks of the harness's small chunks), then alice's one-byte insert. */
async function insertInTheMiddle(c: Cluster): Promise<{ edited: Uint8Array; afterEdit: number }> {
  await c.add('alice');
  await c.add('bob');
  const data = pseudoRandom(64 * 1024, 17);
  c.write('alice', 'big.bin', data);
  await c.connect('alice', 'bob');
  await c.settle();
  assert.ok(c.peers.get('alice')!.replica.record('big.bin')!.blocks.length >= 200);
  const afterEdit = c.log.length;
  const edited = insertByte(data);
  c.write('alice', 'big.bin', edited);
  await c.settle();
  return { edited, afterEdit };
}

/** Whether the batch carries a delta that changes a list (not a version sent back to its author). */
function edits(batch: IndexBatch): boolean {
  return [...(batch.deltas?.values() ?? [])].some((d) => d.middle.length > 0);
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
}

function indexBatches(c: Cluster, from: number, sender: string): IndexBatch[] {
  return c.log
    .slice(from)
    .filter((e) => e.from === sender && e.message.type === 'index')
    .map((e) => e.message as IndexBatch);
}

test('a one-byte insert in a large file crosses as a few blocks of its list, and comes back as none', async () => {
  const c = new Cluster();
  const { edited, afterEdit } = await insertInTheMiddle(c);
  assert.ok(sameBytes(c.peers.get('bob')!.store.readUser('big.bin'), edited), 'bob has the edit');
  const whole = c.peers.get('alice')!.replica.record('big.bin')!;
  assert.deepEqual(c.peers.get('bob')!.replica.record('big.bin')!.blocks, whole.blocks);

  const [out] = indexBatches(c, afterEdit, 'alice').filter((b) => b.records.some((r) => r.path === 'big.bin'));
  const sent = out!.deltas?.get(out!.records.findIndex((r) => r.path === 'big.bin'));
  assert.ok(sent, 'alice sent the new list as a delta');
  assert.ok(sent.middle.length <= 4, `${sent.middle.length} blocks in the middle`);
  assert.ok(encodeMessage(out!).length < 400, `${encodeMessage(out!).length} bytes for the batch`);

  const [back] = indexBatches(c, afterEdit, 'bob').filter((b) => b.records.some((r) => r.path === 'big.bin'));
  const echoed = back!.deltas?.get(back!.records.findIndex((r) => r.path === 'big.bin'));
  assert.ok(echoed, 'bob sent alice her own version back as a delta');
  assert.equal(echoed.middle.length, 0);
  assert.equal(echoed.prefix + echoed.suffix, whole.blocks.length);
});

test('a delta on a base the receiver does not hold applies nothing, and the list comes again whole', async () => {
  const c = new Cluster();
  let spoiled = 0;
  // alice's delta for her edit names a base bob never had, as if he had lost it.
  c.tamper = (from, _to, message): Message => {
    if (from !== 'alice' || message.type !== 'index' || !edits(message) || spoiled > 0) return message;
    spoiled++;
    const deltas = new Map([...message.deltas!].map(([i, d]) => [i, { ...d, base: new Uint8Array(32).fill(0x5a) }]));
    return { ...message, deltas };
  };
  const { edited, afterEdit } = await insertInTheMiddle(c);
  assert.equal(spoiled, 1);
  const asked = c.log.slice(afterEdit).filter((e) => e.from === 'bob' && e.message.type === 'hello' && e.message.wholeBlockLists);
  assert.equal(asked.length, 1, 'bob asked once for whole lists');
  const again = indexBatches(c, afterEdit, 'alice').filter((b) => b.records.some((r) => r.path === 'big.bin'));
  assert.ok(
    again.some((b) => b.records.some((r) => r.path === 'big.bin' && r.blocks.length > 200)),
    'alice sent the list again whole',
  );
  assert.ok(sameBytes(c.peers.get('bob')!.store.readUser('big.bin'), edited), 'bob has the edit');
  assert.equal(c.peers.get('bob')!.replica.errors().size, 0);
});

test('a delta whose list does not add up to the size is not applied; the whole list is asked for', async () => {
  const c = new Cluster();
  let spoiled = 0;
  c.tamper = (from, _to, message): Message => {
    if (from !== 'alice' || message.type !== 'index' || !edits(message) || spoiled > 0) return message;
    spoiled++;
    const deltas = new Map([...message.deltas!].map(([i, d]) => [i, { ...d, suffix: d.suffix - 1 }]));
    return { ...message, deltas };
  };
  const { edited, afterEdit } = await insertInTheMiddle(c);
  assert.equal(spoiled, 1);
  const asked = c.log.slice(afterEdit).filter((e) => e.from === 'bob' && e.message.type === 'hello' && e.message.wholeBlockLists);
  assert.equal(asked.length, 1, 'bob asked once for whole lists');
  assert.ok(sameBytes(c.peers.get('bob')!.store.readUser('big.bin'), edited), 'bob has the edit');
  assert.equal(c.peers.get('bob')!.replica.errors().size, 0);
});

test('a file of fewer than 64 blocks, or one edited in more than half its blocks, goes whole', async () => {
  const c = new Cluster();
  await c.add('alice');
  await c.add('bob');
  c.write('alice', 'small.bin', pseudoRandom(4 * 1024, 3));
  c.write('alice', 'big.bin', pseudoRandom(64 * 1024, 5));
  await c.connect('alice', 'bob');
  await c.settle();
  assert.ok(c.peers.get('alice')!.replica.record('small.bin')!.blocks.length < 64);
  const afterEdit = c.log.length;
  c.write('alice', 'small.bin', insertByte(pseudoRandom(4 * 1024, 3)));
  c.write('alice', 'big.bin', pseudoRandom(64 * 1024, 6));
  await c.settle();
  const batches = indexBatches(c, afterEdit, 'alice');
  for (const path of ['small.bin', 'big.bin']) {
    const carrying = batches.filter((b) => b.records.some((r) => r.path === path));
    assert.ok(carrying.length > 0, path);
    for (const b of carrying) assert.ok(b.records.find((r) => r.path === path)!.blocks.length > 0, `${path} went whole`);
  }
  assert.equal(c.read('bob', 'big.bin'), c.read('alice', 'big.bin'));
});
