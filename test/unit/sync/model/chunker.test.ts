import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { NodeHasher } from '../../../../src/node/workers/node-hasher';
import { concatBytes, toHex } from '../../../../src/sync/util/bytes';
import {
  Chunker,
  chunkBoundaries,
  DEFAULT_CHUNKING,
  GEAR,
  validateChunking,
  type ChunkingParams,
} from '../../../../src/sync/model/chunker';
import { blocksOf, BlockHasher, contentHash } from '../../../../src/sync/model/content-hash';

const hasher = new NodeHasher();
const SMALL: ChunkingParams = { minSize: 64, avgSize: 256, maxSize: 1024 };

/** The documented test vector input (docs/CHUNKING.md): xorshift32 from state 1, low byte of each step. */
function vectorInput(size: number): Uint8Array {
  const d = new Uint8Array(size);
  let x = 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    d[i] = x & 0xff;
  }
  return d;
}

/** Fast deterministic bytes, whole xorshift32 words; kept here so the tests depend on no other helper. */
function randomBytes(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    for (let k = 0; k < 4 && i + k < size; k++) out[i + k] = (x >>> (8 * k)) & 0xff;
  }
  return out;
}

function sizesOf(ends: readonly number[]): number[] {
  return ends.map((end, i) => end - (i === 0 ? 0 : ends[i - 1]!));
}

/** Feeds `data` to a Chunker in pieces of the given lengths (then the rest) and returns the chunks. */
function streamChunks(data: Uint8Array, pieces: readonly number[], params: ChunkingParams): Uint8Array[] {
  const c = new Chunker(params);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const n of pieces) {
    const next = Math.min(data.length, at + n);
    // Copies, so a chunk returned as a view of the piece cannot hide a wrong offset.
    for (const chunk of c.push(data.slice(at, next))) out.push(chunk.slice());
    at = next;
  }
  for (const chunk of c.push(data.slice(at))) out.push(chunk.slice());
  const tail = c.finish();
  if (tail) out.push(tail);
  return out;
}

function endsOf(chunks: readonly Uint8Array[]): number[] {
  const ends: number[] = [];
  chunks.reduce((sum, c) => (ends.push(sum + c.length), sum + c.length), 0);
  return ends;
}

/** docs/CHUNKING.md's cutting rule, written as plainly as possible, to check the optimised code against. */
function referenceBoundaries(data: Uint8Array, p: ChunkingParams): number[] {
  const b = Math.log2(p.avgSize);
  const strict = (0xffffffff << (32 - (b + 2))) >>> 0;
  const loose = (0xffffffff << (32 - (b - 2))) >>> 0;
  const ends: number[] = [];
  let s = 0;
  while (s < data.length) {
    const n = data.length - s;
    let length = n;
    if (n > p.minSize) {
      let h = 0;
      for (let j = p.minSize; ; j++) {
        if (j === n) break;
        if (j === p.maxSize) {
          length = p.maxSize;
          break;
        }
        h = ((h << 1) + GEAR[data[s + j]!]!) >>> 0;
        if ((h & (j < p.avgSize ? strict : loose)) >>> 0 === 0) {
          length = j + 1;
          break;
        }
      }
    }
    s += length;
    ends.push(s);
  }
  return ends;
}

test('the gear table is the documented splitmix32 output', () => {
  assert.equal(GEAR.length, 256);
  assert.deepEqual(
    [GEAR[0], GEAR[1], GEAR[2], GEAR[3], GEAR[254], GEAR[255]],
    [0xa7a03895, 0x48d2621f, 0x9282aac4, 0x35db8e30, 0x036efde6, 0xc5a8d8f5],
  );
  const le = new Uint8Array(1024);
  const view = new DataView(le.buffer);
  GEAR.forEach((g, i) => view.setUint32(i * 4, g, true));
  assert.equal(createHash('sha256').update(le).digest('hex'), 'd4429b2339f7fa2162c3d49a4a79641ba28597bf9a082fedc32c98e49fe92023');
});

test('test vector 1: 1 MiB, default parameters (frozen: part of the protocol)', () => {
  assert.deepEqual(
    chunkBoundaries(vectorInput(1 << 20)),
    [
      37653, 78711, 111495, 192885, 241753, 277930, 316147, 330771, 370895, 403674, 441671, 478967, 528529, 563510, 604746, 654994, 688295,
      725989, 738903, 747181, 796371, 808620, 853990, 883743, 923444, 940423, 985629, 1002611, 1036145, 1048576,
    ],
  );
});

