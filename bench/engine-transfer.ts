import { equalBytes } from '../src/sync/util/bytes';
import { DEFAULT_CHUNKING } from '../src/sync/model/chunker';
import { encodeMessage } from '../src/sync/protocol/codec';
import { Cluster } from '../test/unit/sync/replica/engine-harness';

export interface TransferFigure {
  readonly edit: string;
  readonly fileBytes: number;
  readonly wireBytes: number;
  readonly blockBytes: number;
  readonly messages: number;
}

/** Fast xorshift32 bytes: incompressible, without duplicate blocks, reproducible. */
export function pseudoRandom(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  const words = new Uint32Array(out.buffer, 0, Math.floor(size / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return out;
}

/**
 * Two real engine replicas (in-memory stores, the real codec on every message) share a file; one
 * side edits a byte; we count every byte of every frame that crosses between them afterwards.
 */
export async function measureEdit(edit: 'overwrite' | 'insert', fileBytes: number): Promise<TransferFigure> {
  const c = new Cluster({ chunking: DEFAULT_CHUNKING });
  await c.add('alice');
  await c.add('bob');
  const original = pseudoRandom(fileBytes, 42);
  c.write('alice', 'big.bin', original);
  await c.connect('alice', 'bob');
  await c.settle();
  const seen = c.log.length;
  const middle = Math.floor(fileBytes / 2);
  let edited: Uint8Array;
  if (edit === 'overwrite') {
    edited = original.slice();
    edited[middle]! ^= 0x5a;
  } else {
    edited = new Uint8Array(fileBytes + 1);
    edited.set(original.subarray(0, middle));
    edited[middle] = 0x5a;
    edited.set(original.subarray(middle), middle + 1);
  }
  c.write('alice', 'big.bin', edited);
  await c.settle();
  const after = c.log.slice(seen);
  const got = c.peers.get('bob')!.store.readUser('big.bin');
  if (!got || !equalBytes(got, edited)) throw new Error('bob does not have the edited file');
  return {
    edit: `1-byte ${edit}`,
    fileBytes,
    wireBytes: after.reduce((n, e) => n + encodeMessage(e.message).length, 0),
    blockBytes: after.reduce((n, e) => n + (e.message.type === 'blockResponse' ? e.message.data.length : 0), 0),
    messages: after.length,
  };
}
