import { equalBytes } from '../util/bytes';
import { StoreError } from '../ports/ports';
import type { BlockRequest, BlockResponse } from '../protocol/messages';
import type { ReplicaCore } from './replica-core';

/** Blocks this disk holds: answers peers' requests and gives local copies to files being assembled. */
export class BlockServer {
  constructor(private readonly core: ReplicaCore) {}

  async answer(peer: string, request: BlockRequest): Promise<void> {
    const data = await this.readLocal(request.hash, request.size, true);
    const response: BlockResponse = data
      ? { type: 'blockResponse', id: request.id, hash: request.hash, status: 'ok', data }
      : { type: 'blockResponse', id: request.id, hash: request.hash, status: 'notFound', data: new Uint8Array(0) };
    this.core.options.port.send(peer, response);
  }

  /**
   * Reads a block from any local file that should hold it, verified against its hash; for a
   * peer, never from a protected path (a `.git` indexed before there was a guard).
   */
  async readLocal(hash: Uint8Array, size: number, forPeer = false): Promise<Uint8Array | undefined> {
    const { store, hasher } = this.core.options;
    for (const source of this.core.locator.find(hash)) {
      if (source.size !== size) continue;
      if (forPeer && this.core.protects(source.path, 'file')) continue;
      try {
        const data = await store.read(source.path, source.offset, source.size);
        if (data.length === size && equalBytes(hasher.sha256(data), hash)) return data;
      } catch (err) {
        if (!(err instanceof StoreError)) throw err;
      }
    }
    return undefined;
  }
}
