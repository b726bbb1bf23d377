import * as fc from 'fast-check';
import type { BlockRef, FileRecord } from '../../src/sync/model/file-record';
import type { VersionVector } from '../../src/sync/model/version-vector';
import type { BlockListDelta, Message } from '../../src/sync/protocol/messages';

/** Valid replica values: the seeds every mutation of the replica and state encodings starts from. */

/** 32 bytes spread from one drawn number: drawing 32 separate bytes made generation the fuzzer's slowest part. */
export const hash: fc.Arbitrary<Uint8Array> = fc.integer().map((seed) => {
  const out = new Uint8Array(32);
  let x = seed | 1;
  for (let i = 0; i < 32; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
});
const optionalHash = fc.oneof(fc.constant(new Uint8Array(0)), hash);
const name = fc.string({ unit: 'binary', maxLength: 12 });
const id = fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 10 });
const counter = fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constant(Number.MAX_SAFE_INTEGER));

export const vectorArb: fc.Arbitrary<VersionVector> = fc
  .uniqueArray(fc.tuple(id, counter), { maxLength: 4, selector: ([i]) => i })
  .map((entries) => entries.sort(([a], [b]) => (a < b ? -1 : 1)).map(([i, c]) => ({ id: i, counter: c })));

const blocksArb: fc.Arbitrary<BlockRef[]> = fc.array(
  fc.record({ hash, size: fc.oneof(fc.integer({ min: 1, max: 1024 * 1024 }), fc.constant(1)) }),
  { maxLength: 3 },
);

export function recordArb(sequence: fc.Arbitrary<number>): fc.Arbitrary<FileRecord> {
  return fc
    .record({
      path: name,
      type: fc.constantFrom('file' as const, 'directory' as const, 'symlink' as const),
      deleted: fc.boolean(),
      mtime: fc.oneof(fc.integer({ min: -1e12, max: 4e12 }), fc.constantFrom(2 ** 52 - 1, -(2 ** 52))),
      executable: fc.boolean(),
      hash: optionalHash,
      blocks: blocksArb,
      target: name,
      version: vectorArb,
      modifiedBy: name,
      ancestor: optionalHash,
      sequence,
      dirSize: fc.nat(),
    })
    .map(({ dirSize, ...r }) => {
      const liveFile = r.type === 'file' && !r.deleted;
      const blocks = liveFile ? r.blocks : [];
      return { ...r, blocks, size: liveFile ? blocks.reduce((n, b) => n + b.size, 0) : dirSize };
    });
}

export const messageArb: fc.Arbitrary<Message> = fc.oneof(
  fc.record({
    type: fc.constant('hello' as const),
    indexId: id,
    maxSequence: fc.nat(),
    knownIndexId: fc.oneof(fc.constant(''), id),
    knownSequence: fc.nat(),
    summary: optionalHash,
    reply: fc.boolean(),
    wholeBlockLists: fc.boolean(),
  }),
  fc.tuple(id, fc.nat({ max: 1000 }), fc.nat({ max: 1000 }), fc.nat({ max: 10 })).chain(([indexId, from, span, extra]) =>
    fc.array(recordArb(fc.integer({ min: from + 1, max: from + span + 1 })), { maxLength: 3 }).map((records) => ({
      type: 'index' as const,
      indexId,
      fromSequence: from,
      toSequence: from + span + 1,
      maxSequence: from + span + 1 + extra,
      records,
    })),
  ),
  // A batch whose live files (with a content hash) send their block lists as deltas.
  fc
    .tuple(id, fc.nat({ max: 1000 }), fc.nat({ max: 10 }), fc.nat({ max: 100 }), fc.nat({ max: 3 }))
    .chain(([indexId, from, span, prefix, suffix]) =>
      fc.array(recordArb(fc.integer({ min: from + 1, max: from + span + 1 })), { maxLength: 3 }).map((whole) => {
        const deltas = new Map<number, BlockListDelta>();
        const records = whole.map((r, i) => {
          if (r.type !== 'file' || r.deleted || r.hash.length !== 32) return r;
          deltas.set(i, { base: r.hash.slice().reverse(), prefix, suffix, middle: r.blocks });
          return { ...r, blocks: [] };
        });
        return {
          type: 'index' as const,
          indexId,
          fromSequence: from,
          toSequence: from + span + 1,
          maxSequence: from + span + 1,
          records,
          ...(deltas.size > 0 ? { deltas } : {}),
        };
      }),
    ),
  fc.record({
    type: fc.constant('blockRequest' as const),
    id: fc.nat({ max: 0xffffffff }),
    hash,
    size: fc.integer({ min: 1, max: 1024 * 1024 }),
  }),
  fc
    .record({ id: fc.nat({ max: 0xffffffff }), hash, ok: fc.boolean(), data: fc.uint8Array({ maxLength: 64 }) })
    .map(({ ok, data, ...m }) => ({
      type: 'blockResponse' as const,
      ...m,
      status: ok ? ('ok' as const) : ('notFound' as const),
      data: ok ? data : new Uint8Array(0),
    })),
  fc.record({ type: fc.constant('summary' as const), summary: hash }),
);
