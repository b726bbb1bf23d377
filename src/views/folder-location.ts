import type { InvitationView } from '../node/engine-protocol';
import { joinSpacePath } from './space-paths';

/** The folder invitations land in unless the user picks another: the setting, or ~/Shared Folders. */
export function defaultFolderRoot(setting: string, home: string): string {
  const configured = setting.trim();
  if (configured === '') return joinSpacePath(home, 'Shared Folders');
  if (configured === '~') return home;
  if (configured.startsWith('~/') || configured.startsWith('~\\')) return joinSpacePath(home, configured.slice(2));
  return configured;
}

/**
 * The folder name for an accepted invitation. Invitations carry no folder name (the server never
 * sees one), so it is the inviter's name and a short space id: unique, and recognisable.
 */
export function invitationFolderName(invitation: InvitationView, fromName: string): string {
  const safe = fromName.replace(/[\\/:*?"<>|\u0000-\u001f]/g, '_').trim() || 'shared';
  return `${safe}-${invitation.space.slice(0, 6)}`;
}
