import * as vscode from 'vscode';
import type { ActiveEditorView } from '../../node/engine/engine-protocol';
import type { CommandRunner } from '../app/command-runner';
import type { EngineSession } from '../engine/engine-session';
import { UserFacingError } from '../app/errors';
import { cannotFollowText, followEndInStatus, followEndText, latestEditorOf, type FollowEnd, type Followed } from './follow-target';
import { joinSpacePath } from '../app/space-paths';
import { refOfKind } from '../trees/tree-node';
import { Commands } from '../app/commands';

/**
 * A member with no shared file in front of them for this long has left it. Shorter gaps are a
 * switch between editors (VS Code may report no active editor in between) or a channel that came
 * up again (the host forgets, then hears again, where the member is).
 */
const CLOSED_GRACE_MS = 1_500;

/**
 * Follow: this window shows the file a member has in their active editor, scrolled to their first
 * visible line, as their `activeEditor` notices arrive. Following stops when the user types,
 * clicks into the text or switches to another editor themselves; and, with a message saying why,
 * when the member closes their file, leaves the folder or goes offline, or the folder is unshared.
 */
export class FollowMember implements vscode.Disposable {
  /** The latest notice of every member device, by device. */
  private readonly editors = new Map<string, ActiveEditorView & { at: number }>();
  private following: Followed | undefined;
  /** The file this class is opening: its editor becoming active is not the user switching away. */
  private revealing: string | undefined;
  private closedTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly status = vscode.window.createStatusBarItem('sharedFolders.following', vscode.StatusBarAlignment.Left, 100);
  private readonly disposables: vscode.Disposable[] = [];

  private readonly _onDidChangeFollowing = new vscode.EventEmitter<void>();
  /** Following began or ended, or the followed member moved to another space. */
  readonly onDidChangeFollowing = this._onDidChangeFollowing.event;

  constructor(
    private readonly engine: EngineSession,
    private readonly runner: CommandRunner,
  ) {
    this.status.name = vscode.l10n.t('Shared Folders: Following');
    this.status.command = Commands.stopFollowing;
    this.disposables.push(
      this.status,
      this._onDidChangeFollowing,
      engine.onDidChangeActiveEditor((view) => this.noticed(view)),
      engine.onDidChangeStatus(() => this.checkStatus()),
      vscode.window.onDidChangeActiveTextEditor((editor) => {
        if (!this.following || !editor) return;
        if (editor.document.uri.toString() !== this.revealing) this.stop();
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        const byUser = e.kind === vscode.TextEditorSelectionChangeKind.Keyboard || e.kind === vscode.TextEditorSelectionChangeKind.Mouse;
        if (this.following && byUser && e.textEditor === vscode.window.activeTextEditor) this.stop();
      }),
    );
  }

  /** The member followed now (their user id and latest space), for the active editor's notices. */
  get followed(): { readonly user: string; readonly space: string } | undefined {
    return this.following && { user: this.following.user, space: this.following.space };
  }

  register(): vscode.Disposable[] {
    return [
      this.runner.register(Commands.followMember, (arg?: unknown) => this.follow(arg)),
      this.runner.register(Commands.stopFollowing, () => this.stop()),
    ];
  }

  private async follow(arg: unknown): Promise<void> {
    const ref = refOfKind(arg, 'member');
    if (!ref) throw new UserFacingError(vscode.l10n.t('Pick a member in the Shared Folders view to follow.'));
    const space = this.engine.status?.spaces.find((s) => s.id === ref.space);
    const member = space?.members.find((m) => m.user === ref.user);
    const name = member?.name || ref.user.slice(0, 8);
    const followed: Followed = { user: ref.user, name, space: ref.space, folder: space?.name ?? ref.space.slice(0, 8) };
    const end = followEndInStatus(this.engine.status, followed);
    if (end) throw new UserFacingError(cannotFollowText(end, followed, vscode.l10n));
    this.following = followed;
    this.status.text = `$(eye) ${vscode.l10n.t('Following {0}', name)}`;
    this.status.tooltip = vscode.l10n.t('Click to stop following {0}', name);
    this.status.show();
    this._onDidChangeFollowing.fire();
    const latest = latestEditorOf([...this.editors.values()], ref.user);
    if (latest?.path !== undefined) await this.reveal(latest);
    else
      void vscode.window.showInformationMessage(
        vscode.l10n.t('Following {0}: their editor shows here once they open a file of a shared folder.', name),
      );
  }

  /** Ends following; `end` says why when the member (or the folder) ended it, and the user is told. */
  private stop(end?: FollowEnd): void {
    const followed = this.following;
    if (!followed) return;
    this.following = undefined;
    this.revealing = undefined;
    this.cancelClosedTimer();
    this.status.hide();
    this._onDidChangeFollowing.fire();
    if (end) void vscode.window.showInformationMessage(followEndText(end, followed, vscode.l10n));
  }

  private checkStatus(): void {
    if (!this.following) return;
    const end = followEndInStatus(this.engine.status, this.following);
    if (end) this.stop(end);
  }

  private noticed(view: ActiveEditorView): void {
    this.editors.set(view.device, { ...view, at: Date.now() });
    const followed = this.following;
    if (followed?.user !== view.user) return;
    const latest = latestEditorOf([...this.editors.values()], view.user);
    if (latest?.path !== undefined) {
      this.cancelClosedTimer();
      const moved = latest.space !== followed.space;
      const folder = this.engine.status?.spaces.find((s) => s.id === latest.space)?.name ?? followed.folder;
      this.following = { ...followed, space: latest.space, folder, path: latest.path };
      if (moved) this._onDidChangeFollowing.fire();
      void this.reveal(latest).catch(() => undefined);
    } else if (!this.closedTimer) {
      this.closedTimer = setTimeout(() => {
        this.closedTimer = undefined;
        const now = this.following && latestEditorOf([...this.editors.values()], this.following.user);
        if (this.following && now?.path === undefined)
          this.stop(followEndInStatus(this.engine.status, this.following) ?? { kind: 'closed' });
      }, CLOSED_GRACE_MS);
    }
  }

  private cancelClosedTimer(): void {
    if (this.closedTimer) clearTimeout(this.closedTimer);
    this.closedTimer = undefined;
  }

  private async reveal(view: ActiveEditorView): Promise<void> {
    const space = this.engine.status?.spaces.find((s) => s.id === view.space);
    if (!space || view.path === undefined) return;
    const uri = vscode.Uri.file(joinSpacePath(space.path, view.path));
    this.revealing = uri.toString();
    const current = vscode.window.activeTextEditor;
    const editor =
      current?.document.uri.toString() === this.revealing
        ? current
        : await vscode.window.showTextDocument(uri, { preview: false, preserveFocus: false });
    if (!this.following) return;
    const line = Math.max(0, Math.min(view.top ?? 0, editor.document.lineCount - 1));
    editor.revealRange(new vscode.Range(line, 0, line, 0), vscode.TextEditorRevealType.AtTop);
  }

  dispose(): void {
    this.cancelClosedTimer();
    for (const d of this.disposables) d.dispose();
  }
}
