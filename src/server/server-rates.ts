import { RateLimit } from './rate-limit';
import type { ServerLimits } from './server-limits';

/** An hourly limit per key, wherever its buckets are kept. */
export interface HourlyLimit {
  /** Takes one unit for `key`; false when its limit is reached. */
  take(key: string, now: number): Promise<boolean>;
}

/**
 * Where a cluster keeps its rate-limit buckets, so that every process takes from the same ones:
 * a user's limit holds whichever process they use.
 */
export interface RateBuckets {
  /** The limit called `name` (one set of buckets per name), allowing `perHour` units a key. */
  hourlyLimit(name: string, perHour: number): HourlyLimit;
}

/** The server's rate limits that outlive one connection. */
export interface ServerRates {
  /** New accounts, by remote address. */
  readonly accountsByAddress: HourlyLimit;
  /** New accounts, server-wide (one key). */
  readonly accounts: HourlyLimit;
  /** Invite and link codes, by user. */
  readonly codesByUser: HourlyLimit;
}

/** The limits kept in `shared` buckets when given (a cluster), else in this process's memory. */
export function serverRates(limits: ServerLimits, shared?: RateBuckets): ServerRates {
  const buckets = shared ?? memoryBuckets;
  return {
    accountsByAddress: buckets.hourlyLimit('accountsByAddress', limits.accountsPerAddressPerHour),
    accounts: buckets.hourlyLimit('accounts', limits.accountsPerHour),
    codesByUser: buckets.hourlyLimit('codesByUser', limits.codesPerUserPerHour),
  };
}

const memoryBuckets: RateBuckets = {
  hourlyLimit(_name, perHour) {
    const limit = new RateLimit(perHour);
    return { take: async (key, now) => limit.take(key, now) };
  },
};
