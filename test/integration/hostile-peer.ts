import * as crypto from 'node:crypto';
import { DeviceHome } from '../../src/node/agent/device-home';
import { sealFor } from '../../src/node/crypto/sealed-box';
import { knownUsers, publicKeysOf } from '../../src/node/net/account-directory';
import { encodeMailItem } from '../../src/node/net/mail-sync';
import { ChannelKind } from '../../src/node/net/payload-kind';
import { PeerChannels } from '../../src/node/net/peer-channels';
import { RendezvousClient } from '../../src/node/net/rendezvous-client';
import { NodeHasher } from '../../src/node/workers/node-hasher';
import { blocksOf, contentHash } from '../../src/sync/model/content-hash';
import type { FileRecord } from '../../src/sync/model/file-record';
import type { VersionVector } from '../../src/sync/model/version-vector';
import { decodeMessage, encodeMessage } from '../../src/sync/protocol/codec';
import type { Hello, IndexBatch, Message } from '../../src/sync/protocol/messages';
import { fromHex, toHex } from '../../src/sync/util/bytes';
import { sleep } from './disk-cluster';
import type { NetWorld } from './net-cluster';

/**
 * A hostile member device for attack tests: the device of a real account (made with the real CLI,
 * a real member of the victim's space) signed in to the real server with the real client code,
 * speaking the replica protocol to other devices over the real end-to-end encrypted channel
 * (relay) and the real sealed mailbox, but sending whatever the test says instead of what an
 * engine would. Usage:
 *
 *   const evil = await HostilePeer.signIn(world, 'mallory');       // mallory's daemon must not run
 *   const victim = evil.deviceOf('alice');
 *   const hello = await evil.helloFrom(victim, space);              // the victim's index id and position
 *   evil.send(victim, space, indexBatch('evil-index', [forgedFile('a.txt', bytes, vector, 1)]));
 *   evil.mail(victim, space, [indexBatch(...)]);                    // the same, through the mailbox
 *
 * Everything the victim sends back is in `received`; block requests for content given to
 * `serve()` are answered. What the victim refuses shows only in its own log.
 */
export class HostilePeer {
  /** Every replica frame the other devices sent this one, in arrival order. */
  readonly received: Received[] = [];
  private readonly channels: PeerChannels;
  private readonly blocks = new Map<string, Uint8Array>();

  private constructor(
    readonly client: RendezvousClient,
    private readonly keys: ReturnType<DeviceHome['identity']>['keys'],
  ) {
    this.channels = new PeerChannels({
      keys,
      deviceId: client.device.id,
      lookup: (device) => publicKeysOf(client.state, device),
      relay: (device, payload) => client.relay(device, payload),
      onMessage: (device, plaintext) => this.onMessage(device, plaintext),
    });
    client.on('relay', (device, payload) => this.channels.onRelay(device, payload));
  }

  /** Signs in as the device of the home `world.home(who)`: its own daemon must not be running. */
  static async signIn(world: NetWorld, who: string): Promise<HostilePeer> {
    const identity = new DeviceHome(world.home(who)).identity();
    const client = new RendezvousClient({ url: world.url, keys: identity.keys, mode: 'session', reconnect: false });
    const peer = new HostilePeer(client, identity.keys);
    await client.connect();
    return peer;
  }

  get deviceId(): string {
    return this.client.device.id;
  }

  /** The first device of the user called `name`, as the account state names it. */
  deviceOf(name: string): string {
    const user = knownUsers(this.client.state).find((u) => u.name === name);
    const device = user?.devices[0]?.id;
    if (!device) throw new Error(`no device of a user called ${name} in this account's state`);
    return device;
  }

  /** Sends one replica frame to `device` over the live encrypted channel (relayed by the server). */
  send(device: string, space: string, message: Message): void {
    const frame = encodeMessage(message);
    const out = new Uint8Array(17 + frame.length);
    out[0] = ChannelKind.Sync;
    out.set(fromHex(space), 1);
    out.set(frame, 17);
    if (!this.channels.send(device, out)) throw new Error(`device ${device} is not one this account may talk to`);
  }

  /** Deposits replica frames for `device` in the server's mailbox as one sealed sync item. */
  mail(device: string, space: string, messages: readonly Message[]): void {
    const theirs = publicKeysOf(this.client.state, device);
    if (!theirs) throw new Error(`device ${device} is not one this account may talk to`);
    const item = encodeMailItem(
      space,
      messages.map((m) => encodeMessage(m)),
    );
    const box = sealFor(this.keys, this.deviceId, theirs, device, item);
    if (!this.client.deposit(crypto.randomBytes(16).toString('hex'), [device], box)) throw new Error('not connected to the server');
  }

