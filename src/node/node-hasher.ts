import { createHash } from 'node:crypto';
import type { Hasher } from '../sync/ports';

/** The engine's Hasher port on Node's OpenSSL-backed SHA-256. */
export class NodeHasher implements Hasher {
  sha256(data: Uint8Array): Uint8Array {
    const digest = createHash('sha256').update(data).digest();
    return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
  }
}
