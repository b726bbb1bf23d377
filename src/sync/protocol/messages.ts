import type { BlockRef, FileRecord } from '../model/file-record';

/**
 * Messages between two replicas of one space. Transport (relay, direct socket, simulation) and
 * the space they belong to are the port's business; see docs/PROTOCOL.md for the bytes.
 */

/** Opens or resumes an index exchange: "this is where I stand, send me what I lack". */
export interface Hello {
  readonly type: 'hello';
  /** The sender's current index id and highest sequence. */
  readonly indexId: string;
  readonly maxSequence: number;
  /** What the sender already holds from the receiver: its index id and sequence. */
  readonly knownIndexId: string;
  readonly knownSequence: number;
  /** Summary of the sender's index (see `summary.ts`); equal summaries mean nothing to exchange. */
  readonly summary: Uint8Array;
  /** True when this hello answers another; a reply is never answered, so hellos cannot ping-pong. */
  readonly reply: boolean;
  /**
   * The sender could not resolve a block-list delta (its base was not the list it holds): the
   * stream this hello starts carries whole block lists up to the receiver's current sequence.
   */
  readonly wholeBlockLists: boolean;
}

/**
 * A live file's block list as an edit of another list the receiver holds, named by its content
 * hash (SHA-256 over the block hashes names a block list exactly): the first `prefix` blocks of
 * the base, then `middle`, then the last `suffix` blocks of the base.
 */
export interface BlockListDelta {
  readonly base: Uint8Array;
  readonly prefix: number;
  readonly suffix: number;
  readonly middle: readonly BlockRef[];
}

/** Records with sequence in (fromSequence, toSequence] of the sender's index `indexId`. */
export interface IndexBatch {
  readonly type: 'index';
  readonly indexId: string;
  readonly fromSequence: number;
  readonly toSequence: number;
  /** The sender's highest sequence when it sent this batch: the stream is complete only there. */
  readonly maxSequence: number;
  /** A record whose block list travels as a delta has `blocks` empty here until the receiver resolves it. */
  readonly records: readonly FileRecord[];
  /** The block-list deltas, by the position of their record in `records`; absent or empty: every list is whole. */
  readonly deltas?: ReadonlyMap<number, BlockListDelta>;
}

export interface BlockRequest {
  readonly type: 'blockRequest';
  readonly id: number;
  readonly hash: Uint8Array;
  readonly size: number;
}

export type BlockStatus = 'ok' | 'notFound';

export interface BlockResponse {
  readonly type: 'blockResponse';
  readonly id: number;
  readonly hash: Uint8Array;
  readonly status: BlockStatus;
  readonly data: Uint8Array;
}

/** Sync negotiation: the sender's summary changed; the receiver says hello only if it differs. */
export interface SummaryNotice {
  readonly type: 'summary';
  readonly summary: Uint8Array;
}

export type Message = Hello | IndexBatch | BlockRequest | BlockResponse | SummaryNotice;

export type MessageType = Message['type'];
