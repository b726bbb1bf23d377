import { equalBytes, toHex } from '../util/bytes';
import type { Hasher } from '../ports/hasher';
import type { MessagePort } from '../ports/ports';
import type { BlockResponse } from '../protocol/messages';

interface Want {
  readonly hash: Uint8Array;
  readonly size: number;
  readonly urgency: Urgency;
  /** Peer currently asked, with the request id and when it was sent. */
  peer?: string;
  requestId?: number;
  sentAt: number;
  /** Peers that answered notFound or timed out since the last round over all peers. */
  readonly tried: Set<string>;
  /** When every peer had been tried, so the next round waits a while. */
  exhaustedAt?: number;
  /** Peers that answered notFound, and how many full rounds of notFound there have been. */
  readonly notFoundBy: Set<string>;
  rounds: number;
  /** Answers that did not match the block's hash or size: each doubles the wait before the next round. */
  mismatches: number;
}

/** What became of an answer: the verified block, or bytes that were not the block asked for. */
export type Acceptance =
  | { readonly kind: 'block'; readonly hash: Uint8Array; readonly data: Uint8Array }
  | { readonly kind: 'mismatch'; readonly hash: Uint8Array; readonly mismatches: number; readonly waitMs: number };

export interface FetcherOptions {
  readonly maxInFlight: number;
  readonly timeoutMs: number;
  /** How long to wait before asking the same peers again after all said notFound. */
  readonly retryMs: number;
  /** The longest wait before asking again for a block that came back wrong. */
  readonly maxRetryMs: number;
}

/**
 * Asks peers for blocks the replica lacks: several requests in flight, one peer per request,
 * another peer after a notFound or a timeout, and every answer verified against its hash.
 */
/**
 * Which blocks go first: those of files the user has open, then of small files, then of large
 * ones, so a few large files never hold up many small ones. Insertion order within each.
 */
export type Urgency = 0 | 1 | 2 | 3;
export const URGENCY_OPEN: Urgency = 0;

/** The urgency of a block of a file of this size that is not open. */
export function urgencyOfSize(size: number): Urgency {
  return size <= 1024 * 1024 ? 1 : size <= 64 * 1024 * 1024 ? 2 : 3;
}

export class BlockFetcher {
  private readonly wants = new Map<string, Want>();
  /** Peers that sent bytes other than the block asked for, and how often: asked last. */
  private readonly misdelivered = new Map<string, number>();
  /** The same wants by urgency, each in insertion order. */
  private readonly queues: Map<string, Want>[] = [new Map(), new Map(), new Map(), new Map()];
  private readonly byRequest = new Map<number, string>();
  private nextRequestId = 1;

  constructor(
    private readonly port: MessagePort,
    private readonly hasher: Hasher,
    private readonly options: FetcherOptions,
  ) {}

  get pending(): number {
    return this.wants.size;
  }

  want(hash: Uint8Array, size: number, urgency: Urgency = 1): void {
    const key = toHex(hash);
    const known = this.wants.get(key);
    if (known && known.urgency <= urgency) return;
    if (known) this.queues[known.urgency]!.delete(key);
    const w: Want = { sentAt: 0, tried: new Set(), notFoundBy: new Set(), rounds: 0, mismatches: 0, ...known, hash, size, urgency };
    this.wants.set(key, w);
    this.queues[urgency]!.set(key, w);
  }

  cancel(hash: Uint8Array): void {
    const key = toHex(hash);
    const w = this.wants.get(key);
    if (w?.requestId !== undefined) this.byRequest.delete(w.requestId);
    this.wants.delete(key);
    if (w) this.queues[w.urgency]!.delete(key);
  }

  /** Drops every want whose hash is not in `keys` (hex). */
  retain(keys: ReadonlySet<string>): void {
    for (const [key, w] of [...this.wants]) if (!keys.has(key)) this.cancel(w.hash);
  }

  /**
   * Sends requests up to the in-flight limit of each peer, to peers in `peers` that were not
   * tried yet: a peer that is slow to answer, or never does, holds up only its own requests.
   */
  request(peers: readonly string[], now: number): void {
    // Every request in flight, and only those, has its id here: no pass over all the wants.
    const inFlight = new Map<string, number>();
    for (const key of this.byRequest.values()) {
      const peer = this.wants.get(key)?.peer;
      if (peer !== undefined) inFlight.set(peer, (inFlight.get(peer) ?? 0) + 1);
    }
    const open = (): string[] => peers.filter((p) => (inFlight.get(p) ?? 0) < this.options.maxInFlight);
    let withRoom = open();
    for (const queue of this.queues) {
      for (const w of queue.values()) {
        if (withRoom.length === 0) return;
        if (w.peer !== undefined) continue;
        const peer = this.choosePeer(w, peers, withRoom, now);
        if (peer === undefined) continue;
        const id = this.nextRequestId;
        this.nextRequestId = this.nextRequestId >= 0xffffffff ? 1 : this.nextRequestId + 1;
        w.peer = peer;
        w.requestId = id;
        w.sentAt = now;
        this.byRequest.set(id, toHex(w.hash));
        inFlight.set(peer, (inFlight.get(peer) ?? 0) + 1);
        if ((inFlight.get(peer) ?? 0) >= this.options.maxInFlight) withRoom = open();
        this.port.send(peer, { type: 'blockRequest', id, hash: w.hash, size: w.size });
      }
    }
  }

