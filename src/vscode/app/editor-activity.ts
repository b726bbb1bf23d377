import * as vscode from 'vscode';
import type { EngineSession } from '../engine/engine-session';

/** The user counts as away after this long without focus on the window. */
const AWAY_AFTER_MS = 5 * 60_000;
const OPEN_FILES_DEBOUNCE_MS = 500;

/**
 * Tells the engine what the user is doing: which files are open (their blocks are fetched first)
 * and whether the user is at the keyboard (presence online or away).
 */
export class EditorActivity implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private openFilesTimer: ReturnType<typeof setTimeout> | undefined;
  private awayTimer: ReturnType<typeof setTimeout> | undefined;
  private away = false;

  constructor(private readonly session: EngineSession) {
    this.disposables.push(
      vscode.window.tabGroups.onDidChangeTabs(() => this.scheduleOpenFiles()),
      session.onDidChangeRunning((running) => {
        if (running) this.scheduleOpenFiles();
      }),
      vscode.window.onDidChangeWindowState((s) => this.onWindowState(s.focused)),
    );
  }

  private scheduleOpenFiles(): void {
    if (this.openFilesTimer) clearTimeout(this.openFilesTimer);
    this.openFilesTimer = setTimeout(() => this.sendOpenFiles(), OPEN_FILES_DEBOUNCE_MS);
  }

  private sendOpenFiles(): void {
    if (!this.session.running) return;
    const paths = new Set<string>();
    for (const tab of vscode.window.tabGroups.all.flatMap((g) => g.tabs)) {
      const input = tab.input;
      if (input instanceof vscode.TabInputText && input.uri.scheme === 'file') paths.add(input.uri.fsPath);
      if (input instanceof vscode.TabInputTextDiff && input.modified.scheme === 'file') paths.add(input.modified.fsPath);
    }
    this.session.call('setOpenFiles', { paths: [...paths] }).catch(() => undefined);
  }

  private onWindowState(focused: boolean): void {
    if (this.awayTimer) clearTimeout(this.awayTimer);
    this.awayTimer = undefined;
    if (focused) {
      if (this.away) this.setPresence('online');
      return;
    }
    this.awayTimer = setTimeout(() => this.setPresence('away'), AWAY_AFTER_MS);
  }

  private setPresence(presence: 'online' | 'away'): void {
    this.away = presence === 'away';
    if (this.session.running) this.session.call('setPresence', { presence }).catch(() => undefined);
  }

  dispose(): void {
    if (this.openFilesTimer) clearTimeout(this.openFilesTimer);
    if (this.awayTimer) clearTimeout(this.awayTimer);
    for (const d of this.disposables) d.dispose();
  }
}
