import * as fs from 'node:fs/promises';
import * as nodePath from 'node:path';
import * as vscode from 'vscode';
import type { CommandRunner } from '../app/command-runner';
import { Commands } from '../app/commands';
import type { EngineSession } from '../engine/engine-session';
import type { EngineStarter } from '../engine/engine-starter';
import { Cancelled, serverAddressProblem } from '../app/errors';
import type { IdentityStore } from '../app/identity-store';
import type { Settings } from '../app/settings';

/** Where Reset Identity moves the engine's files: inside the home, so the new identity starts from an empty one. */
export const PREVIOUS_IDENTITIES = 'previous-identities';

/**
 * The server and the identity itself: Set Server Address (before Set Up), Change Server (an
 * identity whose server moved), Sign Out / Reset Identity, and the README's server section.
 */
export class IdentityCommands {
  constructor(
    private readonly session: EngineSession,
    private readonly starter: EngineStarter,
    private readonly identities: IdentityStore,
    private readonly settings: Settings,
    private readonly runner: CommandRunner,
    /** The engine host's home (the extension's global storage). */
    private readonly home: string,
    private readonly extensionUri: vscode.Uri,
  ) {}

  register(): vscode.Disposable[] {
    const r = this.runner;
    return [
      r.register(Commands.setServerAddress, () => this.setServerAddress()),
      r.register(Commands.changeServer, () => this.setServerAddress()),
      r.register(Commands.resetIdentity, () => this.resetIdentity()),
      r.register(Commands.openServerHelp, () => this.openServerHelp()),
    ];
  }

  /**
   * Asks for a `ws://` or `wss://` address and keeps it in sharedFolders.server. A device that is
   * set up moves there too (the same server at a new address) and signs in again at once.
   */
  async setServerAddress(): Promise<void> {
    const identity = this.session.identity;
    const address = await vscode.window.showInputBox({
      title: identity ? vscode.l10n.t('Change Server') : vscode.l10n.t('Set Server Address'),
      prompt: identity
        ? vscode.l10n.t(
            'The new address of your server ({0} now). Your identity must be known there: the same server, moved.',
            identity.server,
          )
        : vscode.l10n.t('The address of the Shared Folders server, ws://HOST:PORT or wss://HOST'),
      value: identity?.server ?? this.settings.server,
      placeHolder: vscode.l10n.t('wss://sf.example.org'),
      ignoreFocusOut: true,
      validateInput: (v) => serverAddressProblem(v, vscode.l10n),
    });
    if (address === undefined) throw new Cancelled();
    const server = address.trim();
    await this.settings.setServer(server);
    if (!identity) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Server address set to {0}. Set Up creates your identity there.', server));
      return;
    }
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Connecting to {0}…', server) },
      () => this.session.call('setServer', { server }),
    );
    void vscode.window.showInformationMessage(vscode.l10n.t('Shared Folders now uses the server {0}.', server));
  }

  /**
   * Forgets this device's identity: the keys leave SecretStorage and the engine's files (chat
   * history, sync state) move aside into the home's previous-identities folder, so Set Up starts
   * over. Shared folders on disk are left exactly as they are.
   */
  async resetIdentity(): Promise<void> {
    const identity = this.session.identity;
    const reset = vscode.l10n.t('Reset Identity');
    const choice = await vscode.window.showWarningMessage(
      identity
        ? vscode.l10n.t('Sign out {0} and reset this device’s identity?', identity.name)
        : vscode.l10n.t('Reset this device’s identity?'),
      {
        modal: true,
        detail: vscode.l10n.t(
          'This device forgets its keys and stops syncing; Set Up starts over with a new identity. Nothing is deleted: your shared folders stay on disk as they are, and their sync state and chat history are kept in {0}.',
          nodePath.join(this.home, PREVIOUS_IDENTITIES),
        ),
      },
      reset,
    );
    if (choice !== reset) throw new Cancelled();
    await this.starter.restartAround(async () => {
      await moveAside(this.home, new Date());
      await this.identities.forget();
    });
    void vscode.window.showInformationMessage(
      vscode.l10n.t('This device has no identity any more. Your shared folders are still on disk. Run Set Up to start again.'),
    );
  }

  async openServerHelp(): Promise<void> {
    const readme = vscode.Uri.joinPath(this.extensionUri, 'README.md').with({ fragment: 'first-run-a-server' });
    await vscode.commands.executeCommand('markdown.showPreview', readme);
  }
}

/** Moves every entry of `home` but the folder of earlier resets into previous-identities/<time>. */
async function moveAside(home: string, now: Date): Promise<void> {
  const entries = await fs.readdir(home).catch(() => [] as string[]);
  const target = nodePath.join(home, PREVIOUS_IDENTITIES, now.toISOString().replace(/[:.]/g, '-'));
  await fs.mkdir(target, { recursive: true, mode: 0o700 });
  for (const entry of entries) {
    if (entry === PREVIOUS_IDENTITIES) continue;
    await fs.rename(nodePath.join(home, entry), nodePath.join(target, entry));
  }
}