  private choosePeer(w: Want, peers: readonly string[], withRoom: readonly string[], now: number): string | undefined {
    let candidates = peers.filter((p) => !w.tried.has(p));
    if (candidates.length === 0 && peers.length > 0) {
      if (w.exhaustedAt === undefined) w.exhaustedAt = now;
      if (now - w.exhaustedAt < this.waitMs(w)) return undefined;
      if (peers.every((p) => w.notFoundBy.has(p))) w.rounds++;
      w.tried.clear();
      w.exhaustedAt = undefined;
      candidates = [...peers];
    }
    candidates = candidates.filter((p) => withRoom.includes(p));
    if (candidates.length === 0) return undefined;
    // A peer that sent wrong bytes is asked only when no other is left.
    const fewest = Math.min(...candidates.map((p) => this.misdelivered.get(p) ?? 0));
    candidates = candidates.filter((p) => (this.misdelivered.get(p) ?? 0) === fewest);
    // Spread blocks over peers, deterministically so a simulation replays.
    return candidates[(w.hash[0]! + w.hash[1]!) % candidates.length];
  }

  /** The wait before a new round over every peer: doubled by each wrong answer, up to the cap. */
  private waitMs(w: Want): number {
    return Math.min(this.options.maxRetryMs, this.options.retryMs * 2 ** Math.min(w.mismatches, 16));
  }

  /**
   * The verified block; a mismatch when the peer sent other bytes than the block (the block is
   * asked for again, from that peer last and after a wait that doubles); undefined if the answer
   * was stale or notFound.
   */
  accept(peer: string, response: BlockResponse): Acceptance | undefined {
    const key = this.byRequest.get(response.id);
    if (key === undefined) return undefined;
    const w = this.wants.get(key);
    if (w === undefined || w.peer !== peer) return undefined;
    this.byRequest.delete(response.id);
    w.peer = undefined;
    w.requestId = undefined;
    const ok =
      response.status === 'ok' &&
      response.data.length === w.size &&
      equalBytes(response.hash, w.hash) &&
      equalBytes(this.hasher.sha256(response.data), w.hash);
    if (!ok) {
      w.tried.add(peer);
      if (response.status === 'notFound') {
        w.notFoundBy.add(peer);
        return undefined;
      }
      w.mismatches++;
      this.misdelivered.set(peer, (this.misdelivered.get(peer) ?? 0) + 1);
      return { kind: 'mismatch', hash: w.hash, mismatches: w.mismatches, waitMs: this.waitMs(w) };
    }
    this.wants.delete(key);
    this.queues[w.urgency]!.delete(key);
    return { kind: 'block', hash: w.hash, data: response.data };
  }

  /**
   * Blocks that no replica can provide: every peer this replica has ever synced with is connected
   * and has answered notFound in at least two full rounds. Their content is gone (a user replaced
   * it before anyone fetched it), so waiting for it would stall the folder forever.
   */
  unobtainable(knownPeers: readonly string[], connected: readonly string[]): Uint8Array[] {
    if (knownPeers.length === 0 || !knownPeers.every((p) => connected.includes(p))) return [];
    const out: Uint8Array[] = [];
    for (const w of this.wants.values()) {
      if (w.rounds >= 2 && knownPeers.every((p) => w.notFoundBy.has(p))) out.push(w.hash);
    }
    return out;
  }

  /** Gives up on requests that took too long, so they go to another peer. */
  expire(now: number): void {
    for (const w of this.wants.values()) {
      if (w.peer === undefined || now - w.sentAt < this.options.timeoutMs) continue;
      if (w.requestId !== undefined) this.byRequest.delete(w.requestId);
      w.tried.add(w.peer);
      w.peer = undefined;
      w.requestId = undefined;
    }
  }

  /** A peer went away: its outstanding requests go elsewhere. */
  peerGone(peer: string): void {
    for (const w of this.wants.values()) {
      if (w.peer !== peer) continue;
      if (w.requestId !== undefined) this.byRequest.delete(w.requestId);
      w.peer = undefined;
      w.requestId = undefined;
    }
  }
}
