import { equalBytes, toHex } from '../util/bytes';
import type { FileRecord } from '../model/file-record';
import { StoreError } from '../ports/ports';
import type { BlockRequest, BlockResponse } from '../protocol/messages';
import type { ReplicaCore } from './replica-core';

/** Blocks kept from peers' pushes at most: a few small files' worth. */
const PUSHED_MAX_BLOCKS = 64;
const PUSHED_MAX_BYTES = 1024 * 1024;

/** Blocks this disk holds: answers peers' requests and gives local copies to files being assembled. */
export class BlockServer {
  /**
   * Blocks a peer sent unasked with a small new file's record (docs/PROTOCOL.md section 9, rule
   * 8), verified, by hex hash: the file is written from here without asking. Few and small, and
   * the oldest go first, so a peer cannot fill memory with them.
   */
  private readonly pushed = new Map<string, Uint8Array>();
  private pushedBytes = 0;

  constructor(private readonly core: ReplicaCore) {}

  /** Keeps a block a peer pushed, if it is what its hash says; anything else is dropped. */
  acceptPushed(response: BlockResponse): void {
    const { data, hash } = response;
    if (response.status !== 'ok' || data.length === 0 || data.length > PUSHED_MAX_BYTES) return;
    if (!equalBytes(this.core.options.hasher.sha256(data), hash)) return;
    const key = toHex(hash);
    if (this.pushed.has(key)) return;
    this.pushed.set(key, data);
    this.pushedBytes += data.length;
    for (const [old, bytes] of this.pushed) {
      if (this.pushed.size <= PUSHED_MAX_BLOCKS && this.pushedBytes <= PUSHED_MAX_BYTES) break;
      this.pushed.delete(old);
      this.pushedBytes -= bytes.length;
    }
  }

  /** Sends a peer the blocks of these files unasked, right behind their records: no request, no wait for one. */
  async push(peer: string, records: readonly FileRecord[]): Promise<void> {
    for (const r of records) {
      for (const b of r.blocks) {
        const data = await this.readLocal(b.hash, b.size, true);
        if (!data) break;
        this.core.options.port.send(peer, { type: 'blockResponse', id: 0, hash: b.hash, status: 'ok', data });
      }
    }
  }

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
    if (!forPeer) {
      const pushed = this.pushed.get(toHex(hash));
      if (pushed && pushed.length === size) return pushed;
    }
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
