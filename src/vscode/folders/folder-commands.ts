import * as vscode from 'vscode';
import type { InvitationView, MemberView, SpaceView } from '../../node/engine/engine-protocol';
import type { Role } from '../../sync/protocol/rendezvous';
import type { CommandRunner } from '../app/command-runner';
import type { EngineSession } from '../engine/engine-session';
import { Cancelled, isEngineFailure, UserFacingError } from '../app/errors';
import { folderInUse, freeFolderPath, invitationFolderName } from './folder-location';
import { pick, pickInvitation, pickMany, pickSpace, requireStatus } from '../app/pickers';
import type { Settings } from '../app/settings';
import { locateInSpaces } from '../app/space-paths';
import { refOfKind } from '../trees/tree-node';
import { UserNames } from '../app/user-names';
import { Commands } from '../app/commands';

type ShareRole = 'editor' | 'reader';

/** What Share Folder starts with when it comes from a drop, a contact row or the Explorer. */
export interface SharePreset {
  readonly path?: string;
  readonly users?: readonly string[];
}

/** Sharing, joining and managing shared folders. */
export class FolderCommands {
  constructor(
    private readonly session: EngineSession,
    private readonly settings: Settings,
    private readonly runner: CommandRunner,
    private readonly revealSpace: (space: string) => Promise<void>,
  ) {}

  register(): vscode.Disposable[] {
    const r = this.runner;
    return [
      r.register(Commands.shareFolder, (arg?: unknown) => this.share(presetFrom(arg))),
      r.register(Commands.shareFolderWithContact, (arg?: unknown) => this.share(presetFrom(arg))),
      r.register(Commands.acceptFolder, (arg?: unknown) => this.accept(arg)),
      r.register(Commands.declineFolder, (arg?: unknown) => this.decline(arg)),
      r.register(Commands.openInExplorer, (arg?: unknown) => this.openInExplorer(arg)),
      r.register(Commands.addMember, (arg?: unknown) => this.addMember(arg)),
      r.register(Commands.pauseSync, (arg?: unknown) => this.setPaused(arg, true)),
      r.register(Commands.resumeSync, (arg?: unknown) => this.setPaused(arg, false)),
      r.register(Commands.stopSharing, (arg?: unknown) => this.stopSharing(arg)),
      r.register(Commands.resolveMassDelete, (arg?: unknown) => this.resolveMassDelete(arg)),
      r.register(Commands.leave, (arg?: unknown) => this.leave(arg)),
      r.register(Commands.removeMember, (arg?: unknown) => this.removeMember(arg)),
      r.register(Commands.changeRole, (arg?: unknown) => this.changeRole(arg)),
    ];
  }

