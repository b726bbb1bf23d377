import * as vscode from 'vscode';
import type { ActiveEditorView } from '../../node/engine/engine-protocol';
import type { CommandRunner } from '../app/command-runner';
import type { EngineSession } from '../engine/engine-session';
import { UserFacingError } from '../app/errors';
import { latestEditorOf } from './follow-target';
import { joinSpacePath } from '../app/space-paths';
import { refOfKind } from '../trees/tree-node';
import { Commands } from '../app/commands';

/**
 * Follow: this window shows the file a member has in their active editor, scrolled to their first
 * visible line, as their `activeEditor` notices arrive. Following stops when the user types,
 * clicks into the text or switches to another editor themselves.
 */
export class FollowMember implements vscode.Disposable {
  /** The latest notice of every member device, by device. */
  private readonly editors = new Map<string, ActiveEditorView & { at: number }>();
  private following: { user: string; name: string } | undefined;
  /** The file this class is opening: its editor becoming active is not the user switching away. */
  private revealing: string | undefined;
  private readonly status = vscode.window.createStatusBarItem('sharedFolders.following', vscode.StatusBarAlignment.Left, 100);
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly engine: EngineSession,
    private readonly runner: CommandRunner,
  ) {
    this.status.name = vscode.l10n.t('Shared Folders: Following');
    this.status.command = Commands.stopFollowing;
    this.disposables.push(
      this.status,
      engine.onDidChangeActiveEditor((view) => this.noticed(view)),
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

  register(): vscode.Disposable[] {
    return [
      this.runner.register(Commands.followMember, (arg?: unknown) => this.follow(arg)),
      this.runner.register(Commands.stopFollowing, () => this.stop()),
    ];
  }

  private async follow(arg: unknown): Promise<void> {
    const ref = refOfKind(arg, 'member');
    if (!ref) throw new UserFacingError(vscode.l10n.t('Pick a member in the Shared Folders view to follow.'));
    const member = this.engine.status?.spaces.find((s) => s.id === ref.space)?.members.find((m) => m.user === ref.user);
    const name = member?.name || ref.user.slice(0, 8);
    this.following = { user: ref.user, name };
    this.status.text = `$(eye) ${vscode.l10n.t('Following {0}', name)}`;
    this.status.tooltip = vscode.l10n.t('Click to stop following {0}', name);
    this.status.show();
    const latest = latestEditorOf([...this.editors.values()], ref.user);
    if (latest?.path !== undefined) await this.reveal(latest);
    else
      void vscode.window.showInformationMessage(
        vscode.l10n.t('Following {0}: their editor shows here once they open a file of a shared folder.', name),
      );
  }

  private stop(): void {
    if (!this.following) return;
    this.following = undefined;
    this.revealing = undefined;
    this.status.hide();
  }

  private noticed(view: ActiveEditorView): void {
    this.editors.set(view.device, { ...view, at: Date.now() });
    if (this.following?.user === view.user && view.path !== undefined) void this.reveal(view).catch(() => undefined);
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
    for (const d of this.disposables) d.dispose();
  }
}
