/**
 * src/vscode/activity/: the Activity view. activity-feed.ts keeps the engine's entries as rows,
 * newest first (a view model); activity-tree.ts shows them and opens what they are about.
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
import type { Settings } from '../app/settings';
import { UserNames } from '../app/user-names';

export const ACTIVITY_VIEW = 'sharedFolders.activity';
/** Relative times ("5 min ago") go stale; redraw this often while the view is visible. */
const REDRAW_MS = 60_000;
/** Activities remembered for the rebuild: as many as the host keeps. */
const KNOWN_MAX = 200;

/**
 * The Activity view: the engine's entries of what happened in the shared folders, newest first,
 * the unseen ones marked new. Opening an entry marks it seen; a change to one file opens as a diff.
 */
export class ActivityTree implements vscode.Disposable {
  readonly feed = new ActivityFeed({ maxEntries: KNOWN_MAX });
  private readonly provider = new NodeTreeProvider();
  private readonly view: vscode.TreeView<TreeNode>;
  private readonly disposables: vscode.Disposable[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Every activity this window knows, by id, as last sent: from the host's kept history and from events. */
  private readonly known = new Map<string, ActivityView>();

  constructor(
    private readonly session: EngineSession,
    private readonly settings: Settings,
    private readonly revealSpace: (space: string) => Promise<void>,
  ) {
    this.view = vscode.window.createTreeView(ACTIVITY_VIEW, { treeDataProvider: this.provider });
    this.disposables.push(
      this.view,
      this.provider,
      session.onDidReceiveActivity((a) => {
        this.remember(a);
        this.feed.add(a);
        this.refresh();
      }),
      session.onDidChangeRunning((running) => {
        if (!running) return;
        this.sendOptions();
        void this.loadHistory();
      }),
      settings.onDidChangeActivity(() => this.sendOptions()),
      session.onDidChangeStatus(() => this.refresh()),
      this.view.onDidChangeVisibility((e) => this.redrawWhileVisible(e.visible)),
      // Looking at an entry about several files (selecting or expanding it) is seeing it.
      this.view.onDidChangeSelection((e) => e.selection.forEach((n) => this.markSeen(n))),
      this.view.onDidExpandElement((e) => this.markSeen(e.element)),
    );
    this.redrawWhileVisible(this.view.visible);
    this.refresh();
    if (session.running) {
      this.sendOptions();
      void this.loadHistory();
    }
  }

  private sendOptions(): void {
    this.session.call('setActivityOptions', { groupWithinMs: this.settings.activityGroupWithinMs }).catch(() => undefined);
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
    // The host's list is the truth: its entries, as they are now (seen or grown since).
    this.known.clear();
    for (const a of activities) this.remember(a);
    this.feed.clear();
    for (const a of this.known.values()) this.feed.add(a);
    this.refresh();
  }

  private remember(a: ActivityView): void {
    this.known.delete(a.id);
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

  private markSeen(node: TreeNode): void {
    const ref = refOfKind(node, 'activity');
    const entry = ref ? this.feed.entry(ref.entry) : undefined;
    if (!entry || entry.seen === true) return;
    this.session.call('markSeen', { space: entry.space, entry: entry.id }).catch(() => undefined);
  }

  /** What clicking a row does: shows the change, opens the conflict, or reveals the folder it is about. */
  async open(arg: unknown): Promise<void> {
    const ref = refOfKind(arg, 'activity');
    const entry = ref ? this.feed.entry(ref.entry) : undefined;
    if (!ref || !entry) return;
    if (entry.seen !== true) this.session.call('markSeen', { space: entry.space, entry: entry.id }).catch(() => undefined);
    const space = this.session.status?.spaces.find((s) => s.id === entry.space);
    switch (entry.kind) {
      case 'conflict': {
        const path = ref.path ?? (await this.choosePath(entry));
        await vscode.commands.executeCommand(Commands.resolveConflict, { kind: 'conflict', space: entry.space, path });
        return;
      }
      case 'changed':
      case 'merged':
      case 'error': {
        if (!space || entry.paths.length === 0) return this.revealSpace(entry.space);
        const path = ref.path ?? (await this.choosePath(entry));
        const file = vscode.Uri.file(joinSpacePath(space.path, path));
        if (entry.kind === 'changed') return this.showChange(entry, path, file);
        await vscode.commands.executeCommand('vscode.open', file);
        return;
      }
      case 'joined':
      case 'left':
      case 'invited':
        return this.revealSpace(entry.space);
    }
  }

  /** The file before the entry's change against the file now; the file alone when there is no before (a new file). */
  private async showChange(entry: ActivityEntry, path: string, file: vscode.Uri): Promise<void> {
    const { file: previous } = await this.session.call('previousVersion', { activity: entry.id, path });
    const exists = await vscode.workspace.fs.stat(file).then(
      () => true,
      () => false,
    );
    if (previous === undefined || !exists) {
      await vscode.commands.executeCommand('vscode.open', previous !== undefined && !exists ? vscode.Uri.file(previous) : file);
      return;
    }
    const name = path.slice(path.lastIndexOf('/') + 1);
    const who = entry.user === undefined ? undefined : new UserNames(this.session.status).nameOf(entry.user);
    const title = who === undefined ? vscode.l10n.t('{0} (remote change)', name) : vscode.l10n.t("{0} ({1}'s change)", name, who);
    await vscode.commands.executeCommand('vscode.diff', vscode.Uri.file(previous), file, title);
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
