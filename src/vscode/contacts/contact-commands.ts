import * as os from 'node:os';
import * as vscode from 'vscode';
import type { CommandRunner } from '../app/command-runner';
import type { EngineSession } from '../engine/engine-session';
import { Cancelled, Retryable, UserFacingError } from '../app/errors';
import type { IdentityStore } from '../app/identity-store';
import { inviteLink, parseInviteInput } from './invite-link';
import { pickContact, pickPendingContact, requireStatus } from '../app/pickers';
import type { Settings } from '../app/settings';
import { refOfKind } from '../trees/tree-node';
import { Commands } from '../app/commands';

/** The name typed into Set Up, kept until an identity is created with it (a failed Set Up does not lose it). */
const TYPED_NAME = 'sharedFolders.setUp.typedName';

/** Identity and contacts: Set Up, Invite Contact, Add Contact, contact requests, Remove Contact. */
export class ContactCommands {
  constructor(
    private readonly session: EngineSession,
    private readonly identities: IdentityStore,
    private readonly settings: Settings,
    private readonly runner: CommandRunner,
    private readonly memory: vscode.Memento,
  ) {}

  register(): vscode.Disposable[] {
    const r = this.runner;
    return [
      r.register(Commands.setUp, () => this.setUp()),
      r.register(Commands.setUpWithLink, () => this.setUpWithLink()),
      r.register(Commands.linkDevice, () => this.linkDevice()),
      r.register(Commands.inviteContact, () => this.invite()),
      r.register(Commands.addContact, (code?: unknown) => this.addContact(typeof code === 'string' ? code : undefined)),
      r.register(Commands.acceptContact, (arg?: unknown) => this.answerRequest(arg, true)),
      r.register(Commands.declineContact, (arg?: unknown) => this.answerRequest(arg, false)),
      r.register(Commands.removeContact, (arg?: unknown) => this.removeContact(arg)),
    ];
  }

  async setUp(): Promise<void> {
    if (await this.alreadySetUp()) return;
    const server = this.settings.server;
    const name = await vscode.window.showInputBox({
      title: vscode.l10n.t('Set Up Shared Folders'),
      prompt: vscode.l10n.t('Your name, as your contacts will see it (server: {0})', server),
      value: this.memory.get<string>(TYPED_NAME) ?? safeUserName(),
      ignoreFocusOut: true,
      validateInput: (v) =>
        v.trim() === '' ? vscode.l10n.t('Enter a name') : v.length > 64 ? vscode.l10n.t('At most 64 characters') : undefined,
    });
    if (name === undefined) throw new Cancelled();
    await this.memory.update(TYPED_NAME, name.trim());
    await this.createIdentity(name.trim());
  }

