import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { MailBlockCache } from '../../../../src/node/net/mail-sync';
import { toHex } from '../../../../src/sync/util/bytes';

const DAY = 24 * 3600 * 1000;

function block(n: number, size = 100): { hash: Uint8Array; data: Uint8Array } {
  const hash = new Uint8Array(32).fill(n);
  return { hash, data: new Uint8Array(size).fill(n) };
}

function tempDir(): string {
  return fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-mailcache-'));
}

test('blocks wait for their sender’s index, then stay only while a pending version needs them', async () => {
  const dir = tempDir();
  try {
    const cache = new MailBlockCache(dir, 10_000);
    const [a, b, c] = [block(1), block(2), block(3)];
    assert.ok(await cache.put(a.hash, a.data, 'alice'));
    assert.ok(await cache.put(b.hash, b.data, 'alice'));
    assert.ok(await cache.put(c.hash, c.data, 'carol'));
    assert.equal(cache.bytes, 300);
    assert.equal(
      cache.prune(() => false, 30 * DAY),
      0,
      'nothing goes before its index',
    );
    cache.indexApplied('alice');
    assert.equal(
      cache.prune((hash) => hash === toHex(a.hash), 30 * DAY),
      1,
      "b: alice's index came and nothing needs it",
    );
    assert.deepEqual(cache.get(a.hash), a.data);
    assert.equal(cache.get(b.hash), undefined);
    assert.ok(cache.get(c.hash), "carol's index is still to come");
    assert.equal(
      cache.prune(() => false, 30 * DAY),
      1,
      'a goes once written',
    );
    assert.equal(cache.bytes, 100);
    assert.equal(
      cache.prune(() => false, 30 * DAY, Date.now() + 31 * DAY),
      1,
      'an index that never came',
    );
    assert.equal(cache.bytes, 0);
    await cache.settled();
    assert.deepEqual(fs.readdirSync(dir), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a block that would overrun the budget is not kept', async () => {
  const dir = tempDir();
  try {
    const cache = new MailBlockCache(dir, 250);
    assert.ok(await cache.put(block(1).hash, block(1).data, 'alice'));
    assert.ok(await cache.put(block(2).hash, block(2).data, 'alice'));
    assert.equal(await cache.put(block(3).hash, block(3).data, 'alice'), false);
    assert.ok(await cache.put(block(1).hash, block(1).data, 'alice'), 'a block already held costs nothing more');
    assert.equal(cache.bytes, 200);
    assert.equal(cache.get(block(3).hash), undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the blocks of one item are kept all at once, each whole, within the budget', async () => {
  const dir = tempDir();
  try {
    const cache = new MailBlockCache(dir, 1000);
    const blocks = Array.from({ length: 12 }, (_, i) => block(i + 1));
    const kept = await cache.putAll([...blocks, blocks[0]!], 'alice');
    assert.deepEqual(kept, [...Array(10).fill(true), false, false, true], 'ten fit; a block held already costs nothing');
    assert.equal(cache.bytes, 1000);
    for (const b of blocks.slice(0, 10)) assert.deepEqual(cache.get(b.hash), b.data);
    assert.equal(cache.get(blocks[10]!.hash), undefined);
    assert.equal(fs.readdirSync(dir).length, 10, 'one file per block, no temp file left');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('blocks found at start count, and wait for the first index to come', async () => {
  const dir = tempDir();
  try {
    const first = new MailBlockCache(dir, 1000);
    await first.put(block(1).hash, block(1).data, 'alice');
    fs.writeFileSync(nodePath.join(dir, 'stray.tmp'), 'x');
    const again = new MailBlockCache(dir, 1000);
    assert.equal(again.bytes, 100);
    assert.equal(again.size, 1);
    assert.deepEqual(fs.readdirSync(dir), [toHex(block(1).hash)], 'what is not a block is removed');
    assert.equal(
      again.prune(() => false, 30 * DAY),
      0,
    );
    again.indexApplied('bob');
    assert.equal(
      again.prune(() => false, 30 * DAY),
      1,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
