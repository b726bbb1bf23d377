import type { ServerRates } from './server-context';
import type { ServerLimits } from './server-limits';

/**
 * A rate limit per key (a remote address, a user): each key may take `perHour` units an hour,
 * all of them at once at most. Keys are remembered only while they matter, and never more than
 * `maxKeys` of them, so that many addresses cannot grow the server's memory without bound.
 */
export class RateLimit {
  private readonly buckets = new Map<string, { tokens: number; last: number }>();
  private readonly perMs: number;

  constructor(
    private readonly perHour: number,
    private readonly maxKeys = 100_000,
  ) {
    this.perMs = perHour / 3_600_000;
  }

  /** Takes one unit for `key`; false when its limit is reached. */
  take(key: string, now: number): boolean {
    let bucket = this.buckets.get(key);
    if (bucket) {
      bucket.tokens = Math.min(this.perHour, bucket.tokens + Math.max(0, now - bucket.last) * this.perMs);
      bucket.last = now;
    } else {
      if (this.buckets.size >= this.maxKeys) this.forget(now);
      bucket = { tokens: this.perHour, last: now };
      this.buckets.set(key, bucket);
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** How many keys it remembers now. */
  get size(): number {
    return this.buckets.size;
  }

  /**
   * Drops the keys whose bucket has refilled (the same as a new one); when none has, the oldest
   * key, which then starts again with a full bucket.
   */
  private forget(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + (now - b.last) * this.perMs >= this.perHour) this.buckets.delete(key);
    }
    if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
  }
}

export function serverRates(limits: ServerLimits): ServerRates {
  return {
    accountsByAddress: new RateLimit(limits.accountsPerAddressPerHour),
    accounts: new RateLimit(limits.accountsPerHour),
    codesByUser: new RateLimit(limits.codesPerUserPerHour),
  };
}
