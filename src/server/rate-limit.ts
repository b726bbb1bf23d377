const HOUR_MS = 3_600_000;

/**
 * A rate limit per key (a remote address, a user): each key may take `perHour` units an hour,
 * all of them at once at most. Keys are remembered only while they matter, and never more than
 * `maxKeys` of them, so that many addresses cannot grow the server's memory without bound.
 */
export class RateLimit {
  private readonly buckets = new Map<string, { tokens: number; last: number }>();

  constructor(
    private readonly perHour: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Takes one unit for `key`; false when its limit is reached. */
  take(key: string, now: number): boolean {
    let bucket = this.buckets.get(key);
    if (bucket) {
      bucket.tokens = Math.min(this.perHour, bucket.tokens + this.refill(now - bucket.last));
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

  /** Units earned in `ms`; multiplied first, so whole shares of the hour come out whole. */
  private refill(ms: number): number {
    return (Math.max(0, ms) * this.perHour) / HOUR_MS;
  }

  /**
   * Drops the keys whose bucket has refilled (the same as a new one); when none has, the oldest
   * key, which then starts again with a full bucket.
   */
  private forget(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + this.refill(now - b.last) >= this.perHour) this.buckets.delete(key);
    }
    if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
  }
}
