import type { ActiveEditorView, EngineStatus } from '../../node/engine/engine-protocol';
import type { Localizer } from '../app/localizer';

/**
 * The editor to follow for `user`, who may have several devices: the one whose notice came last.
 * A device that closed its editor (no path) counts too: it is where the user went last.
 */
export function latestEditorOf<T extends ActiveEditorView & { readonly at: number }>(views: readonly T[], user: string): T | undefined {
  let best: T | undefined;
  for (const v of views) if (v.user === user && (!best || v.at > best.at)) best = v;
  return best;
}

/** The member this window follows, and what it last knew of them. */
export interface Followed {
  readonly user: string;
  readonly name: string;
  /** The space of the member's latest file (where they were when following began, before that). */
  readonly space: string;
  /** That space's folder name, kept: once it is unshared the status no longer has it. */
  readonly folder: string;
  /** The member's latest file there, for "they closed …". */
  readonly path?: string;
}

/** Why following ended without the follower doing anything. */
export type FollowEnd =
  { readonly kind: 'unshared' } | { readonly kind: 'left' } | { readonly kind: 'offline' } | { readonly kind: 'closed' };

/**
 * Whether the status ends following: the folder is no longer shared with this user, the member
 * left it, or went offline. Undefined while it goes on (and while there is no status: the
 * engine restarting says nothing about the member).
 */
export function followEndInStatus(status: EngineStatus | undefined, followed: Followed): FollowEnd | undefined {
  if (!status) return undefined;
  const space = status.spaces.find((s) => s.id === followed.space);
  if (!space || space.role === undefined) return { kind: 'unshared' };
  const member = space.members.find((m) => m.user === followed.user);
  if (!member || member.status === 'left' || member.status === 'declined') return { kind: 'left' };
  if (member.presence === 'offline') return { kind: 'offline' };
  return undefined;
}

/** The message that says why following ended. */
export function followEndText(end: FollowEnd, followed: Followed, l10n: Localizer): string {
  switch (end.kind) {
    case 'unshared':
      return l10n.t("Stopped following {0}: '{1}' is no longer shared with you.", followed.name, followed.folder);
    case 'left':
      return l10n.t("Stopped following {0}: they left '{1}'.", followed.name, followed.folder);
    case 'offline':
      return l10n.t('Stopped following {0}: they went offline.', followed.name);
    case 'closed':
      return followed.path !== undefined
        ? l10n.t('Stopped following {0}: they closed {1}.', followed.name, followed.path)
        : l10n.t('Stopped following {0}: they have no file of a shared folder open.', followed.name);
  }
}

/** Why following cannot begin, when the status says so already. */
export function cannotFollowText(end: FollowEnd, followed: Followed, l10n: Localizer): string {
  switch (end.kind) {
    case 'unshared':
      return l10n.t("'{0}' is no longer shared with you.", followed.folder);
    case 'left':
      return l10n.t("{0} left '{1}': there is nobody to follow.", followed.name, followed.folder);
    case 'offline':
      return l10n.t('{0} is offline: there is nothing to follow.', followed.name);
    case 'closed':
      return l10n.t('{0} has no file of a shared folder open.', followed.name);
  }
}

/**
 * The names of the users following `me`, from the latest `activeEditor` notice of each device:
 * a device counts while its latest notice says it follows `me`.
 */
export function followersOf(latestByDevice: Iterable<ActiveEditorView>, me: string): string[] {
  const names = new Map<string, string>();
  for (const v of latestByDevice) if (v.following === me && v.user !== me) names.set(v.user, v.name || v.user.slice(0, 8));
  return [...names.values()].sort((a, b) => a.localeCompare(b));
}

/** The status bar's words for the followers: "bob is following you", "bob and carol are following you". */
export function followersText(names: readonly string[], l10n: Localizer): string | undefined {
  if (names.length === 0) return undefined;
  if (names.length === 1) return l10n.t('{0} is following you', names[0]!);
  if (names.length === 2) return l10n.t('{0} and {1} are following you', names[0]!, names[1]!);
  return l10n.t('{0} people are following you', names.length);
}
