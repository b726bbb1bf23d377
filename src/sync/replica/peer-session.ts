/** Volatile state of a connection to one peer replica. */
export interface PeerSession {
  /** Highest sequence of our index already sent; undefined until the peer said hello. */
  sentUpTo?: number;
  /** Where a resend the peer asked for too soon starts, once its allowance allows (ResendBudget). */
  replayFrom?: number;
  theirMax: number;
  lastResendAt: number;
  lastSummaryAt: number;
}
