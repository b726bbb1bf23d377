import { NO_HASH, type FileRecord } from '../../../../src/sync/model/file-record';
import { NodeHasher } from '../../../../src/node/workers/node-hasher';
import type { ChunkingParams } from '../../../../src/sync/model/chunker';
import type { MassDeleteOptions } from '../../../../src/sync/replica/mass-delete-guard';
import type { Message } from '../../../../src/sync/protocol/messages';
import { decodeMessage, encodeMessage } from '../../../../src/sync/protocol/codec';
import { Replica } from '../../../../src/sync/replica/replica';
import type { ReplicaEvent } from '../../../../src/sync/replica/replica-events';
import { CrashSwitch } from '../../../sim/crash-switch';
import { MemoryStateStore } from '../../../sim/memory-state-store';
import { MemoryStore } from '../../../sim/memory-store';
import { Prng } from '../../../sim/prng';
import { SimTime, SkewedClock } from '../../../sim/sim-clock';

/** A record without content, as a peer would send it; a live directory unless told otherwise. */
export function bareRecord(path: string, sequence: number, over: Partial<FileRecord> = {}): FileRecord {
  return {
    path,
    type: 'directory',
    deleted: false,
    size: 0,
    mtime: 0,
    executable: false,
    hash: NO_HASH,
    blocks: [],
    target: '',
    version: [],
    modifiedBy: 'alice',
    ancestor: NO_HASH,
    sequence,
    ...over,
  };
}

export const SMALL_CHUNKS: ChunkingParams = { minSize: 64, avgSize: 256, maxSize: 1024 };

export interface Peer {
  readonly name: string;
  /** The folder; a test may point the replica at another before opening it again. */
  store: MemoryStore;
  readonly state: MemoryStateStore;
  /** Shared by the peer's stores: arm it to crash the peer at its n-th next operation. */
  readonly crash: CrashSwitch;
  readonly events: ReplicaEvent[];
  replica: Replica;
}

interface Envelope {
  readonly from: string;
  readonly to: string;
  readonly message: Message;
}

/**
 * A few replicas on in-memory stores with an in-order, lossless link between every pair; the
 * tests of one engine behaviour at a time, where the simulation tests everything at once.
 */
export class Cluster {
  readonly time = new SimTime();
  readonly peers = new Map<string, Peer>();
  readonly log: Envelope[] = [];
  private readonly queue: Envelope[] = [];
  private readonly rng = new Prng(7);
  /** Plays a hostile link: what it returns is delivered instead of the message sent. */
  tamper: ((from: string, to: string, message: Message) => Message) | undefined;

  constructor(
    private readonly options: {
      chunking?: ChunkingParams;
      batchRecords?: number;
      minResendRecords?: number;
      massDelete?: MassDeleteOptions;
      space?: string;
      mergesEdits?: (peer: string) => boolean;
    } = {},
  ) {}

  async add(name: string): Promise<Peer> {
    const crash = new CrashSwitch();
    const store = new MemoryStore(crash);
    const state = new MemoryStateStore(crash);
    const peer: Peer = { name, store, state, crash, events: [], replica: undefined as unknown as Replica };
    peer.replica = await this.open(peer);
    this.peers.set(name, peer);
    return peer;
  }

  open(peer: Peer): Promise<Replica> {
    return Replica.open({
      user: peer.name,
      ...(this.options.space ? { space: this.options.space } : {}),
      store: peer.store,
      state: peer.state,
      port: { send: (to, message) => this.queue.push({ from: peer.name, to, message: decodeMessage(encodeMessage(message)) }) },
      clock: new SkewedClock(this.time, 0),
      random: this.rng.fork(),
      hasher: new NodeHasher(),
      chunking: this.options.chunking ?? SMALL_CHUNKS,
      ...(this.options.batchRecords ? { batchRecords: this.options.batchRecords } : {}),
      ...(this.options.minResendRecords ? { minResendRecords: this.options.minResendRecords } : {}),
      ...(this.options.massDelete ? { massDelete: this.options.massDelete } : {}),
      ...(this.options.mergesEdits ? { mergesEdits: () => this.options.mergesEdits!(peer.name) } : {}),
      onEvent: (e) => peer.events.push(e),
    });
  }

  async connect(a: string, b: string): Promise<void> {
    await this.peers.get(a)!.replica.peerUp(b);
    await this.peers.get(b)!.replica.peerUp(a);
  }

  async disconnect(a: string, b: string): Promise<void> {
    await this.peers.get(a)!.replica.peerDown(b);
    await this.peers.get(b)!.replica.peerDown(a);
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const e = this.queue[i]!;
      if ((e.from === a && e.to === b) || (e.from === b && e.to === a)) this.queue.splice(i, 1);
    }
  }

  /** Delivers queued messages in order until none are left (bounded). */
  async pump(limit = 100_000): Promise<number> {
    let n = 0;
    while (this.queue.length > 0) {
      if (++n > limit) throw new Error(`still ${this.queue.length} messages after ${limit} deliveries`);
      const e = this.deliverable(this.queue.shift()!);
      this.log.push(e);
      await this.peers.get(e.to)!.replica.receive(e.from, e.message);
    }
    return n;
  }

  /** Delivers queued messages in order until `done` holds or the queue is empty (bounded). */
  async pumpUntil(done: () => boolean, limit = 10_000): Promise<void> {
    for (let n = 0; n < limit && !done() && this.queue.length > 0; n++) {
      const e = this.deliverable(this.queue.shift()!);
      this.log.push(e);
      await this.peers.get(e.to)!.replica.receive(e.from, e.message);
    }
  }

  /**
   * Hands every queued message to its replica without waiting for the replica to handle it:
   * a test of a replica whose queue may be held up.
   */
  post(): Promise<void>[] {
    const out: Promise<void>[] = [];
    for (const e of this.queue.splice(0).map((x) => this.deliverable(x))) {
      this.log.push(e);
      out.push(this.peers.get(e.to)!.replica.receive(e.from, e.message));
    }
    return out;
  }

  private deliverable(e: Envelope): Envelope {
    return this.tamper ? { ...e, message: this.tamper(e.from, e.to, e.message) } : e;
  }

  /** Scans everyone, delivers, ticks, until nothing moves (bounded). */
  async settle(rounds = 50): Promise<void> {
    for (let i = 0; i < rounds; i++) {
      const moved = await this.round();
      if (moved === 0 && [...this.peers.values()].every((p) => p.replica.neededPaths().length === 0)) return;
    }
    throw new Error('cluster did not settle');
  }

  /** One round of time passing: everyone scans and ticks, and every message is delivered. */
  async round(): Promise<number> {
    this.time.advance(10_000);
    for (const p of this.peers.values()) await p.replica.scan();
    for (const p of this.peers.values()) await p.replica.tick();
    return this.pump();
  }

  sent(type: Message['type']): Envelope[] {
    return this.log.filter((e) => e.message.type === type);
  }

  write(peer: string, path: string, text: string | Uint8Array): void {
    const data = typeof text === 'string' ? new TextEncoder().encode(text) : text;
    const p = this.peers.get(peer)!;
    if (p.store.userWrite(path, data, this.time.now()) === false) throw new Error(`cannot write ${path}`);
  }

  read(peer: string, path: string): string | undefined {
    const data = this.peers.get(peer)!.store.readUser(path);
    return data === undefined ? undefined : new TextDecoder().decode(data);
  }
}
