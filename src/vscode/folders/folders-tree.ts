/**
 * src/vscode/folders/: the Shared Folders view (this file and folders-model.ts) and the folder
 * commands: share, accept, decline, add member, pause, resume, review deleted files, leave, stop
 * sharing.
 * Extension layer: may import vscode, src/sync and src/node/engine (the client and its protocol
 * types); never src/server, src/cli or native code. Its view models (VIEW_MODELS in
 * eslint.config.mjs) import no vscode, so unit tests run them in plain Node.
 */
import * as vscode from 'vscode';
import type { EngineSession } from '../engine/engine-session';
import { folderNodes, unseenCount } from './folders-model';
import { NodeTreeProvider } from '../trees/tree-item-adapter';
import { refOfKind, type TreeNode } from '../trees/tree-node';

export const FOLDERS_VIEW = 'sharedFolders.folders';

/**
 * The Shared Folders view. Its badge counts remote changes the user has not looked at; looking
 * at a space (selecting or expanding it) marks its changes seen.
 */
export class FoldersTree implements vscode.Disposable {
  private readonly provider = new NodeTreeProvider();
  private readonly view: vscode.TreeView<TreeNode>;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly session: EngineSession) {
    this.view = vscode.window.createTreeView(FOLDERS_VIEW, { treeDataProvider: this.provider, showCollapseAll: true });
    this.disposables.push(
      this.view,
      this.provider,
      session.onDidChangeStatus(() => this.refresh()),
      this.view.onDidChangeSelection((e) => e.selection.forEach((n) => this.markSeen(n))),
      this.view.onDidExpandElement((e) => this.markSeen(e.element)),
    );
    this.refresh();
  }

  private refresh(): void {
    this.provider.setNodes(folderNodes(this.session.status, vscode.l10n));
    const unseen = unseenCount(this.session.status);
    this.view.badge =
      unseen > 0
        ? {
            value: unseen,
            tooltip:
              unseen === 1 ? vscode.l10n.t('1 new change in shared folders') : vscode.l10n.t('{0} new changes in shared folders', unseen),
          }
        : undefined;
  }

  markSeen(node: TreeNode): void {
    const ref = node.ref;
    const space =
      ref.kind === 'space' || ref.kind === 'conflict' || ref.kind === 'member' || ref.kind === 'spaceError' ? ref.space : undefined;
    if (space !== undefined) this.markSpaceSeen(space);
  }

  markSpaceSeen(space: string): void {
    if ((this.session.status?.spaces.find((s) => s.id === space)?.unseen ?? 0) === 0) return;
    this.session.call('markSeen', { space }).catch(() => undefined);
  }

  async reveal(space: string): Promise<void> {
    const node = this.provider.find((n) => refOfKind(n, 'space')?.space === space);
    if (node) await this.view.reveal(node, { select: true, focus: true, expand: true });
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
