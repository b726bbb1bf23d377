/**
 * Which live session an open file takes part in (docs/COEDIT.md §3), as a pure function of what
 * this device announced and what the other devices with the file open announced. Every device
 * computes it on its own and they agree: the smallest live session wins, and while none is live
 * the smallest seed name does.
 */

/** What another device announced for the file (CoeditPeerView, the parts that matter here). */
export interface PeerAnnouncement {
  readonly device: string;
  readonly session: string;
  readonly live: boolean;
  readonly readOnly: boolean;
  /** SHA-256 of that device's saved file; absent from devices that do not say. */
  readonly disk?: string;
}

export interface PlanInput {
  /** The name of the session this device would seed: SHA-256 of the file's saved text. */
  readonly own: string;
  /** The session this device is in, and whether it holds the session's state yet (a joiner that caught up, or a seeder). */
  readonly current?: { readonly session: string; readonly live: boolean };
  readonly peers: readonly PeerAnnouncement[];
  /** A reader: its seed never names a session for others, since its answers are dropped. */
  readonly reader: boolean;
  /**
   * The editor holds unsaved edits. Seeded into a live session they would arrive twice when the
   * members already have them (this device was in the session before): such a device joins, and
   * its edits are merged against what the session holds.
   */
  readonly dirty?: boolean;
}

export type CoeditPlan =
  /** Nobody to co-edit with: no session (leave the one there is). */
  | { readonly kind: 'none' }
  /** Stay in the current session. */
  | { readonly kind: 'keep'; readonly session: string }
  /** Build the session from this device's saved text: others with the same text build the same one. */
  | { readonly kind: 'seed'; readonly session: string }
  /** Join `session` with an empty document, taking its state from its members (and merging unsaved edits). */
  | { readonly kind: 'join'; readonly session: string };

export function planSession(input: PlanInput): CoeditPlan {
  // A reader's frames other than join, awareness and step 1 are dropped by everybody: a session
  // only readers hold could never be caught up with, so only writers' sessions count.
  const writers = input.peers.filter((p) => !p.readOnly);
  if (input.peers.length === 0 || (input.reader && writers.length === 0)) {
    // Alone, a session is kept: when the others come back (a broken link, a restart) a join
    // exchange brings every side up to date, where seeding anew would double unsaved edits.
    return input.current?.live ? { kind: 'keep', session: input.current.session } : { kind: 'none' };
  }
  // A session is joined only where this device's saved file matches one of its members' (or the
  // seed): a session whose members all saved another file grew from a version this device does not
  // have, and its text would show as unsaved edits over a file replication may keep as a conflict.
  const joinable = (session: string): boolean =>
    session === input.own ||
    session === input.current?.session ||
    writers.some((p) => p.session === session && (p.disk === undefined || p.disk === input.own));
  // Only writers of other files around (readers may still join this device's session): as alone.
  if (!writers.some((p) => joinable(p.session)) && writers.length === input.peers.length)
    return input.current?.live ? { kind: 'keep', session: input.current.session } : { kind: 'none' };
  const live = new Set(writers.filter((p) => p.live && joinable(p.session)).map((p) => p.session));
  if (input.current?.live) live.add(input.current.session);
  let target: string;
  if (live.size > 0) {
    target = smallest(live);
  } else {
    const named = new Set(writers.map((p) => p.session).filter(joinable));
    if (!input.reader) named.add(input.own);
    if (input.current) named.add(input.current.session);
    target = smallest(named);
  }
  if (input.current?.session === target) return { kind: 'keep', session: target };
  // Seeding needs a document that is nothing but the saved text: a device already in a session
  // (with edits of its own) joins instead, and its unsaved edits are merged.
  if (!input.current && target === input.own && !(input.dirty && live.size > 0)) return { kind: 'seed', session: target };
  return { kind: 'join', session: target };
}

function smallest(names: ReadonlySet<string>): string {
  return [...names].sort()[0]!;
}
