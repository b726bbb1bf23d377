import type { ConflictView, EngineStatus, InvitationView, MemberView, SpaceView } from '../../node/engine/engine-protocol';
import type { Localizer } from '../app/localizer';
import { presenceIcon, presenceText } from '../trees/presence-icon';
import { syncStateIcon, syncStateText } from './sync-state';
import type { TreeNode } from '../trees/tree-node';
import { UserNames, shortId } from '../app/user-names';
import { joinSpacePath } from '../app/space-paths';
import { parseConflictCopyPath } from '../../sync/model/conflict';
import { Commands } from '../app/commands';

/** The rows of the Shared Folders view: invitations first (they wait for an answer), then spaces by name. */
export function folderNodes(status: EngineStatus | undefined, l10n: Localizer): TreeNode[] {
  if (!status?.identity) return [];
  const names = new UserNames(status);
  const invitations = status.invitations.map((i) => invitationNode(i, names, l10n));
  const spaces = [...status.spaces]
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id))
    .map((s) => spaceNode(s, status.identity?.user, l10n));
  return [...invitations, ...spaces];
}

/** The number the view's badge shows: remote changes in all spaces the user has not looked at yet. */
export function unseenCount(status: EngineStatus | undefined): number {
  return status?.spaces.reduce((sum, s) => sum + s.unseen, 0) ?? 0;
}

function spaceNode(space: SpaceView, me: string | undefined, l10n: Localizer): TreeNode {
  const conflicts = space.conflicts.map((c) => conflictNode(c, space, l10n));
  const errors = space.errors.map(
    (e) =>
      ({
        id: `spaceError:${space.id}:${e.path}`,
        ref: { kind: 'spaceError', space: space.id, path: e.path },
        // No path: the error is the space's own (a member list this device refused).
        label: e.path || l10n.t('member list'),
        description: e.message,
        tooltip: e.path ? l10n.t('{0} is not syncing: {1}', e.path, e.message) : e.message,
        icon: { id: 'error', color: 'list.errorForeground' },
        contextValue: 'spaceError',
        resourcePath: joinSpacePath(space.path, e.path),
      }) satisfies TreeNode,
  );
  const members = [...space.members]
    .filter((m) => m.user !== me && m.status !== 'left' && m.status !== 'declined')
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((m) => memberNode(m, space, l10n));

  const descriptionParts = [syncStateText(space.state, l10n)];
  // A reader's changes never leave this device: worth seeing without hovering.
  if (space.role === 'reader') descriptionParts.push(l10n.t('read-only'));
  if (space.conflicts.length > 0) {
    descriptionParts.push(space.conflicts.length === 1 ? l10n.t('1 conflict') : l10n.t('{0} conflicts', space.conflicts.length));
  }
  if (space.unseen > 0) descriptionParts.push(space.unseen === 1 ? l10n.t('1 new change') : l10n.t('{0} new changes', space.unseen));

  const owner = space.role === 'owner';
  const paused = space.state.kind === 'paused';
  return {
    id: `space:${space.id}`,
    ref: { kind: 'space', space: space.id },
    label: space.name,
    description: descriptionParts.join(' · '),
    tooltip: [
      space.name,
      space.path,
      l10n.t('Your role: {0}', roleText(space.role, l10n)),
      l10n.t('Kind: {0}', kindText(space.kind, l10n)),
      syncStateText(space.state, l10n),
    ].join('\n'),
    icon: space.conflicts.length > 0 ? { id: 'warning', color: 'list.warningForeground' } : syncStateIcon(space.state),
    contextValue: [
      'space',
      owner ? 'owner' : 'member',
      paused ? 'paused' : 'running',
      space.role === 'reader' ? 'reader' : 'writer',
      ...(space.state.kind === 'paused' && space.state.reason === 'massDelete' ? ['massDelete'] : []),
    ].join(' '),
    resourcePath: space.path,
    children: [...conflicts, ...errors, ...members],
    expanded: space.conflicts.length > 0,
  };
}