  /** Folder, then contacts, then role; every step is a QuickPick so it works from the keyboard. */
  async share(preset: SharePreset = {}): Promise<void> {
    const status = requireStatus(await this.session.readyStatus());
    if (status.contacts.length === 0) {
      throw new UserFacingError(vscode.l10n.t('Add a contact before sharing a folder.'), {
        title: vscode.l10n.t('Invite Contact'),
        command: Commands.inviteContact,
      });
    }
    const path = preset.path ?? (await this.chooseFolderToShare());
    const already = locateInSpaces(path, status.spaces);
    if (already && already.path === '') {
      throw new UserFacingError(vscode.l10n.t('{0} is already shared. Use Add Member to share it with more people.', already.space.name));
    }
    if (already)
      throw new UserFacingError(
        vscode.l10n.t('{0} is inside the shared folder {1}; share the whole folder instead.', path, already.space.name),
      );

    const preselected = new Set(preset.users ?? []);
    const items = status.contacts.map((c) => ({ label: c.name, description: c.presence, picked: preselected.has(c.id), id: c.id }));
    // A drop on a contact or that contact's Share Folder… action has said who; only the role is left.
    const chosen =
      preselected.size > 0
        ? items.filter((i) => i.picked)
        : await pickMany(items, {
            title: vscode.l10n.t('Share {0}', basename(path)),
            placeHolder: vscode.l10n.t('Contacts to share with'),
          });
    if (chosen.length === 0) throw new Cancelled();
    const role = await pickRole(vscode.l10n.t("Role of {0} in '{1}'", chosen.map((c) => c.label).join(', '), basename(path)));
    const { space } = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Sharing {0}…', basename(path)) },
      () => this.session.call('share', { path, with: chosen.map((c) => c.id), role, ignore: this.settings.ignorePatterns }),
    );
    void vscode.window.showInformationMessage(
      vscode.l10n.t('Shared {0} with {1}. They will get an invitation.', basename(path), chosen.map((c) => c.label).join(', ')),
    );
    void this.revealSpace(space).catch(() => undefined);
  }

  private async chooseFolderToShare(): Promise<string> {
    const choose = vscode.l10n.t('Choose Folder…');
    const items = (vscode.workspace.workspaceFolders ?? [])
      .filter((f) => f.uri.scheme === 'file')
      .map((f) => ({ label: f.name, description: f.uri.fsPath, path: f.uri.fsPath as string | undefined }));
    items.push({ label: `$(folder-opened) ${choose}`, description: '', path: undefined });
    const chosen = await vscode.window.showQuickPick(items, { placeHolder: vscode.l10n.t('Folder to share'), ignoreFocusOut: true });
    if (!chosen) throw new Cancelled();
    if (chosen.path !== undefined) return chosen.path;
    const picked = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      canSelectMany: false,
      openLabel: vscode.l10n.t('Share'),
    });
    const folder = picked?.[0];
    if (!folder) throw new Cancelled();
    return folder.fsPath;
  }

  async accept(arg: unknown): Promise<void> {
    const status = requireStatus(await this.session.readyStatus());
    const space = refOfKind(arg, 'invitation')?.space ?? (await pickInvitation(status, vscode.l10n.t('Invitation to accept'))).space;
    const invitation = status.invitations.find((i) => i.space === space);
    if (!invitation) throw new UserFacingError(vscode.l10n.t('This invitation is no longer open.'));
    const from = new UserNames(status).nameOf(invitation.from);
    const target = await this.chooseLandingFolder(invitation, from);
    const where = await pickWhereToOpen(target);
    await this.joinInto(space, target);
    const uri = vscode.Uri.file(target);
    void vscode.window.showInformationMessage(vscode.l10n.t("Joined '{0}' from {1}. It syncs into {2}.", basename(target), from, target));
    switch (where) {
      case 'add':
        vscode.workspace.updateWorkspaceFolders(vscode.workspace.workspaceFolders?.length ?? 0, 0, { uri });
        return;
      case 'here':
        await vscode.commands.executeCommand('vscode.openFolder', uri, { forceNewWindow: false });
        return;
      case 'window':
        await vscode.commands.executeCommand('vscode.openFolder', uri, { forceNewWindow: true });
        return;
      case 'none':
        return;
    }
  }

  /** Joins at `target`; a folder that already has files is merged only when the user says so. */
  private async joinInto(space: string, target: string): Promise<void> {
    try {
      await this.session.call('join', { space, path: target });
    } catch (e) {
      if (!isEngineFailure(e) || e.code !== 'notEmpty') throw e;
      const merge = vscode.l10n.t('Merge');
      const answer = await vscode.window.showWarningMessage(
        vscode.l10n.t('Folder {0} already has files. Merge them with the shared folder? Files that differ keep both versions.', target),
        { modal: true },
        merge,
      );
      if (answer !== merge) throw new Cancelled();
      await this.session.call('join', { space, path: target, merge: true });
    }
  }

  private async chooseLandingFolder(invitation: InvitationView, fromName: string): Promise<string> {
    const proposed = freeFolderPath(this.settings.defaultFolderLocation, invitationFolderName(invitation, fromName), folderInUse);
    const choose = vscode.l10n.t('Choose Folder…');
    const chosen = await pick(
      [
        { label: proposed, description: vscode.l10n.t('default location'), value: proposed as string | undefined },
        { label: `$(folder-opened) ${choose}`, value: undefined },
      ],
      invitation.name
        ? vscode.l10n.t("Where should '{0}' from {1} go on this computer?", invitation.name, fromName)
        : vscode.l10n.t('Where should the folder {0} shares go on this computer?', fromName),
      '',
    );
    if (chosen !== undefined) return chosen;
    const picked = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      canSelectMany: false,
      openLabel: vscode.l10n.t('Put It Here'),
    });
    const folder = picked?.[0];
    if (!folder) throw new Cancelled();
    return folder.fsPath;
  }

  private async decline(arg: unknown): Promise<void> {
    const status = requireStatus(await this.session.readyStatus());
    const space = refOfKind(arg, 'invitation')?.space ?? (await pickInvitation(status, vscode.l10n.t('Invitation to decline'))).space;
    await this.session.call('decline', { space });
  }

  private async spaceFrom(arg: unknown, placeHolder: string, filter?: (s: SpaceView) => boolean): Promise<SpaceView> {
    const status = requireStatus(await this.session.readyStatus());
    const ref = refOfKind(arg, 'space');
    const found = ref ? status.spaces.find((s) => s.id === ref.space) : undefined;
    if (found) return found;
    if (arg instanceof vscode.Uri) {
      const located = locateInSpaces(arg.fsPath, status.spaces);
      if (located) return located.space;
    }
    return pickSpace(status, placeHolder, filter);
  }

  /** Reveals the folder in the Explorer when the workspace holds it; otherwise offers to add or open it. */
  private async openInExplorer(arg: unknown): Promise<void> {
    const space = await this.spaceFrom(arg, vscode.l10n.t('Shared folder to open'));
    const uri = vscode.Uri.file(space.path);
    if (vscode.workspace.getWorkspaceFolder(uri)) {
      await vscode.commands.executeCommand('revealInExplorer', uri);
      return;
    }
    const choice = await pick(
      [
        { label: vscode.l10n.t('Add to Workspace'), value: 'add' as const },
        { label: vscode.l10n.t('Open in New Window'), value: 'window' as const },
        { label: vscode.l10n.t('Reveal in File Manager'), value: 'os' as const },
      ],
      vscode.l10n.t('{0} is not in this workspace', space.name),
      '',
    );
    if (choice === 'add') {
      vscode.workspace.updateWorkspaceFolders(vscode.workspace.workspaceFolders?.length ?? 0, 0, { uri, name: space.name });
    } else if (choice === 'window') {
      await vscode.commands.executeCommand('vscode.openFolder', uri, { forceNewWindow: true });
    } else {
      await vscode.commands.executeCommand('revealFileInOS', uri);
    }
  }

  private async addMember(arg: unknown): Promise<void> {
    const space = await this.spaceFrom(arg, vscode.l10n.t('Shared folder to add members to'), (s) => s.role === 'owner');
    if (space.role !== 'owner') throw new UserFacingError(vscode.l10n.t('Only an owner of {0} can add members.', space.name));
    const status = requireStatus(await this.session.readyStatus());
    const members = new Set(space.members.filter((m) => m.status !== 'left' && m.status !== 'declined').map((m) => m.user));
    const candidates = status.contacts.filter((c) => !members.has(c.id));
    if (candidates.length === 0) throw new UserFacingError(vscode.l10n.t('All your contacts are already members of {0}.', space.name));
    const chosen = await pickMany(
      candidates.map((c) => ({ label: c.name, description: c.presence, id: c.id })),
      { placeHolder: vscode.l10n.t('Contacts to add to {0}', space.name) },
    );
    const role = await pickRole(vscode.l10n.t("Role of {0} in '{1}'", chosen.map((c) => c.label).join(', '), space.name));
    for (const c of chosen) await this.session.call('addMember', { space: space.id, user: c.id, role });
    void vscode.window.showInformationMessage(vscode.l10n.t('Invited {0} to {1}.', chosen.map((c) => c.label).join(', '), space.name));
  }

  private async setPaused(arg: unknown, paused: boolean): Promise<void> {
    const space = await this.spaceFrom(
      arg,
      paused ? vscode.l10n.t('Shared folder to pause') : vscode.l10n.t('Shared folder to resume'),
      (s) => (s.state.kind === 'paused') !== paused,
    );
    // A folder the engine paused because many files vanished resumes only once the user says what they meant.
    if (!paused && space.state.kind === 'paused' && space.state.reason === 'massDelete')
      return this.resolveMassDelete({ kind: 'space', space: space.id });
    await this.session.call('setPaused', { space: space.id, paused });
  }

  /** Many files vanished at once (a moved or unmounted folder, or a real clean-up): delete them everywhere, or restore them here. */
  async resolveMassDelete(arg: unknown): Promise<void> {
    const space = await this.spaceFrom(
      arg,
      vscode.l10n.t('Shared folder paused after many deletions'),
      (s) => s.state.kind === 'paused' && s.state.reason === 'massDelete',
    );
    if (space.state.kind !== 'paused' || space.state.reason !== 'massDelete') {
      throw new UserFacingError(vscode.l10n.t('{0} is not waiting for an answer about deleted files.', space.name));
    }
    const choice = await pick(
      [
        {
          label: vscode.l10n.t('Restore the Files'),
          description: vscode.l10n.t('bring them back here from the other members'),
          value: 'restore' as const,
        },
        {
          label: vscode.l10n.t('Delete Them Everywhere'),
          description: vscode.l10n.t("the deletions were meant; every member's copy loses them"),
          value: 'delete' as const,
        },
      ],
      vscode.l10n.t('Many files were deleted in {0}. What should happen?', space.name),
      '',
    );
    await this.session.call('resolveMassDelete', { space: space.id, choice });
  }

  private async stopSharing(arg: unknown): Promise<void> {
    const space = await this.spaceFrom(arg, vscode.l10n.t('Shared folder to stop sharing'), (s) => s.role === 'owner');
    if (space.role !== 'owner')
      throw new UserFacingError(vscode.l10n.t('Only an owner of {0} can stop sharing it. You can leave it.', space.name));
    const stop = vscode.l10n.t('Stop Sharing');
    const choice = await vscode.window.showWarningMessage(
      vscode.l10n.t('Stop sharing {0} with everyone?', space.name),
      { modal: true, detail: vscode.l10n.t('Every member keeps the files they have; nothing syncs any more.') },
      stop,
    );
    if (choice !== stop) throw new Cancelled();
    await this.session.call('stopSharing', { space: space.id });
    void vscode.window.showInformationMessage(
      vscode.l10n.t("You stopped sharing '{0}'. Every member keeps the files they have.", space.name),
    );
  }

  /** A member row's space and member, or picked: only an owner may change members (mayChangeSpace). */
  private async memberFrom(arg: unknown, placeHolder: string): Promise<{ space: SpaceView; member: MemberView }> {
    const status = requireStatus(await this.session.readyStatus());
    const ref = refOfKind(arg, 'member');
    const space = ref
      ? status.spaces.find((s) => s.id === ref.space)
      : await pickSpace(status, vscode.l10n.t('Shared folder whose members to manage'), (s) => s.role === 'owner');
    if (!space) throw new UserFacingError(vscode.l10n.t('That shared folder is gone.'));
    if (space.role !== 'owner') {
      throw new UserFacingError(vscode.l10n.t("Only an owner of '{0}' can remove members or change their roles.", space.name));
    }
    const me = status.identity?.user;
    const others = space.members.filter((m) => m.user !== me && m.status !== 'left' && m.status !== 'declined');
    const member = ref
      ? others.find((m) => m.user === ref.user)
      : await pick(
          others.map((m) => ({ label: m.name, description: m.role, value: m })),
          placeHolder,
          vscode.l10n.t("'{0}' has no other members.", space.name),
        );
    if (!member) throw new UserFacingError(vscode.l10n.t("That member is no longer in '{0}'.", space.name));
    return { space, member };
  }

  private async removeMember(arg: unknown): Promise<void> {
    const { space, member } = await this.memberFrom(arg, vscode.l10n.t('Member to remove'));
    const remove = vscode.l10n.t('Remove Member');
    const choice = await vscode.window.showWarningMessage(
      vscode.l10n.t("Remove {0} from '{1}'?", member.name, space.name),
      { modal: true, detail: vscode.l10n.t('{0} keeps the files they have; nothing syncs with them any more.', member.name) },
      remove,
    );
    if (choice !== remove) throw new Cancelled();
    await this.session.call('removeMember', { space: space.id, user: member.user });
    void vscode.window.showInformationMessage(vscode.l10n.t("Removed {0} from '{1}'.", member.name, space.name));
  }

  private async changeRole(arg: unknown): Promise<void> {
    const { space, member } = await this.memberFrom(arg, vscode.l10n.t('Member whose role to change'));
    const current = (role: Role): string | undefined => (role === member.role ? vscode.l10n.t('current role') : undefined);
    const role = await pick<Role>(
      [
        { label: vscode.l10n.t('Editor'), description: current('editor'), detail: vscode.l10n.t('can change files'), value: 'editor' },
        { label: vscode.l10n.t('Reader'), description: current('reader'), detail: vscode.l10n.t('gets a read-only copy'), value: 'reader' },
        {
          label: vscode.l10n.t('Owner'),
          description: current('owner'),
          detail: vscode.l10n.t('can also add and remove members, change roles and stop sharing'),
          value: 'owner',
        },
      ],
      vscode.l10n.t("New role of {0} in '{1}'", member.name, space.name),
      '',
    );
    if (role === member.role) return;
    await this.session.call('changeRole', { space: space.id, user: member.user, role });
    const roleName = { owner: vscode.l10n.t('an owner'), editor: vscode.l10n.t('an editor'), reader: vscode.l10n.t('a reader') }[role];
    void vscode.window.showInformationMessage(vscode.l10n.t("{0} is now {1} of '{2}'.", member.name, roleName, space.name));
  }

  private async leave(arg: unknown): Promise<void> {
    const space = await this.spaceFrom(arg, vscode.l10n.t('Shared folder to leave'));
    const leave = vscode.l10n.t('Leave');
    const choice = await vscode.window.showWarningMessage(
      vscode.l10n.t('Leave {0}?', space.name),
      { modal: true, detail: vscode.l10n.t('Your copy in {0} stays on disk but no longer syncs.', space.path) },
      leave,
    );
    if (choice !== leave) throw new Cancelled();
    await this.session.call('leave', { space: space.id });
  }
}

