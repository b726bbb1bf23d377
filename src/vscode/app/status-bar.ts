import * as vscode from 'vscode';
import type { EngineSession } from '../engine/engine-session';
import { summarize } from './status-summary';
import { Commands } from './commands';

/** One status bar item with the overall state; clicking it opens the Shared Folders views. */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('sharedFolders.status', vscode.StatusBarAlignment.Left, 10);
  private readonly disposables: vscode.Disposable[] = [];
  private trusted = vscode.workspace.isTrusted;
  private hasIdentity = false;

  constructor(private readonly session: EngineSession) {
    this.item.name = vscode.l10n.t('Shared Folders');
    this.item.command = 'workbench.view.extension.sharedFolders';
    this.disposables.push(
      this.item,
      session.onDidChangeStatus(() => this.update()),
    );
    this.update();
    this.item.show();
  }

  setTrusted(trusted: boolean): void {
    this.trusted = trusted;
    this.update();
  }

  setHasIdentity(hasIdentity: boolean): void {
    this.hasIdentity = hasIdentity;
    this.update();
  }

  private update(): void {
    const summary = summarize({ status: this.session.status, trusted: this.trusted, hasIdentity: this.hasIdentity }, vscode.l10n);
    this.item.text = summary.text;
    this.item.tooltip = summary.tooltip;
    this.item.backgroundColor = summary.warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.command =
      summary.kind === 'conflicts'
        ? { command: Commands.resolveConflict, title: vscode.l10n.t('Resolve Conflict') }
        : summary.kind === 'notSetUp'
          ? { command: Commands.setUp, title: vscode.l10n.t('Set Up') }
          : 'workbench.view.extension.sharedFolders';
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
