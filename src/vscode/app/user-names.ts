import type { EngineStatus } from '../../node/engine/engine-protocol';

/**
 * Display names by user id, from everything the status knows (contacts, members, this user).
 * Events carry ids only; the UI shows names, and falls back to a short id for strangers.
 */
export class UserNames {
  private readonly names = new Map<string, string>();

  constructor(status: EngineStatus | undefined) {
    if (!status) return;
    for (const space of status.spaces) for (const member of space.members) if (member.name) this.names.set(member.user, member.name);
    for (const contact of status.contacts) if (contact.name) this.names.set(contact.id, contact.name);
    if (status.identity) this.names.set(status.identity.user, status.identity.name);
  }

  /** A name for a user id; some views (invitations) already carry names, which pass through. */
  nameOf(user: string): string {
    return this.names.get(user) ?? (looksLikeId(user) ? shortId(user) : user);
  }
}

function looksLikeId(s: string): boolean {
  return /^[0-9a-f]{16,}$/i.test(s) || /^[A-Za-z0-9_-]{32,}$/.test(s);
}

export function shortId(id: string): string {
  return id.length > 8 ? id.slice(0, 8) : id;
}
