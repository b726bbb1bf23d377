/**
 * src/vscode/activity/: the Activity view. activity-feed.ts coalesces the engine's activities into
 * rows (a view model); activity-tree.ts shows them.
 * Extension layer: may import vscode, src/sync and src/node/engine (the client and its protocol
 * types); never src/server, src/cli or native code. Its view models (VIEW_MODELS in
 * eslint.config.mjs) import no vscode, so unit tests run them in plain Node.
 */
import * as vscode from 'vscode';
import { ActivityFeed, activityNodes, type ActivityEntry } from './activity-feed';
import type { ActivityView } from '../../node/engine/engine-protocol';
import type { EngineSession } from '../engine/engine-session';
import { Cancelled } from '../app/errors';
import { joinSpacePath } from '../app/space-paths';
import { NodeTreeProvider } from '../trees/tree-item-adapter';
import { refOfKind, type TreeNode } from '../trees/tree-node';
import { Commands } from '../app/commands';

export const ACTIVITY_VIEW = 'sharedFolders.activity';
/** Relative times ("5 min ago") go stale; redraw this often while the view is visible. */
const REDRAW_MS = 60_000;
/** Activities remembered for the rebuild; the host keeps 200. */
const KNOWN_MAX = 400;

/** The Activity view: a coalesced feed of what happened in the shared folders, newest first. */
export class ActivityTree implements vscode.Disposable {
  readonly feed = new ActivityFeed();
  private readonly provider = new NodeTreeProvider();
  private readonly view: vscode.TreeView<TreeNode>;
  private readonly disposables: vscode.Disposable[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Every activity this window knows, by id: from the host's kept history and from events. */
  private readonly known = new Map<string, ActivityView>();

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
        if (this.known.has(a.id)) return;
        this.remember(a);
        this.feed.add(a);
        this.refresh();
      }),
      session.onDidChangeRunning((running) => {
        if (running) void this.loadHistory();
      }),
      session.onDidChangeStatus(() => this.refresh()),
      this.view.onDidChangeVisibility((e) => this.redrawWhileVisible(e.visible)),
    );
    this.redrawWhileVisible(this.view.visible);
    this.refresh();
    if (session.running) void this.loadHistory();
  }

  /** What happened before this window (or this host) started: the host keeps the last entries. */
  private async loadHistory(): Promise<void> {
    let activities: readonly ActivityView[];
    try {
      // After the status: whether an invitation was to this user depends on the spaces it is in.
      await this.session.readyStatus();
      ({ activities } = await this.session.call('activityHistory', {}));
    } catch {
      return; // an older host, or one that stopped again: the feed fills from events
    }
    if (activities.every((a) => this.known.has(a.id))) return;
    for (const a of activities) this.remember(a);
    // Rebuilt in time order, so older entries never land above newer ones and coalescing holds.
    this.feed.clear();
    for (const a of [...this.known.values()].sort((x, y) => x.at - y.at)) this.feed.add(a);
    this.refresh();
  }

  private remember(a: ActivityView): void {
    this.known.set(a.id, a);
    if (this.known.size > KNOWN_MAX) this.known.delete(this.known.keys().next().value!);
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
        await vscode.commands.executeCommand(Commands.resolveConflict, { kind: 'conflict', space: entry.space, path });
        return;
      }
      case 'changed':
      case 'merged':
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
    const chosen = await vscode.window.showQuickPick(
      entry.paths.map((p) => ({ label: p })),
      { placeHolder: vscode.l10n.t('Choose a file to open') },
    );
    if (!chosen) throw new Cancelled();
    return chosen.label;
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}
