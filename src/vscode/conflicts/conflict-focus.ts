import * as vscode from 'vscode';
import type { ConflictView } from '../../node/engine/engine-protocol';
import type { ContextKeys } from '../app/context-keys';
import type { EngineSession } from '../engine/engine-session';
import { allConflicts, conflictOfFile, currentConflict } from './conflict-lookup';
import { CONFLICT_SCHEME, conflictFromUri } from './conflict-uri';

/**
 * Which conflict the user is looking at, for the commands and the `when` clauses of package.json:
 * `sharedFolders.activeConflict` while the active editor shows a conflicted file, its copy or
 * its diff (the editor title then offers the choices); `sharedFolders.hasConflicts` while any
 * conflict is open (the palette lists the choices only then).
 */
export class ConflictFocus implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly session: EngineSession,
    private readonly contextKeys: ContextKeys,
  ) {
    const update = (): void => this.update();
    this.disposables.push(
      vscode.window.tabGroups.onDidChangeTabs(update),
      vscode.window.tabGroups.onDidChangeTabGroups(update),
      vscode.window.onDidChangeActiveTextEditor(update),
      session.onDidChangeStatus(update),
    );
    this.update();
  }

  /** The conflict the active editor tab shows: its diff, the conflicted file or its copy. */
  activeConflict(): ConflictView | undefined {
    const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    const status = this.session.status;
    if (input instanceof vscode.TabInputTextDiff && input.original.scheme === CONFLICT_SCHEME) {
      const ref = conflictFromUri(input.original.query);
      return ref ? (currentConflict(status, ref) ?? ref) : undefined;
    }
    if (input instanceof vscode.TabInputText && input.uri.scheme === 'file') return conflictOfFile(status, input.uri.fsPath);
    return undefined;
  }

  private update(): void {
    this.contextKeys.set('sharedFolders.hasConflicts', allConflicts(this.session.status).length > 0);
    this.contextKeys.set('sharedFolders.activeConflict', this.activeConflict() !== undefined);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
