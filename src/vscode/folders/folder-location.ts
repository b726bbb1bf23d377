import * as fs from 'node:fs';
import type { InvitationView } from '../../node/engine/engine-protocol';
import { joinSpacePath } from '../app/space-paths';

/** The folder invitations land in unless the user picks another: the setting, or ~/Shared Folders. */
export function defaultFolderRoot(setting: string, home: string): string {
  const configured = setting.trim();
  if (configured === '') return joinSpacePath(home, 'Shared Folders');
  if (configured === '~') return home;
  if (configured.startsWith('~/') || configured.startsWith('~\\')) return joinSpacePath(home, configured.slice(2));
  return configured;
}

/**
 * The folder name for an accepted invitation: the name the sharer gave it, from its space note
 * (end to end encrypted; the server never sees it), or until that arrives the inviter's name and
 * a short space id.
 */
export function invitationFolderName(invitation: InvitationView, fromName: string): string {
  if (invitation.name) return invitation.name;
  // eslint-disable-next-line no-control-regex -- control characters are what it replaces
  const safe = fromName.replace(/[\\/:*?"<>|\u0000-\u001f]/g, '_').trim() || 'shared';
  return `${safe}-${invitation.space.slice(0, 6)}`;
}

/** `root/name`, or `root/name (2)` and so on, past folders that exist and are not empty. */
export function freeFolderPath(root: string, name: string, inUse: (path: string) => boolean): string {
  for (let n = 1; ; n++) {
    const path = joinSpacePath(root, n === 1 ? name : `${name} (${n})`);
    if (!inUse(path)) return path;
  }
}

/** A folder with something in it: a shared folder landing there would mix with what is there. */
export function folderInUse(path: string): boolean {
  try {
    return fs.readdirSync(path).length > 0;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}
