import * as vscode from 'vscode';
import { ActivityFeed, activityNodes, type ActivityEntry } from './activity-feed';
import type { EngineSession } from './engine-session';
import { Cancelled } from './errors';
import { joinSpacePath } from './space-paths';
import { NodeTreeProvider } from './tree-item-adapter';
import { refOfKind, type TreeNode } from './tree-node';

export const ACTIVITY_VIEW = 'sharedFolders.activity';
/** Relative times ("5 min ago") go stale; redraw this often while the view is visible. */
const REDRAW_MS = 60_000;

/** The Activity view: a coalesced feed of what happened in the shared folders, newest first. */
export class ActivityTree implements vscode.Disposable {
  readonly feed = new ActivityFeed();
  private readonly provider = new NodeTreeProvider();
  private readonly view: vscode.TreeView<TreeNode>;
  private readonly disposables: vscode.Disposable[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly session: EngineSession,
    private readonly revealSpace: (space: string) => Promise<void>,
    private readonly markSpaceSeen: (space: string) => void,
  ) {
    this.view = vscode.window.createTreeView(ACTIVITY_VIEW, { treeDataProvider: this.provider });
    this.disposables.push(
      this.view,
      this.provider,
      session.onDidReceiveActivity((a) => {
        this.feed.add(a, this.session.status?.spaces.some((s) => s.id === a.space) ?? false);
        this.refresh();
      }),
      session.onDidChangeStatus(() => this.refresh()),
      this.view.onDidChangeVisibility((e) => this.redrawWhileVisible(e.visible)),
    );
    this.redrawWhileVisible(this.view.visible);
    this.refresh();
  }

  private refresh(): void {
    this.provider.setNodes(activityNodes(this.feed, this.session.status, Date.now(), vscode.l10n));
  }

  private redrawWhileVisible(visible: boolean): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = visible ? setInterval(() => this.refresh(), REDRAW_MS) : undefined;
  }

  /** What clicking a row does: opens the file, the conflict, or the folder it is about. */
  async open(arg: unknown): Promise<void> {
    const ref = refOfKind(arg, 'activity');
    const entry = ref ? this.feed.entry(ref.entry) : undefined;
    if (!entry) return;
    this.markSpaceSeen(entry.space);
    const space = this.session.status?.spaces.find((s) => s.id === entry.space);
    switch (entry.kind) {
      case 'conflict': {
        const path = await this.choosePath(entry);
        await vscode.commands.executeCommand('sharedFolders.resolveConflict', { kind: 'conflict', space: entry.space, path });
        return;
      }
      case 'changed':
      case 'error': {
        if (!space || entry.paths.length === 0) return this.revealSpace(entry.space);
        const path = await this.choosePath(entry);
        await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(joinSpacePath(space.path, path)));
        return;
      }
      case 'joined':
      case 'left':
      case 'invited':
        return this.revealSpace(entry.space);
    }
  }

  private async choosePath(entry: ActivityEntry): Promise<string> {
    if (entry.paths.length === 1) return entry.paths[0] as string;
    const chosen = await vscode.window.showQuickPick(entry.paths.map((p) => ({ label: p })), { placeHolder: vscode.l10n.t('Choose a file to open') });
    if (!chosen) throw new Cancelled();
    return chosen.label;
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}