  /** Creates the identity on the server set now; Retry after a failure comes back here with the same name. */
  private async createIdentity(name: string, attempt = 1): Promise<void> {
    if (await this.alreadySetUp()) return;
    const server = this.settings.server;
    let created: { identity: { name: string; fingerprint: string }; keys: string };
    try {
      created = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Creating your identity on {0}…', server) },
        () => this.session.call('createIdentity', { server, name }),
      );
    } catch (e) {
      throw new Retryable(e, () => this.createIdentity(name, attempt + 1), attempt);
    }
    const { identity, keys } = created;
    await this.identities.store(keys);
    await this.memory.update(TYPED_NAME, undefined);
    const invite = vscode.l10n.t('Invite Contact');
    const choice = await vscode.window.showInformationMessage(
      vscode.l10n.t('You are set up as {0}. Your fingerprint: {1}', identity.name, identity.fingerprint),
      invite,
    );
    if (choice === invite) await vscode.commands.executeCommand(Commands.inviteContact);
  }

  /** Says who this device is set up as, when it is; a second identity would replace the keys. */
  private async alreadySetUp(): Promise<boolean> {
    await this.session.whenStarted();
    const current = this.session.identity;
    if (!current) return false;
    void vscode.window.showInformationMessage(
      vscode.l10n.t('Shared Folders is set up as {0} on {1}. Your fingerprint: {2}', current.name, current.server, current.fingerprint),
    );
    return true;
  }

  /** Joins this device to a user who already has one (a code from Link Another Device there). */
  async setUpWithLink(): Promise<void> {
    if (await this.alreadySetUp()) return;
    const input = await vscode.window.showInputBox({
      title: vscode.l10n.t('Set Up with Device Link'),
      prompt: vscode.l10n.t('Paste the code from Link Another Device on your other device'),
      placeHolder: 'sf-link-…',
      ignoreFocusOut: true,
      validateInput: (v) =>
        v.trim() !== '' && !/^sf-link-[A-Za-z0-9_-]+$/.test(v.trim()) ? vscode.l10n.t('This is not a device link code') : undefined,
    });
    if (input === undefined || input.trim() === '') throw new Cancelled();
    const server = this.settings.server;
    const { identity, keys } = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Linking this device…') },
      () => this.session.call('createIdentity', { server, name: '', link: input.trim() }),
    );
    await this.identities.store(keys);
    void vscode.window.showInformationMessage(
      vscode.l10n.t(
        'This device is linked to {0}. Your folders and contacts follow. Fingerprint: {1}',
        identity.name,
        identity.fingerprint,
      ),
    );
  }

  async linkDevice(): Promise<void> {
    requireStatus(await this.session.readyStatus());
    const { code } = await this.session.call('createLink', {});
    await vscode.env.clipboard.writeText(code);
    void vscode.window.showInformationMessage(
      vscode.l10n.t('Device link code copied to the clipboard. On your other device run Set Up with Device Link and paste: {0}', code),
    );
  }

  async invite(): Promise<void> {
    requireStatus(await this.session.readyStatus());
    const { code } = await this.session.call('createInvite', {});
    const scheme = vscode.env.uriScheme.startsWith('vscode') ? vscode.env.uriScheme : 'vscode';
    const link = inviteLink(code, scheme);
    await vscode.env.clipboard.writeText(`${code}\n${link}`);
    const copyLink = vscode.l10n.t('Copy Link');
    const copyCode = vscode.l10n.t('Copy Code');
    // Not awaited: the command is done once the code is on the clipboard and on screen.
    void vscode.window
      .showInformationMessage(vscode.l10n.t('Invite code copied to the clipboard. Send it to your contact: {0}', code), copyCode, copyLink)
      .then((choice) => {
        if (choice === copyLink) void vscode.env.clipboard.writeText(link);
        else if (choice === copyCode) void vscode.env.clipboard.writeText(code);
      });
  }

  async addContact(preset?: string): Promise<void> {
    requireStatus(await this.session.readyStatus());
    const input =
      preset ??
      (await vscode.window.showInputBox({
        title: vscode.l10n.t('Add Contact'),
        prompt: vscode.l10n.t('Paste the invite code or link your contact sent you'),
        placeHolder: 'sf-invite-…',
        ignoreFocusOut: true,
        validateInput: (v) =>
          v.trim() !== '' && parseInviteInput(v) === undefined ? vscode.l10n.t('This is not an invite code') : undefined,
      }));
    if (input === undefined) throw new Cancelled();
    const code = parseInviteInput(input);
    if (!code) throw new UserFacingError(vscode.l10n.t('This is not an invite code'));
    await this.accept(code);
  }

  /** Shows a code opened from a link as a contact request and offers to accept it at once. */
  async openInvite(code: string): Promise<void> {
    requireStatus(await this.session.readyStatus());
    const { pending } = await this.session.call('openInvite', { code });
    const accept = vscode.l10n.t('Accept');
    const decline = vscode.l10n.t('Decline');
    const choice = await vscode.window.showInformationMessage(
      vscode.l10n.t('Contact request with fingerprint {0} (server {1}). Accept it?', pending.fingerprint, pending.server),
      accept,
      decline,
    );
    if (choice === accept) await this.accept(pending.code);
    else if (choice === decline) await this.session.call('declineInvite', { code: pending.code });
  }

  private async accept(code: string): Promise<void> {
    const { contact } = await this.session.call('acceptInvite', { code });
    await this.session.refresh();
    const name = this.session.status?.contacts.find((c) => c.id === contact)?.name ?? contact;
    void vscode.window.showInformationMessage(vscode.l10n.t('{0} is now a contact.', name));
  }

  private async answerRequest(arg: unknown, accept: boolean): Promise<void> {
    const status = requireStatus(await this.session.readyStatus());
    const code =
      refOfKind(arg, 'pendingContact')?.code ??
      (await pickPendingContact(status, accept ? vscode.l10n.t('Contact request to accept') : vscode.l10n.t('Contact request to decline')))
        .code;
    if (accept) await this.accept(code);
    else await this.session.call('declineInvite', { code });
  }

  private async removeContact(arg: unknown): Promise<void> {
    const status = requireStatus(await this.session.readyStatus());
    const user = refOfKind(arg, 'contact')?.user ?? (await pickContact(status, vscode.l10n.t('Contact to remove'))).id;
    const name = status.contacts.find((c) => c.id === user)?.name ?? user;
    const remove = vscode.l10n.t('Remove');
    const choice = await vscode.window.showWarningMessage(
      vscode.l10n.t('Remove {0} from your contacts?', name),
      { modal: true, detail: vscode.l10n.t('Folders you share stay shared; you can no longer share new ones with them or chat directly.') },
      remove,
    );
    if (choice !== remove) throw new Cancelled();
    await this.session.call('removeContact', { user });
  }
}

function safeUserName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return '';
  }
}