  /** Answers the victim's block requests for the blocks of `content`. */
  serve(content: Uint8Array): void {
    for (const [offset, block] of splitBlocks(content)) this.blocks.set(toHex(block.hash), content.slice(offset, offset + block.size));
  }

  /** Answers requests for the block `hash` with `data`, whatever it holds: a peer that lies about blocks. */
  serveAs(hash: Uint8Array, data: Uint8Array): void {
    this.blocks.set(toHex(hash), data);
  }

  /** Waits (bounded) for a frame from `device` that `match` accepts, among those not yet taken. */
  async next<T extends Message>(what: string, device: string, match: (m: Message) => m is T, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.received.findIndex((r) => !r.taken && r.from === device && match(r.message));
      if (at >= 0) {
        this.received[at]!.taken = true;
        return this.received[at]!.message as T;
      }
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} from ${device}`);
      await sleep(50);
    }
  }

  /**
   * Says hello to `device` for `space` and returns its answering hello: its index id (the id its
   * vectors carry) and sequence. Says it again every second until answered, as a daemon would:
   * a hello relayed before the device signed in, or before its replica opened, is lost.
   */
  async helloFrom(device: string, space: string, timeoutMs = 30_000): Promise<Hello> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.channels.connect(device);
      this.send(device, space, {
        type: 'hello',
        indexId: HOSTILE_INDEX_ID,
        maxSequence: 0,
        knownIndexId: '',
        knownSequence: 0,
        summary: new Uint8Array(32),
        reply: false,
        wholeBlockLists: false,
      });
      try {
        return await this.next('a hello', device, (m): m is Hello => m.type === 'hello', Math.min(1000, deadline - Date.now()));
      } catch (err) {
        if (Date.now() >= deadline) throw err;
      }
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  private onMessage(device: string, plaintext: Uint8Array): void {
    if (plaintext[0] !== ChannelKind.Sync || plaintext.length <= 17) return;
    const space = toHex(plaintext.subarray(1, 17));
    const message = decodeMessage(plaintext.subarray(17));
    this.received.push({ from: device, space, message, taken: false });
    if (message.type === 'blockRequest') {
      const data = this.blocks.get(toHex(message.hash));
      this.send(device, space, {
        type: 'blockResponse',
        id: message.id,
        hash: message.hash,
        status: data ? 'ok' : 'notFound',
        data: data ?? new Uint8Array(0),
      });
    }
  }
}

export interface Received {
  readonly from: string;
  readonly space: string;
  readonly message: Message;
  taken: boolean;
}

/** The index id the harness's hellos and batches use unless a test picks another. */
export const HOSTILE_INDEX_ID = 'hostile-index';

const hasher = new NodeHasher();

function splitBlocks(content: Uint8Array): [number, { hash: Uint8Array; size: number }][] {
  let at = 0;
  return blocksOf(content, hasher).map((b) => {
    const out: [number, { hash: Uint8Array; size: number }] = [at, b];
    at += b.size;
    return out;
  });
}

/** A file version with real blocks and hash for `content`, at any vector and sequence the test likes. */
export function forgedFile(
  path: string,
  content: Uint8Array,
  version: VersionVector,
  sequence: number,
  modifiedBy = 'mallory',
): FileRecord {
  const blocks = blocksOf(content, hasher);
  return {
    path,
    type: 'file',
    deleted: false,
    size: content.length,
    mtime: Date.now(),
    executable: false,
    hash: contentHash(blocks, hasher),
    blocks,
    target: '',
    version,
    modifiedBy,
    ancestor: new Uint8Array(0),
    sequence,
  };
}

/** A tombstone for `path` at any vector and sequence. */
export function forgedTombstone(path: string, version: VersionVector, sequence: number, modifiedBy = 'mallory'): FileRecord {
  return {
    path,
    type: 'file',
    deleted: true,
    size: 0,
    mtime: Date.now(),
    executable: false,
    hash: new Uint8Array(0),
    blocks: [],
    target: '',
    version,
    modifiedBy,
    ancestor: new Uint8Array(0),
    sequence,
  };
}

/**
 * One index batch that covers sequences (from, to] of index `indexId`, by default all of
 * `records` from the start: what a receiver accepts as the first batch of a new index.
 */
export function indexBatch(
  indexId: string,
  records: readonly FileRecord[],
  from = 0,
  to = Math.max(0, ...records.map((r) => r.sequence)),
): IndexBatch {
  return { type: 'index', indexId, fromSequence: from, toSequence: to, maxSequence: to, records };
}
