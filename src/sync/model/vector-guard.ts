import type { VersionVector } from './version-vector';

/**
 * How far ahead of the receiver's clock a counter may run before the version carrying it is
 * refused as forged: room for clocks set apart by up to an hour (a time zone set wrong, say) and
 * for a burst of versions issued faster than one per millisecond (nextCounter). A member that
 * forges counters within it can make others' edits lose for at most this long.
 */
export const MAX_COUNTER_LEAD_MS = 60 * 60 * 1000;

/** What this replica knows of itself when it judges a version from a peer. */
export interface OwnCounter {
  /** This replica's index id. */
  readonly id: string;
  /** The highest counter this replica has issued under that id. */
  readonly counter: number;
}

/** Why a version's vector cannot be genuine. */
export type ForgedCounter =
  | { readonly kind: 'ownCounter'; readonly counter: number; readonly own: number }
  | { readonly kind: 'future'; readonly id: string; readonly counter: number; readonly leadMs: number };

/**
 * Checks a peer's version before it may count: a vector holding a counter for this replica above
 * any it issued, or any counter more than `MAX_COUNTER_LEAD_MS` ahead of this clock, was made up
 * (by a hostile member, or relayed from one), and would make later genuine edits compare as older.
 * Undefined when the vector could be genuine.
 */
export function forgedCounter(
  version: VersionVector,
  own: OwnCounter,
  nowMs: number,
  maxLeadMs = MAX_COUNTER_LEAD_MS,
): ForgedCounter | undefined {
  for (const e of version) {
    if (e.id === own.id && e.counter > own.counter) return { kind: 'ownCounter', counter: e.counter, own: own.counter };
    const leadMs = e.counter - nowMs;
    if (leadMs > maxLeadMs) return { kind: 'future', id: e.id, counter: e.counter, leadMs };
  }
  return undefined;
}

/** The problem's message, for logs and status. */
export function describeForgedCounter(forged: ForgedCounter): string {
  if (forged.kind === 'ownCounter')
    return `its version claims counter ${forged.counter} of this replica, which has issued only up to ${forged.own}: a forged version, refused so that this replica's later edits do not lose`;
  const minutes = Math.round(forged.leadMs / 60_000);
  return `its version claims counter ${forged.counter} for replica ${forged.id}, ${minutes} min ahead of this device's clock (at most ${MAX_COUNTER_LEAD_MS / 60_000} min is allowed): a forged version, or clocks set far apart; refused`;
}
