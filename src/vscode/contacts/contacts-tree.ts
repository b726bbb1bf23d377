/**
 * src/vscode/contacts/: the Contacts view (this file and contacts-model.ts), the identity and
 * contact commands (Set Up, Invite Contact, Add Contact, ...) and invite links with their
 * vscode:// URI handler.
 * Extension layer: may import vscode, src/sync and src/node/engine (the client and its protocol
 * types); never src/server, src/cli or native code. Its view models (VIEW_MODELS in
 * eslint.config.mjs) import no vscode, so unit tests run them in plain Node.
 */
import * as vscode from 'vscode';
import { contactNodes, offlineMessage } from './contacts-model';
import type { EngineSession } from '../engine/engine-session';
import { NodeTreeProvider } from '../trees/tree-item-adapter';
import { refOfKind, type TreeNode } from '../trees/tree-node';

export const CONTACTS_VIEW = 'sharedFolders.contacts';
const URI_LIST = 'text/uri-list';

/**
 * The Contacts view. Dropping a folder from the Explorer onto a contact starts Share Folder with
 * that contact, so the common case takes one gesture.
 */
export class ContactsTree implements vscode.TreeDragAndDropController<TreeNode>, vscode.Disposable {
  readonly dropMimeTypes = [URI_LIST];
  readonly dragMimeTypes: string[] = [];
  private readonly provider = new NodeTreeProvider();
  private readonly view: vscode.TreeView<TreeNode>;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly session: EngineSession,
    private readonly onDropFolder: (path: string, user: string) => void,
  ) {
    this.view = vscode.window.createTreeView(CONTACTS_VIEW, { treeDataProvider: this.provider, dragAndDropController: this });
    this.disposables.push(
      this.view,
      this.provider,
      session.onDidChangeStatus(() => this.refresh()),
    );
    this.refresh();
  }

  private refresh(): void {
    this.provider.setNodes(contactNodes(this.session.status, vscode.l10n));
    this.view.message = offlineMessage(this.session.status, vscode.l10n);
  }

  async handleDrop(target: TreeNode | undefined, dataTransfer: vscode.DataTransfer, token: vscode.CancellationToken): Promise<void> {
    const contact = refOfKind(target, 'contact');
    const item = dataTransfer.get(URI_LIST);
    if (!item) return;
    const text = await item.asString();
    if (token.isCancellationRequested) return;
    const uri = text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => vscode.Uri.parse(l))
      .find((u) => u.scheme === 'file');
    if (!uri) return;
    if (!contact) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Drop the folder onto a contact to share it with them.'));
      return;
    }
    const stat = await vscode.workspace.fs.stat(uri).then(
      (s) => s,
      () => undefined,
    );
    if (!stat || (stat.type & vscode.FileType.Directory) === 0) {
      void vscode.window.showInformationMessage(
        vscode.l10n.t(
          'Only folders can be shared; drop a folder onto {0}.',
          this.session.status?.contacts.find((c) => c.id === contact.user)?.name ?? contact.user,
        ),
      );
      return;
    }
    this.onDropFolder(uri.fsPath, contact.user);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
