import * as crypto from 'node:crypto';
import { contentHash, blocksOf } from '../../src/sync/model/content-hash';
import { NO_HASH, type FileRecord } from '../../src/sync/model/file-record';
import { encodeMessage } from '../../src/sync/protocol/codec';
import type { UserInfo } from '../../src/sync/protocol/rendezvous';
import { DeviceHome } from '../../src/node/agent/device-home';
import { encodeMailItem } from '../../src/node/net/mail-sync';
import { NodeHasher } from '../../src/node/workers/node-hasher';
import { depositSealed } from '../../src/node/net/sealed-deposit';
import { RendezvousClient } from '../../src/node/net/rendezvous-client';
import type { NetWorld } from './net-cluster';

/**
 * What a hostile member can do with its own device and nothing else: sign in with the device's
 * real keys (from its home) and deposit, sealed by the real crypto, a payload the normal code
 * would never make, for every device of the contact `to`. Resolves once the server holds it.
 */
export async function depositForged(
  world: NetWorld,
  from: string,
  to: string,
  payload: Uint8Array | ((me: UserInfo, them: UserInfo) => Uint8Array),
): Promise<void> {
  const identity = new DeviceHome(world.home(from)).identity();
  const client = new RendezvousClient({ url: identity.server, keys: identity.keys, mode: 'command' });
  const state = await client.connect();
  try {
    const contact = state.contacts.find((c) => c.name === to);
    if (!contact) throw new Error(`${from} has no contact ${to}`);
    const bytes = typeof payload === 'function' ? payload(state.user, contact) : payload;
    if (depositSealed(client, identity.keys, [contact], bytes) === 0) throw new Error(`${to} has no device`);
    // A reply after the deposits means the server has handled them.
    await client.request({ t: 'state' });
  } finally {
    await client.close();
  }
}

export interface ForgedFile {
  readonly path: string;
  /** Absent for a directory. */
  readonly data?: Uint8Array;
  readonly executable?: boolean;
}

/**
 * A mailbox sync item for `space` as a hostile member's own code could make it: the blocks of
 * `files` (and of `unindexed`, which no record names), then one index batch announcing the files
 * as new versions of a fresh index of its own.
 */
export function forgedSyncItem(space: string, files: readonly ForgedFile[], unindexed?: Uint8Array): Uint8Array {
  const hasher = new NodeHasher();
  const indexId = crypto.randomBytes(16).toString('hex');
  const counter = Math.floor(Date.now() / 1000);
  const frames: Uint8Array[] = [];
  const records: FileRecord[] = files.map((f, i) => {
    const blocks = f.data ? blocksOf(f.data, hasher) : [];
    if (f.data) frames.push(...blockFrames(f.data, hasher));
    return {
      path: f.path,
      type: f.data ? 'file' : 'directory',
      deleted: false,
      size: f.data?.length ?? 0,
      mtime: Date.now(),
      executable: f.executable ?? false,
      hash: f.data ? contentHash(blocks, hasher) : NO_HASH,
      blocks,
      target: '',
      version: [{ id: indexId, counter }],
      modifiedBy: 'mallory',
      ancestor: NO_HASH,
      sequence: i + 1,
    };
  });
  // Blocks no record names: they only take room in the receiver's cache.
  if (unindexed) frames.unshift(...blockFrames(unindexed, hasher));
  frames.push(encodeMessage({ type: 'index', indexId, fromSequence: 0, toSequence: records.length, maxSequence: records.length, records }));
  return encodeMailItem(space, frames);
}

function blockFrames(data: Uint8Array, hasher: NodeHasher): Uint8Array[] {
  let offset = 0;
  return blocksOf(data, hasher).map((b) => {
    const frame = encodeMessage({ type: 'blockResponse', id: 0, hash: b.hash, status: 'ok', data: data.subarray(offset, offset + b.size) });
    offset += b.size;
    return frame;
  });
}
