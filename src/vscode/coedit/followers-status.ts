import * as vscode from 'vscode';
import type { ActiveEditorView } from '../../node/engine/engine-protocol';
import type { EngineSession } from '../engine/engine-session';
import { followersOf, followersText } from './follow-target';

/**
 * Tells the user who follows them ("bob is following you" in the status bar): a member who
 * follows sees whatever this user has in front of them, so this user should know. Kept from each
 * member device's latest `activeEditor` notice, which says whom that device's user follows; a
 * device that goes offline sends its last notice without it.
 */
export class FollowersStatus implements vscode.Disposable {
  private readonly latest = new Map<string, ActiveEditorView>();
  private readonly item = vscode.window.createStatusBarItem('sharedFolders.followers', vscode.StatusBarAlignment.Left, 99);
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly engine: EngineSession) {
    this.item.name = vscode.l10n.t('Shared Folders: Followers');
    this.disposables.push(
      this.item,
      engine.onDidChangeActiveEditor((view) => {
        this.latest.set(view.device, view);
        this.refresh();
      }),
      engine.onDidChangeRunning((running) => {
        // A new host hears every device again; what the old one said is gone with it.
        if (!running) this.latest.clear();
        this.refresh();
      }),
    );
  }

  private refresh(): void {
    const me = this.engine.identity?.user;
    const names = me === undefined ? [] : followersOf(this.latest.values(), me);
    const text = followersText(names, vscode.l10n);
    if (text === undefined) {
      this.item.hide();
      return;
    }
    this.item.text = `$(eye) ${text}`;
    this.item.tooltip = vscode.l10n.t('They see the shared file you have open, where you are in it.');
    this.item.show();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
