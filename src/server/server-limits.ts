export interface ServerLimits {
  /** Largest WebSocket message; larger ones close the connection (1009). */
  readonly maxFrameBytes: number;
  /** Time a connection has to sign in. */
  readonly authTimeoutMs: number;
  readonly messagesPerSecond: number;
  readonly bytesPerSecond: number;
  /** Bytes a user's devices may have waiting in the mailbox. */
  readonly mailboxQuotaBytes: number;
  readonly heartbeatMs: number;
  readonly tokenTtlMs: number;
  /** Mailbox items sent to a device before it acknowledges. */
  readonly mailboxWindow: number;
  /** Payload bytes sent to a device before it acknowledges (one item is always allowed). */
  readonly mailboxWindowBytes: number;
  /** Undelivered mailbox items are dropped after this long. */
  readonly mailboxTtlMs: number;
  /** Bytes the whole mailbox may hold, all users together; deposits beyond it are refused ('quota'). */
  readonly mailboxTotalBytes: number;
  /** New accounts one remote address may create an hour (all of them at once at most). */
  readonly accountsPerAddressPerHour: number;
  /** New accounts the whole server accepts an hour. */
  readonly accountsPerHour: number;
  /** Invite and link codes one user may make an hour. */
  readonly codesPerUserPerHour: number;
  /** Unused, unexpired invite and link codes one user may hold at once. */
  readonly liveCodesPerUser: number;
  /**
   * Bytes a connection may send before it has signed in (hello and auth need about 1 KiB);
   * counted on the raw socket, so a larger frame is never buffered whole.
   */
  readonly bytesBeforeSignIn: number;
  /** Bytes queued toward one connection (server and kernel buffers) before relay and mailbox frames wait. */
  readonly queuedBytesPerConnection: number;
  /** Bytes queued toward all connections together before relay and mailbox frames wait. */
  readonly queuedBytesTotal: number;
  /** How long a relay frame waits for room toward its target (its sender unread meanwhile) before it is refused. */
  readonly relayWaitMs: number;
  /** Open TCP connections from one address; more are closed at once. */
  readonly connectionsPerAddress: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxFrameBytes: 16 * 1024 * 1024,
  authTimeoutMs: 10_000,
  messagesPerSecond: 5_000,
  bytesPerSecond: 256 * 1024 * 1024,
  mailboxQuotaBytes: 1024 * 1024 * 1024,
  heartbeatMs: 30_000,
  tokenTtlMs: 7 * 24 * 3600 * 1000,
  mailboxWindow: 32,
  mailboxWindowBytes: 32 * 1024 * 1024,
  mailboxTtlMs: 90 * 24 * 3600 * 1000,
  mailboxTotalBytes: 16 * 1024 * 1024 * 1024,
  accountsPerAddressPerHour: 10,
  accountsPerHour: 500,
  codesPerUserPerHour: 30,
  liveCodesPerUser: 50,
  bytesBeforeSignIn: 32 * 1024,
  queuedBytesPerConnection: 8 * 1024 * 1024,
  queuedBytesTotal: 256 * 1024 * 1024,
  relayWaitMs: 5_000,
  connectionsPerAddress: 256,
};