/** The role of new members; `placeHolder` says which folder is shared with whom. */
async function pickRole(placeHolder: string): Promise<ShareRole> {
  return pick<ShareRole>(
    [
      { label: vscode.l10n.t('Editor'), description: vscode.l10n.t('can change files'), value: 'editor' },
      { label: vscode.l10n.t('Reader'), description: vscode.l10n.t('gets a read-only copy'), value: 'reader' },
    ],
    placeHolder,
    '',
  );
}

/**
 * Where a joined folder opens. A multi-root workspace takes it as one more folder; a window on
 * one folder would have to become an untitled workspace and reload, so it offers a new window
 * instead; an empty window can open it in place.
 */
async function pickWhereToOpen(target: string): Promise<'add' | 'here' | 'window' | 'none'> {
  const multiRoot = vscode.workspace.workspaceFile !== undefined;
  const empty = !multiRoot && (vscode.workspace.workspaceFolders?.length ?? 0) === 0;
  const items: (vscode.QuickPickItem & { value: 'add' | 'here' | 'window' | 'none' })[] = [];
  if (multiRoot)
    items.push({
      label: vscode.l10n.t('Add to Workspace'),
      description: vscode.l10n.t("Show the folder in this window's Explorer"),
      value: 'add',
    });
  if (empty) items.push({ label: vscode.l10n.t('Open Here'), description: vscode.l10n.t('Open the folder in this window'), value: 'here' });
  items.push({ label: vscode.l10n.t('Open in New Window'), description: vscode.l10n.t('Keep this window as it is'), value: 'window' });
  items.push({ label: vscode.l10n.t("Don't Open"), description: vscode.l10n.t('It syncs all the same'), value: 'none' });
  return pick(items, vscode.l10n.t('Open {0}?', target), '');
}

/** Share Folder's argument: a contact row, an Explorer folder (a Uri), or a preset from a drop. */
function presetFrom(arg: unknown): SharePreset {
  if (arg instanceof vscode.Uri) return arg.scheme === 'file' ? { path: arg.fsPath } : {};
  const contact = refOfKind(arg, 'contact');
  if (contact) return { users: [contact.user] };
  if (typeof arg === 'object' && arg !== null && ('path' in arg || 'users' in arg)) return arg as SharePreset;
  return {};
}

function basename(p: string): string {
  return (
    p
      .replace(/[\\/]+$/, '')
      .split(/[\\/]/)
      .pop() ?? p
  );
}
