import * as vscode from 'vscode';
import type { ActivityView } from '../../node/engine/engine-protocol';
import type { EngineSession } from '../engine/engine-session';
import { relativeTime } from '../activity/activity-feed';
import { joinSpacePath } from '../app/space-paths';
import { UserNames } from '../app/user-names';
import { ChangedFiles } from './changed-files';

/** Where the marks are kept, so a window reload keeps them. */
const STATE_KEY = 'sharedFolders.changedFiles';
/** Tooltips say "2 min ago": redraw them this often. */
const REDRAW_MS = 60_000;

/**
 * Marks files other members changed since the user last opened them, in the Explorer (a dot,
 * coloured, with "changed by bob 2 min ago"); opening the file, alone or in a diff, clears it.
 */
export class RemoteChangeDecorations implements vscode.FileDecorationProvider, vscode.Disposable {
  private readonly files: ChangedFiles;
  private readonly _onDidChangeFileDecorations = new vscode.EventEmitter<vscode.Uri[]>();
  readonly onDidChangeFileDecorations = this._onDidChangeFileDecorations.event;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly session: EngineSession,
    private readonly state: vscode.Memento,
  ) {
    this.files = new ChangedFiles(state.get(STATE_KEY));
    this.disposables.push(
      vscode.window.registerFileDecorationProvider(this),
      session.onDidReceiveActivity((a) => this.note([a])),
      session.onDidChangeRunning((running) => {
        if (running) void this.noteHistory();
      }),
      vscode.window.tabGroups.onDidChangeTabs((e) => this.opened([...e.opened, ...e.changed])),
      vscode.window.onDidChangeVisibleTextEditors((editors) => this.openedFiles(editors.map((e) => e.document.uri))),
    );
    this.timer = setInterval(() => this.redraw(this.files.files), REDRAW_MS);
    this.opened(vscode.window.tabGroups.all.flatMap((g) => g.tabs));
    if (session.running) void this.noteHistory();
  }

  /** Changes that came while no window listened: the entries not seen yet. */
  private async noteHistory(): Promise<void> {
    try {
      await this.session.readyStatus();
      const { activities } = await this.session.call('activityHistory', {});
      this.note(activities.filter((a) => a.seen !== true));
    } catch {
      // a host that stopped again: the marks come with the next events
    }
  }

  private note(entries: readonly ActivityView[]): void {
    // A file the user is looking at is not news when it changes.
    this.openedFiles(vscode.window.visibleTextEditors.map((e) => e.document.uri));
    const spaces = this.session.status?.spaces ?? [];
    const marked: string[] = [];
    for (const entry of entries) {
      const space = spaces.find((s) => s.id === entry.space);
      if (!space || entry.user === this.session.identity?.user) continue;
      marked.push(...this.files.note(entry, (path) => vscode.Uri.file(joinSpacePath(space.path, path)).fsPath));
    }
    if (marked.length > 0) this.changed(marked);
  }

  private opened(tabs: readonly vscode.Tab[]): void {
    this.openedFiles(
      tabs.flatMap((tab) => {
        const input = tab.input;
        if (input instanceof vscode.TabInputText) return [input.uri];
        if (input instanceof vscode.TabInputTextDiff) return [input.modified];
        return [];
      }),
    );
  }

  private openedFiles(uris: readonly vscode.Uri[]): void {
    const now = Date.now();
    const cleared = uris.filter((u) => u.scheme === 'file').filter((u) => this.files.open(u.fsPath, now));
    if (cleared.length > 0) this.changed(cleared.map((u) => u.fsPath));
  }

  private changed(files: readonly string[]): void {
    void this.state.update(STATE_KEY, this.files.toJSON());
    this.redraw(files);
  }

  private redraw(files: readonly string[]): void {
    if (files.length > 0) this._onDidChangeFileDecorations.fire(files.map((f) => vscode.Uri.file(f)));
  }

  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    if (uri.scheme !== 'file') return undefined;
    const change = this.files.change(uri.fsPath);
    if (!change) return undefined;
    const who = new UserNames(this.session.status).nameOf(change.user);
    const decoration = new vscode.FileDecoration(
      '●',
      vscode.l10n.t('changed by {0} {1}', who, relativeTime(change.at, Date.now(), vscode.l10n)),
      new vscode.ThemeColor('charts.blue'),
    );
    decoration.propagate = true;
    return decoration;
  }

  dispose(): void {
    clearInterval(this.timer);
    for (const d of this.disposables) d.dispose();
    this._onDidChangeFileDecorations.dispose();
  }
}
