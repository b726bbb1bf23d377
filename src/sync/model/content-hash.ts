import { Chunker, chunkBoundaries, DEFAULT_CHUNKING, type ChunkingParams } from './chunker';
import type { BlockRef } from './file-record';
import type { Hasher } from '../ports/hasher';

const HASH_BYTES = 32;

/**
 * A file's content hash: SHA-256 over the concatenation of its block hashes, in order. It falls
 * out of chunking for free (no second pass over the bytes), and an empty file, with no blocks,
 * gets SHA-256 of the empty input.
 */
export function contentHash(blocks: readonly BlockRef[], hasher: Hasher): Uint8Array {
  const joined = new Uint8Array(blocks.length * HASH_BYTES);
  blocks.forEach((b, i) => {
    if (b.hash.length !== HASH_BYTES) throw new RangeError(`block ${i} has a ${b.hash.length}-byte hash, not SHA-256`);
    joined.set(b.hash, i * HASH_BYTES);
  });
  return hasher.sha256(joined);
}

/** The blocks of a file held whole in memory. */
export function blocksOf(data: Uint8Array, hasher: Hasher, params: ChunkingParams = DEFAULT_CHUNKING): BlockRef[] {
  const blocks: BlockRef[] = [];
  let start = 0;
  for (const end of chunkBoundaries(data, params)) {
    blocks.push({ hash: hasher.sha256(data.subarray(start, end)), size: end - start });
    start = end;
  }
  return blocks;
}

/** The content hash of a file held whole in memory. */
export function contentHashOf(data: Uint8Array, hasher: Hasher, params: ChunkingParams = DEFAULT_CHUNKING): Uint8Array {
  return contentHash(blocksOf(data, hasher, params), hasher);
}

/**
 * Chunks and hashes a file read in pieces of any size, with memory bounded by the chunker's
 * maxSize plus a few dozen bytes per block. Gives the same blocks as `blocksOf` on the whole file.
 */
export class BlockHasher {
  private readonly chunker: Chunker;
  private readonly blocks: BlockRef[] = [];

  constructor(
    private readonly hasher: Hasher,
    params: ChunkingParams = DEFAULT_CHUNKING,
  ) {
    this.chunker = new Chunker(params);
  }

  /** Chunks may be views of `piece`, so they are hashed before this returns: the caller may reuse it. */
  push(piece: Uint8Array): void {
    for (const chunk of this.chunker.push(piece)) this.add(chunk);
  }

  /** Ends the stream: the blocks in file order and the content hash over them. */
  finish(): { blocks: BlockRef[]; hash: Uint8Array } {
    const tail = this.chunker.finish();
    if (tail !== undefined) this.add(tail);
    return { blocks: this.blocks, hash: contentHash(this.blocks, this.hasher) };
  }

  private add(chunk: Uint8Array): void {
    this.blocks.push({ hash: this.hasher.sha256(chunk), size: chunk.length });
  }
}
