import type { FileRecord } from '../model/file-record';

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
}

/** Records with sequence in (fromSequence, toSequence] of the sender's index `indexId`. */
export interface IndexBatch {
  readonly type: 'index';
  readonly indexId: string;
  readonly fromSequence: number;
  readonly toSequence: number;
  /** The sender's highest sequence when it sent this batch: the stream is complete only there. */
  readonly maxSequence: number;
  readonly records: readonly FileRecord[];
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
