import type { ChunkingParams } from '../model/chunker';
import { BlockHasher } from '../model/content-hash';
import type { Hasher } from '../ports/hasher';
import { StoreError, type ContentDigest, type Digester, type DigestSource, type FileStore } from '../ports/ports';

/** Digests files by reading them through the store, on the engine's own thread. */
export class StoreDigester implements Digester {
  constructor(
    private readonly store: FileStore,
    private readonly hasher: Hasher,
    private readonly pieceSize = 4 * 1024 * 1024,
  ) {}

  async digest(source: DigestSource, size: number, chunking: ChunkingParams): Promise<ContentDigest | undefined> {
    const blockHasher = new BlockHasher(this.hasher, chunking);
    try {
      for (let offset = 0; offset < size; offset += this.pieceSize) {
        const length = Math.min(this.pieceSize, size - offset);
        const data =
          'path' in source ? await this.store.read(source.path, offset, length) : await this.store.readTemp(source.temp, offset, length);
        if (data.length === 0) return undefined;
        blockHasher.push(data);
      }
    } catch (err) {
      if (err instanceof StoreError) return undefined;
      throw err;
    }
    const result = blockHasher.finish();
    const total = result.blocks.reduce((n, b) => n + b.size, 0);
    return total === size ? result : undefined;
  }
}
