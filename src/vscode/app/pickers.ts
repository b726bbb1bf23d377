import * as vscode from 'vscode';
import type {
  ConflictView,
  ContactView,
  EngineStatus,
  InvitationView,
  PendingContactView,
  SpaceView,
} from '../../node/engine/engine-protocol';
import { Cancelled, UserFacingError } from './errors';
import { syncStateText } from '../folders/sync-state';
import { UserNames } from './user-names';
import { Commands } from './commands';

/**
 * QuickPicks that stand in for a tree row when a command runs from the palette, so every flow
 * works from the keyboard. Each throws Cancelled on Escape.
 */
export async function pick<T>(
  items: readonly (vscode.QuickPickItem & { value: T })[],
  placeHolder: string,
  emptyMessage: string,
): Promise<T> {
  if (items.length === 0) throw new UserFacingError(emptyMessage);
  const chosen = await vscode.window.showQuickPick([...items], { placeHolder, ignoreFocusOut: true });
  if (!chosen) throw new Cancelled();
  return chosen.value;
}

/**
 * A multi-select QuickPick that also works by typing and Enter: accepting with nothing checked
 * takes the highlighted item, or the only one the filter leaves, so "type a name, press Enter"
 * picks that contact.
 */
export function pickMany<T extends vscode.QuickPickItem>(
  items: readonly T[],
  options: { title?: string; placeHolder: string },
): Promise<readonly T[]> {
  return new Promise((resolve, reject) => {
    const quickPick = vscode.window.createQuickPick<T>();
    quickPick.canSelectMany = true;
    quickPick.ignoreFocusOut = true;
    quickPick.items = items;
    quickPick.selectedItems = items.filter((i) => i.picked);
    quickPick.placeholder = options.placeHolder;
    if (options.title) quickPick.title = options.title;
    let accepted = false;
    quickPick.onDidAccept(() => {
      const filter = quickPick.value.trim().toLowerCase();
      const matching = items.filter((i) => i.label.toLowerCase().includes(filter));
      const chosen =
        quickPick.selectedItems.length > 0
          ? quickPick.selectedItems
          : quickPick.activeItems.length > 0
            ? quickPick.activeItems
            : matching.length === 1
              ? matching
              : [];
      if (chosen.length === 0) return;
      accepted = true;
      resolve([...chosen]);
      quickPick.hide();
    });
    quickPick.onDidHide(() => {
      quickPick.dispose();
      if (!accepted) reject(new Cancelled());
    });
    quickPick.show();
  });
}

export function requireStatus(status: EngineStatus | undefined): EngineStatus {
  if (!status) throw new UserFacingError(vscode.l10n.t('Shared Folders is still starting. Try again in a moment.'));
  if (!status.identity) {
    throw new UserFacingError(vscode.l10n.t('Set up Shared Folders first.'), { title: vscode.l10n.t('Set Up'), command: Commands.setUp });
  }
  return status;
}

export function pickContact(status: EngineStatus, placeHolder: string): Promise<ContactView> {
  return pick(
    status.contacts.map((c) => ({ label: c.name, description: c.presence, value: c })),
    placeHolder,
    vscode.l10n.t('You have no contacts yet. Invite one first.'),
  );
}

export function pickSpace(status: EngineStatus, placeHolder: string, filter: (s: SpaceView) => boolean = () => true): Promise<SpaceView> {
  return pick(
    status.spaces
      .filter(filter)
      .map((s) => ({ label: s.name, description: syncStateText(s.state, vscode.l10n), detail: s.path, value: s })),
    placeHolder,
    vscode.l10n.t('No shared folder fits.'),
  );
}

export function pickInvitation(status: EngineStatus, placeHolder: string): Promise<InvitationView> {
  const names = new UserNames(status);
  return pick(
    status.invitations.map((i) => ({
      label: vscode.l10n.t('Folder from {0}', names.nameOf(i.from)),
      description: i.name ? `'${i.name}' · ${i.role}` : i.role,
      detail: i.members.map((m) => names.nameOf(m)).join(', '),
      value: i,
    })),
    placeHolder,
    vscode.l10n.t('There are no folder invitations.'),
  );
}

export function pickPendingContact(status: EngineStatus, placeHolder: string): Promise<PendingContactView> {
  return pick(
    status.pendingContacts.map((p) => ({ label: p.fingerprint, description: p.server, value: p })),
    placeHolder,
    vscode.l10n.t('There are no contact requests.'),
  );
}

export function pickConflict(status: EngineStatus, placeHolder: string): Promise<ConflictView> {
  const items = status.spaces.flatMap((s) => s.conflicts.map((c) => ({ label: c.path, description: s.name, value: c })));
  return pick(items, placeHolder, vscode.l10n.t('There are no conflicts.'));
}
