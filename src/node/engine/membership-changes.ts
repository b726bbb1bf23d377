import type { AccountState, UserInfo } from '../../sync/protocol/rendezvous';

/** Something that happened to the membership of a space this user had joined. */
export interface MembershipChange {
  readonly kind: 'joined' | 'left' | 'invited' | 'gone';
  readonly space: string;
  /** Display name of the member concerned; for 'gone', of the space's owner. */
  readonly user?: string;
}

/**
 * What changed between two account states in the spaces this user had joined: members who
 * joined, left or declined, or were invited; and spaces that are gone for this user ('gone':
 * its owner stopped sharing, or removed this user). Changes of this user itself are not news.
 */
export function membershipChanges(before: AccountState, after: AccountState): MembershipChange[] {
  const me = after.user.id;
  const out: MembershipChange[] = [];
  const nameIn = (users: readonly UserInfo[], id: string): string => users.find((u) => u.id === id)?.name ?? id;
  for (const was of before.spaces) {
    if (was.status[me] !== 'joined') continue;
    const now = after.spaces.find((s) => s.doc.id === was.doc.id);
    if (!now || now.status[me] === undefined) {
      const owner = was.doc.members.find((m) => m.role === 'owner');
      out.push({ kind: 'gone', space: was.doc.id, ...(owner ? { user: nameIn(was.users, owner.user) } : {}) });
      continue;
    }
    for (const m of now.doc.members) {
      if (m.user === me) continue;
      const from = was.status[m.user];
      const to = now.status[m.user];
      if (from === to) continue;
      if (to === 'joined') out.push({ kind: 'joined', space: now.doc.id, user: nameIn(now.users, m.user) });
      else if (to === 'left' || to === 'declined') out.push({ kind: 'left', space: now.doc.id, user: nameIn(now.users, m.user) });
      else if (to === 'invited' && from === undefined) out.push({ kind: 'invited', space: now.doc.id, user: nameIn(now.users, m.user) });
    }
    for (const m of was.doc.members) {
      const removed = m.user !== me && !now.doc.members.some((x) => x.user === m.user) && was.status[m.user] === 'joined';
      if (removed) out.push({ kind: 'left', space: now.doc.id, user: nameIn(was.users, m.user) });
    }
  }
  return out;
}