function conflictNode(conflict: ConflictView, space: SpaceView, l10n: Localizer): TreeNode {
  const ref = { kind: 'conflict', space: space.id, path: conflict.path, copy: conflict.copy } as const;
  const author = parseConflictCopyPath(conflict.copy)?.user;
  return {
    // By copy: one file may have several conflicts (three devices, or a second clash before the first was settled).
    id: `conflict:${space.id}:${conflict.copy}`,
    ref,
    label: conflict.path,
    description: author ? l10n.t('conflict with {0}', author) : l10n.t('conflict'),
    tooltip: l10n.t(
      '{0} was changed on two devices at once. The other version is in {1}. Click to compare and choose.',
      conflict.path,
      conflict.copy,
    ),
    icon: { id: 'warning', color: 'list.warningForeground' },
    contextValue: 'conflict',
    resourcePath: joinSpacePath(space.path, conflict.path),
    command: { command: Commands.resolveConflict, title: l10n.t('Resolve Conflict'), arguments: [ref] },
  };
}

/** How this device reaches the member now: a direct link or the server's relay (nothing while no channel is up). */
function pathText(member: MemberView, l10n: Localizer): string[] {
  if (member.path === 'direct') return [l10n.t('Connected directly')];
  if (member.path === 'relay') return [l10n.t('Connected through the server')];
  return [];
}

function memberNode(member: MemberView, space: SpaceView, l10n: Localizer): TreeNode {
  const parts = [roleText(member.role, l10n)];
  if (member.status === 'invited') parts.push(l10n.t('invited'));
  else parts.push(presenceText(member.presence, l10n));
  if (member.activeFile) parts.push(l10n.t('in {0}', member.activeFile));
  return {
    id: `member:${space.id}:${member.user}`,
    ref: { kind: 'member', space: space.id, user: member.user },
    label: member.name || shortId(member.user),
    description: parts.join(' · '),
    tooltip: [
      l10n.t('{0} ({1}) in {2}', member.name || member.user, roleText(member.role, l10n), space.name),
      ...pathText(member, l10n),
    ].join('\n'),
    icon: member.status === 'invited' ? { id: 'mail', color: 'disabledForeground' } : presenceIcon(member.presence),
    // `inFile`: the member has a file of the space in their active editor, so Follow has something to show.
    // `manageable`: this user owns the space, so may remove the member or change their role (mayChangeSpace).
    contextValue: `member ${member.status}${member.activeFile ? ' inFile' : ''}${space.role === 'owner' ? ' manageable' : ''}`,
  };
}

function invitationNode(invitation: InvitationView, names: UserNames, l10n: Localizer): TreeNode {
  const from = names.nameOf(invitation.from);
  return {
    id: `invitation:${invitation.space}`,
    ref: { kind: 'invitation', space: invitation.space },
    label: l10n.t('Folder from {0}', from),
    description: invitation.name
      ? l10n.t("'{0}' · invitation · {1}", invitation.name, roleText(invitation.role, l10n))
      : l10n.t('invitation · {0}', roleText(invitation.role, l10n)),
    tooltip: l10n.t(
      '{0} invited you to a shared folder as {1}. Members: {2}',
      from,
      roleText(invitation.role, l10n),
      invitation.members.map((m) => names.nameOf(m)).join(', '),
    ),
    icon: { id: 'mail', color: 'charts.blue' },
    contextValue: 'invitation',
  };
}

function roleText(role: SpaceView['role'], l10n: Localizer): string {
  switch (role) {
    case 'owner':
      return l10n.t('owner');
    case 'editor':
      return l10n.t('editor');
    case 'reader':
      return l10n.t('reader');
    case undefined:
      return l10n.t('no role');
  }
}

function kindText(kind: SpaceView['kind'], l10n: Localizer): string {
  switch (kind) {
    case 'pair':
      return l10n.t('shared with one contact');
    case 'group':
      return l10n.t('group');
    case 'publish':
      return l10n.t('published read-only');
  }
}
