import * as vscode from 'vscode';

/** Context keys the package.json `when` clauses use (welcome views, menus). */
export type ContextKey =
  | 'sharedFolders.ready'
  | 'sharedFolders.engineStopped'
  | 'sharedFolders.untrusted'
  | 'sharedFolders.hasIdentity'
  | 'sharedFolders.hasContacts'
  | 'sharedFolders.hasFolders'
  | 'sharedFolders.activeConflict'
  | 'sharedFolders.hasConflicts';

/** Sets context keys, skipping values that did not change (each set is a round trip to the renderer). */
export class ContextKeys {
  private readonly values = new Map<ContextKey, boolean>();

  set(key: ContextKey, value: boolean): void {
    if (this.values.get(key) === value) return;
    this.values.set(key, value);
    void vscode.commands.executeCommand('setContext', key, value);
  }
}