test('test vector 2: 8 KiB, small parameters (frozen)', () => {
  assert.deepEqual(
    chunkBoundaries(vectorInput(8192), SMALL),
    [
      260, 547, 875, 1132, 1562, 1843, 2083, 2342, 2621, 2908, 3004, 3299, 3612, 3922, 4091, 4360, 4625, 4913, 5539, 5807, 6075, 6342, 6418,
      6767, 7303, 7658, 7988, 8192,
    ],
  );
});

test('test vector 3: runs of zeros are cut at max (frozen)', () => {
  assert.deepEqual(chunkBoundaries(new Uint8Array(300_000)), [131072, 262144, 300000]);
});

test('the optimised chunker matches the plain reference rule', () => {
  // Low-entropy data too (few distinct byte values, long runs), so forced cuts at max are exercised.
  const arbData = fc.oneof(
    fc.integer().map((seed) => randomBytes(6000, seed)),
    fc.uint8Array({ maxLength: 6000 }),
    fc
      .array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 2000 })), { maxLength: 12 })
      .map((runs) => concatBytes(runs.map(([v, n]) => new Uint8Array(n).fill(v)))),
  );
  const arbParams = fc.constantFrom<ChunkingParams>(
    SMALL,
    { minSize: 1, avgSize: 16, maxSize: 17 },
    { minSize: 100, avgSize: 128, maxSize: 3000 },
  );
  fc.assert(
    fc.property(arbData, arbParams, (data, p) => {
      assert.deepEqual(chunkBoundaries(data, p), referenceBoundaries(data, p));
    }),
    { numRuns: 500 },
  );
  const big = randomBytes(2 << 20, 23);
  assert.deepEqual(chunkBoundaries(big), referenceBoundaries(big, DEFAULT_CHUNKING));
});

test('chunking is deterministic across calls, chunkers and copies of the input', () => {
  const data = randomBytes(1 << 20, 7);
  const first = chunkBoundaries(data);
  assert.deepEqual(chunkBoundaries(data.slice()), first);
  assert.deepEqual(endsOf(streamChunks(data, [], DEFAULT_CHUNKING)), first);
  assert.deepEqual(endsOf(streamChunks(data, [], DEFAULT_CHUNKING)), first);
});

test('chunk sizes stay within (min, max]; only the last may be shorter', () => {
  const cases: [Uint8Array, ChunkingParams][] = [
    [randomBytes(3 << 20, 3), DEFAULT_CHUNKING],
    [randomBytes(200_000, 4), SMALL],
    [new Uint8Array(1 << 20).fill(0xaa), DEFAULT_CHUNKING],
    [vectorInput(100), DEFAULT_CHUNKING],
  ];
  for (const [data, p] of cases) {
    const ends = chunkBoundaries(data, p);
    const sizes = sizesOf(ends);
    sizes.forEach((size, i) => {
      assert.ok(size <= p.maxSize, `chunk ${i}: ${size} > max`);
      if (i < sizes.length - 1) assert.ok(size > p.minSize, `chunk ${i}: ${size} <= min`);
      else assert.ok(size >= 1);
    });
    assert.equal(ends.at(-1), data.length);
  }
});

test('random data gives chunks averaging near the target size', () => {
  const data = randomBytes(8 << 20, 5);
  const mean = data.length / chunkBoundaries(data).length;
  // Normalised chunking with min 8 KiB and avg 32 KiB gives about 37 KiB on random data.
  assert.ok(mean > 30_000 && mean < 45_000, `mean chunk ${mean}`);
});

test('streaming gives the same chunks as one shot for any split', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 12_000 }),
      fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 40 }),
      fc.integer(),
      (size, pieces, seed) => {
        const data = randomBytes(size, seed);
        const chunks = streamChunks(data, pieces, SMALL);
        const ends = chunkBoundaries(data, SMALL);
        assert.deepEqual(endsOf(chunks), ends);
        assert.deepEqual(concatBytes(chunks), data);
      },
    ),
    { numRuns: 300 },
  );
});

test('streaming equals one shot with default parameters and odd piece sizes', () => {
  const data = randomBytes(3 << 20, 9);
  const ends = chunkBoundaries(data);
  for (const piece of [1 << 22, 65_537, 4095, 131_072, 8191]) {
    const pieces = new Array<number>(Math.ceil(data.length / piece)).fill(piece);
    assert.deepEqual(endsOf(streamChunks(data, pieces, DEFAULT_CHUNKING)), ends, `pieces of ${piece}`);
  }
});

test('byte-at-a-time streaming matches one shot', () => {
  const data = randomBytes(20_000, 13);
  assert.deepEqual(endsOf(streamChunks(data, new Array<number>(data.length).fill(1), SMALL)), chunkBoundaries(data, SMALL));
});

