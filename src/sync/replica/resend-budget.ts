/**
 * How many records a replica sends a peer again, records that peer already had from it: a
 * `hello` costs its sender a hundred bytes and can ask for the whole index, so without a bound a
 * member could make a replica send its index over and over (amplification).
 *
 * Each peer has an allowance of one index's worth of records (as many as the index holds, with a
 * floor the caller sets), which refills at that rate over `windowMs`. Records the peer never had
 * from us are free: a first session, new edits. A hello that asks for records again and finds the
 * allowance short waits until it has refilled (`docs/PROTOCOL.md` §9, rule 7). The allowance outlives sessions, so
 * reconnecting does not reset it.
 */
export class ResendBudget {
  /** Per peer: the highest sequence of our index sent to it, in any session. */
  private readonly sentUpTo = new Map<string, number>();
  private readonly allowance = new Map<string, { records: number; at: number }>();

  constructor(private readonly windowMs: number) {}

  /** Records up to `sequence` went to `peer`. */
  sent(peer: string, sequence: number): void {
    this.sentUpTo.set(peer, Math.max(this.sentUpTo.get(peer) ?? 0, sequence));
  }

  /** Sequences the peer asks for again: those in (from, what it had from us]. */
  repeated(peer: string, from: number): { from: number; to: number } | undefined {
    const to = this.sentUpTo.get(peer) ?? 0;
    return from < to ? { from, to } : undefined;
  }

  /**
   * Whether `peer` may have `records` records sent again now, with `capacity` the allowance when
   * full (one index's worth); if so they are taken from its allowance. A request bigger than the
   * whole allowance is granted when the allowance is full.
   */
  take(peer: string, records: number, capacity: number, now: number): boolean {
    const left = this.left(peer, capacity, now);
    const cost = Math.min(records, capacity);
    if (cost > left) return false;
    this.allowance.set(peer, { records: left - cost, at: now });
    return true;
  }

  private left(peer: string, capacity: number, now: number): number {
    const last = this.allowance.get(peer);
    if (!last) return capacity;
    const refilled = ((now - last.at) / this.windowMs) * capacity;
    return Math.min(capacity, last.records + refilled);
  }
}
