import type * as vscode from 'vscode';
import type { ContextKeys } from './context-keys';
import type { EngineSession } from '../engine/engine-session';
import type { IdentityStore } from './identity-store';

/**
 * Keeps the context keys behind the welcome views and menus in line with the engine's status.
 * Before the host answers, "has identity" comes from SecretStorage, so the Set Up welcome does
 * not flash for users who are set up.
 */
export class ViewContext implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly session: EngineSession,
    private readonly keys: ContextKeys,
    identities: IdentityStore,
    private readonly onIdentity: (hasIdentity: boolean) => void,
  ) {
    this.disposables.push(
      session.onDidChangeStatus(() => this.update()),
      session.onDidChangeRunning((running) => this.keys.set('sharedFolders.engineStopped', !running)),
    );
    void Promise.resolve(identities.hasKeys()).then((has) => {
      if (this.session.status) return;
      this.setIdentity(has);
    });
  }

  setTrusted(trusted: boolean): void {
    this.keys.set('sharedFolders.untrusted', !trusted);
    if (!trusted) this.keys.set('sharedFolders.ready', true);
  }

  private setIdentity(has: boolean): void {
    this.keys.set('sharedFolders.hasIdentity', has);
    this.onIdentity(has);
  }

  private update(): void {
    const status = this.session.status;
    if (!status) return;
    this.keys.set('sharedFolders.ready', true);
    this.setIdentity(status.identity !== undefined);
    this.keys.set('sharedFolders.hasContacts', status.contacts.length > 0 || status.pendingContacts.length > 0);
    this.keys.set('sharedFolders.hasFolders', status.spaces.length > 0 || status.invitations.length > 0);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