test('a one-byte insert or overwrite in the middle of 4 MiB changes at most three blocks', () => {
  const data = randomBytes(4 << 20, 11);
  const middle = 2 << 20;
  const before = new Set(blocksOf(data, hasher).map((b) => toHex(b.hash)));
  const overwrite = data.slice();
  overwrite[middle]! ^= 1;
  const insert = concatBytes([data.subarray(0, middle), Uint8Array.of(7), data.subarray(middle)]);
  for (const [name, edited] of [
    ['overwrite', overwrite],
    ['insert', insert],
  ] as const) {
    const after = blocksOf(edited, hasher);
    const fresh = after.filter((b) => !before.has(toHex(b.hash)));
    assert.ok(fresh.length >= 1 && fresh.length <= 3, `${name}: ${fresh.length} new blocks`);
    const afterSet = new Set(after.map((b) => toHex(b.hash)));
    const lost = [...before].filter((h) => !afterSet.has(h));
    assert.ok(lost.length <= 3, `${name}: ${lost.length} blocks gone`);
  }
});

test('empty input has no chunks and the content hash of nothing', () => {
  assert.deepEqual(chunkBoundaries(new Uint8Array(0)), []);
  const c = new Chunker();
  assert.deepEqual(c.push(new Uint8Array(0)), []);
  assert.equal(c.finish(), undefined);
  assert.deepEqual(blocksOf(new Uint8Array(0), hasher), []);
  const { blocks, hash } = new BlockHasher(hasher).finish();
  assert.deepEqual(blocks, []);
  assert.equal(toHex(hash), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.deepEqual(contentHash([], hasher), hash);
});

test('the content hash is SHA-256 over the concatenated block hashes', () => {
  const data = randomBytes(300_000, 17);
  const blocks = blocksOf(data, hasher);
  assert.ok(blocks.length > 2);
  const joined = concatBytes(blocks.map((b) => b.hash));
  assert.equal(toHex(contentHash(blocks, hasher)), createHash('sha256').update(joined).digest('hex'));
  let start = 0;
  for (const b of blocks) {
    assert.equal(
      toHex(b.hash),
      createHash('sha256')
        .update(data.subarray(start, start + b.size))
        .digest('hex'),
    );
    start += b.size;
  }
  assert.equal(start, data.length);
});

test('BlockHasher over pieces equals blocksOf over the whole', () => {
  const data = randomBytes(1_000_003, 19);
  const whole = blocksOf(data, hasher);
  const bh = new BlockHasher(hasher);
  // Reuses one piece buffer, as a file reader does, to prove chunks are hashed before it changes.
  const piece = new Uint8Array(70_001);
  for (let at = 0; at < data.length; at += piece.length) {
    const n = Math.min(piece.length, data.length - at);
    piece.set(data.subarray(at, at + n));
    bh.push(piece.subarray(0, n));
  }
  const { blocks, hash } = bh.finish();
  assert.deepEqual(blocks, whole);
  assert.deepEqual(hash, contentHash(whole, hasher));
  assert.ok(hash instanceof Uint8Array && !Buffer.isBuffer(hash));
});

test('invalid parameters are refused with a clear error', () => {
  const bad: [ChunkingParams, RegExp][] = [
    [{ minSize: 10, avgSize: 1000, maxSize: 4000 }, /power of two/],
    [{ minSize: 1, avgSize: 8, maxSize: 64 }, /power of two/],
    [{ minSize: 4096, avgSize: 2048, maxSize: 8192 }, /min < avg < max/],
    [{ minSize: 2048, avgSize: 2048, maxSize: 8192 }, /min < avg < max/],
    [{ minSize: 1024, avgSize: 2048, maxSize: 2048 }, /min < avg < max/],
    [{ minSize: 0, avgSize: 2048, maxSize: 8192 }, /1 <= min/],
    [{ minSize: 1024.5, avgSize: 2048, maxSize: 8192 }, /integers/],
    [{ minSize: 1024, avgSize: 2048, maxSize: Number.NaN }, /integers/],
    [{ minSize: 1024, avgSize: 2048, maxSize: 2 ** 31 }, /2\^30/],
  ];
  for (const [p, message] of bad) {
    assert.throws(() => validateChunking(p), message, JSON.stringify(p));
    assert.throws(() => chunkBoundaries(new Uint8Array(10), p), RangeError);
    assert.throws(() => new Chunker(p), RangeError);
  }
  assert.doesNotThrow(() => validateChunking(DEFAULT_CHUNKING));
  assert.doesNotThrow(() => validateChunking(SMALL));
});
