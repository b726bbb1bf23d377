import { RateLimit } from './rate-limit';
import type { ServerLimits } from './server-limits';

/** The server's rate limits that outlive one connection. */
export interface ServerRates {
  /** New accounts, by remote address. */
  readonly accountsByAddress: RateLimit;
  /** New accounts, server-wide (one key). */
  readonly accounts: RateLimit;
  /** Invite and link codes, by user. */
  readonly codesByUser: RateLimit;
}

export function serverRates(limits: ServerLimits): ServerRates {
  return {
    accountsByAddress: new RateLimit(limits.accountsPerAddressPerHour),
    accounts: new RateLimit(limits.accountsPerHour),
    codesByUser: new RateLimit(limits.codesPerUserPerHour),
  };
}
