import { concatBytes } from './bytes';
import { Chunker, DEFAULT_CHUNKING, type ChunkingParams } from './chunker';
import type { BlockRef } from './file-record';
import type { Hasher } from './ports';

/** A file's identity: SHA-256 over its block hashes, so it falls out of chunking for free. */
export function contentHash(blocks: readonly BlockRef[], hasher: Hasher): Uint8Array {
  return hasher.sha256(concatBytes(blocks.map((b) => b.hash)));
}

export function blocksOf(data: Uint8Array, hasher: Hasher, params: ChunkingParams = DEFAULT_CHUNKING): BlockRef[] {
  const c = new Chunker(params);
  return [...c.push(data), ...c.finish()].map((chunk) => ({ hash: hasher.sha256(chunk), size: chunk.length }));
}

/** Chunks and hashes a file read in pieces, with memory bounded by the piece and chunk sizes. */
export class BlockHasher {
  private readonly chunker: Chunker;
  private readonly blocks: BlockRef[] = [];

  constructor(
    private readonly hasher: Hasher,
    params: ChunkingParams = DEFAULT_CHUNKING,
  ) {
    this.chunker = new Chunker(params);
  }

  push(piece: Uint8Array): void {
    for (const chunk of this.chunker.push(piece)) this.blocks.push({ hash: this.hasher.sha256(chunk), size: chunk.length });
  }

  finish(): { blocks: BlockRef[]; hash: Uint8Array } {
    for (const chunk of this.chunker.finish()) this.blocks.push({ hash: this.hasher.sha256(chunk), size: chunk.length });
    return { blocks: this.blocks, hash: contentHash(this.blocks, this.hasher) };
  }
}
