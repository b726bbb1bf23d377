import type { Pool } from 'pg';
import type { HourlyLimit, RateBuckets } from './server-rates';

const HOUR_MS = 3_600_000;
/** How often a process drops idle buckets; any process may, so the table stays small. */
const PRUNE_EVERY_MS = 60_000;

/**
 * Refills and takes from one bucket in one statement, so concurrent takes from any processes
 * serialize on its row. The arithmetic is RateLimit's: a new key starts full, a key earns
 * `perHour` units an hour up to `perHour`, and a refused take costs nothing. `last` never moves
 * back, so a process whose clock is behind earns no extra refill.
 */
const TAKE = `
INSERT INTO rate_buckets AS b (name, key, tokens, last, granted)
VALUES ($1, $2, CASE WHEN $3::float8 >= 1 THEN $3::float8 - 1 ELSE $3::float8 END, $4::bigint, $3::float8 >= 1)
ON CONFLICT (name, key) DO UPDATE SET
  tokens = CASE WHEN ${refilled()} >= 1 THEN ${refilled()} - 1 ELSE ${refilled()} END,
  granted = ${refilled()} >= 1,
  last = GREATEST(b.last, $4::bigint)
RETURNING granted`;

function refilled(): string {
  return `LEAST($3::float8, b.tokens + (GREATEST(0, $4::bigint - b.last)::float8 * $3::float8) / ${HOUR_MS})`;
}

/** Rate-limit buckets in PostgreSQL, one row per (limit, key), shared by every process of a cluster. */
export class PostgresRateBuckets implements RateBuckets {
  private nextPrune = 0;

  constructor(private readonly pool: Pool) {}

  hourlyLimit(name: string, perHour: number): HourlyLimit {
    return { take: (key, now) => this.take(name, perHour, key, now) };
  }

  private async take(name: string, perHour: number, key: string, now: number): Promise<boolean> {
    if (now >= this.nextPrune) {
      this.nextPrune = now + PRUNE_EVERY_MS;
      await this.prune(now);
    }
    const { rows } = await this.pool.query<{ granted: boolean }>(TAKE, [name, key, perHour, now]);
    return rows[0]!.granted;
  }

  /**
   * A bucket untouched for an hour has refilled, whatever its limit, and so is the same as no
   * bucket: dropping it changes no answer.
   */
  private async prune(now: number): Promise<void> {
    await this.pool.query('DELETE FROM rate_buckets WHERE last < $1', [now - HOUR_MS]);
  }
}
