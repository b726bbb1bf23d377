import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NodeHasher } from '../../src/node/node-hasher';
import { toHex } from '../../src/sync/bytes';
import { Chunker, chunkBoundaries, DEFAULT_CHUNKING, validateChunking } from '../../src/sync/chunker';
import { blocksOf, BlockHasher, contentHash } from '../../src/sync/content-hash';
import { Prng } from '../sim/prng';

/** The documented test vector input: xorshift32 from state 1, low byte of each step. */
function vectorInput(): Uint8Array {
  const d = new Uint8Array(1 << 20);
  let x = 1;
  for (let i = 0; i < d.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    d[i] = x & 0xff;
  }
  return d;
}

test('boundaries of the documented test vector are frozen', () => {
  assert.deepEqual(chunkBoundaries(vectorInput()), [
    37653, 78711, 111495, 192885, 241753, 277930, 316147, 330771, 370895, 403674, 441671, 478967, 528529, 563510, 604746,
    654994, 688295, 725989, 738903, 747181, 796371, 808620, 853990, 883743, 923444, 940423, 985629, 1002611, 1036145, 1048576,
  ]);
});

test('chunk sizes stay within min and max; only the last may be shorter', () => {
  const data = new Prng(3).bytes(3 << 20);
  const ends = chunkBoundaries(data);
  let start = 0;
  ends.forEach((end, i) => {
    const size = end - start;
    assert.ok(size <= DEFAULT_CHUNKING.maxSize);
    if (i < ends.length - 1) assert.ok(size > DEFAULT_CHUNKING.minSize);
    start = end;
  });
  assert.equal(start, data.length);
});

test('streaming gives the same boundaries as one shot for any split', () => {
  const params = { minSize: 64, avgSize: 256, maxSize: 1024 };
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 20_000 }), fc.array(fc.integer({ min: 1, max: 3000 }), { maxLength: 30 }), fc.integer(), (size, cuts, seed) => {
      const data = new Prng(seed >>> 0).bytes(size);
      const c = new Chunker(params);
      const sizes: number[] = [];
      let at = 0;
      for (const n of cuts) {
        for (const chunk of c.push(data.subarray(at, Math.min(size, at + n)))) sizes.push(chunk.length);
        at = Math.min(size, at + n);
      }
      for (const chunk of c.push(data.subarray(at))) sizes.push(chunk.length);
      for (const chunk of c.finish()) sizes.push(chunk.length);
      const ends: number[] = [];
      sizes.reduce((sum, s) => (ends.push(sum + s), sum + s), 0);
      assert.deepEqual(ends, chunkBoundaries(data, params));
    }),
    { numRuns: 200 },
  );
});

test('a one-byte insert or overwrite in the middle of 4 MiB changes at most three blocks', () => {
  const hasher = new NodeHasher();
  const data = new Prng(11).bytes(4 << 20);
  const before = new Set(blocksOf(data, hasher).map((b) => toHex(b.hash)));
  const overwrite = data.slice();
  overwrite[2 << 20] ^= 1;
  const insert = new Uint8Array(data.length + 1);
  insert.set(data.subarray(0, 2 << 20));
  insert[2 << 20] = 7;
  insert.set(data.subarray(2 << 20), (2 << 20) + 1);
  for (const edited of [overwrite, insert]) {
    const fresh = blocksOf(edited, hasher).filter((b) => !before.has(toHex(b.hash)));
    assert.ok(fresh.length >= 1 && fresh.length <= 3, `${fresh.length} new blocks`);
  }
});

test('empty input has no chunks and the content hash of nothing', () => {
  const hasher = new NodeHasher();
  assert.deepEqual(chunkBoundaries(new Uint8Array(0)), []);
  const bh = new BlockHasher(hasher);
  const { blocks, hash } = bh.finish();
  assert.deepEqual(blocks, []);
  assert.equal(toHex(hash), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.deepEqual(contentHash([], hasher), hash);
});

test('invalid parameters are refused', () => {
  assert.throws(() => validateChunking({ minSize: 10, avgSize: 1000, maxSize: 4000 }), /power of two/);
  assert.throws(() => validateChunking({ minSize: 4096, avgSize: 2048, maxSize: 8192 }), /min < avg < max/);
});
