/** Volatile state of a connection to one peer replica. */
export interface PeerSession {
  /** Highest sequence of our index already sent; undefined until the peer said hello. */
  sentUpTo?: number;
  /** Where a resend the peer asked for too soon starts, once its allowance allows (ResendBudget). */
  replayFrom?: number;
  theirMax: number;
  lastResendAt: number;
  lastSummaryAt: number;
  /**
   * Content hashes (hex) of the large file versions the peer holds, by path, as far as this
   * session saw: what it sent us and what we sent it. The bases for block-list deltas to it.
   */
  holds?: Map<string, string>;
  /** The peer could not resolve a delta: records up to this sequence go to it with whole block lists. */
  wholeUpTo?: number;
  /** We could not resolve a delta from the peer: our hellos ask it for whole block lists until a batch applies. */
  askWhole?: boolean;
}
