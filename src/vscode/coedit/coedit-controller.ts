/**
 * src/vscode/coedit/: live co-editing in the editor. A CoeditFile per open text file of a shared
 * folder runs the Yjs session (src/sync/coedit) and binds it to the document; others' cursors are
 * drawn; Follow keeps this window on a member's file.
 * Extension layer: may import vscode, src/sync and src/node/engine (the client and its protocol
 * types); never src/server, src/cli or native code. Its view models (VIEW_MODELS in
 * eslint.config.mjs) import no vscode, so unit tests run them in plain Node.
 */
import * as vscode from 'vscode';
import type { SpaceView } from '../../node/engine/engine-protocol';
import { CoeditFile } from './coedit-file';
import type { EngineSession } from '../engine/engine-session';
import { RemoteCursors } from './remote-cursors';
import type { Settings } from '../app/settings';
import { locateInSpaces } from '../app/space-paths';

/**
 * Live co-editing for this window: every text file of a joined shared folder that is open in an
 * editor tab gets a CoeditFile (its announcement, session and binding), closed with the tab. The
 * engine host's co-editing events go to the file they name.
 */
export class CoeditController implements vscode.Disposable {
  /** By document URI. */
  private readonly files = new Map<string, CoeditFile>();
  private readonly cursors = new RemoteCursors();
  private readonly disposables: vscode.Disposable[] = [];
  private reconcileTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly engine: EngineSession,
    private readonly settings: Settings,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      this.cursors,
      vscode.window.tabGroups.onDidChangeTabs(() => this.scheduleReconcile()),
      vscode.workspace.onDidOpenTextDocument(() => this.scheduleReconcile()),
      vscode.workspace.onDidCloseTextDocument((doc) => this.close(doc.uri.toString())),
      vscode.workspace.onDidChangeTextDocument((e) => this.files.get(e.document.uri.toString())?.documentChanged(e)),
      vscode.workspace.onDidSaveTextDocument((doc) => this.files.get(doc.uri.toString())?.documentSaved()),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (e.textEditor === vscode.window.activeTextEditor)
          this.files.get(e.textEditor.document.uri.toString())?.selectionChanged(e.selections[0]);
      }),
      vscode.window.onDidChangeActiveTextEditor((editor) => {
        // The cursor shows only where the user is: in the active editor's file.
        for (const [uri, file] of this.files)
          file.selectionChanged(editor && editor.document.uri.toString() === uri ? editor.selection : undefined);
      }),
      vscode.window.onDidChangeVisibleTextEditors(() => {
        for (const file of this.files.values()) file.redraw();
      }),
      settings.onDidChangeCoedit(() => this.scheduleReconcile()),
      engine.onDidChangeStatus(() => this.scheduleReconcile()),
      engine.onDidChangeRunning((running) => {
        if (running) this.restarted();
      }),
      engine.onDidRestartHost(() => this.restarted()),
      engine.onDidChangeCoeditPeers((e) => this.fileAt(e.space, e.path)?.peersChanged(e.peers)),
      engine.onDidReceiveCoeditFrame((e) => this.fileAt(e.space, e.path)?.frameReceived(e.session, e.from, e.frame)),
    );
    this.scheduleReconcile();
  }

  private fileAt(space: string, path: string): CoeditFile | undefined {
    for (const file of this.files.values()) if (file.space === space && file.path === path) return file;
    return undefined;
  }

  private scheduleReconcile(): void {
    if (this.reconcileTimer) return;
    this.reconcileTimer = setTimeout(() => {
      this.reconcileTimer = undefined;
      this.reconcile();
    }, 50);
  }

  /** Opens a CoeditFile for every open text document of a joined space shown in a tab, and closes the rest. */
  private reconcile(): void {
    const status = this.engine.status;
    this.log.trace(`co-editing: ${vscode.workspace.textDocuments.length} documents, ${this.files.size} co-edited`);
    const wanted = new Map<string, { doc: vscode.TextDocument; space: SpaceView; path: string }>();
    if (this.settings.coeditEnabled && this.engine.running && status?.identity) {
      const inTabs = new Set<string>();
      for (const tab of vscode.window.tabGroups.all.flatMap((g) => g.tabs)) {
        if (tab.input instanceof vscode.TabInputText) inTabs.add(tab.input.uri.toString());
      }
      // A paused folder is not co-edited either: its files change only on this disk until it resumes.
      const spaces = status.spaces.filter((s) => s.role !== undefined && !(s.state.kind === 'paused' && s.state.reason === 'user'));
      for (const doc of vscode.workspace.textDocuments) {
        const uri = doc.uri.toString();
        if (doc.uri.scheme !== 'file' || !inTabs.has(uri)) continue;
        const located = locateInSpaces(doc.uri.fsPath, spaces);
        // The folder's own bookkeeping is not a file of the space.
        if (!located || located.path === '' || located.path.split('/').includes('.shared-folder')) continue;
        wanted.set(uri, { doc, space: located.space, path: located.path });
      }
    }
    for (const [uri, file] of this.files) {
      const want = wanted.get(uri);
      if (!want || want.space.id !== file.space || want.path !== file.path) this.close(uri);
    }
    for (const [uri, want] of wanted) {
      if (this.files.has(uri)) continue;
      const identity = status!.identity!;
      const file = new CoeditFile(want.space.id, want.path, want.doc, want.space.role === 'reader', {
        engine: this.engine,
        log: this.log,
        cursors: this.cursors,
        user: () =>
          this.engine.identity
            ? { id: this.engine.identity.user, name: this.engine.identity.name }
            : { id: identity.user, name: identity.name },
        maxBytes: () => this.settings.coeditMaxFileSize,
      });
      this.files.set(uri, file);
      file.start();
    }
  }

  private restarted(): void {
    for (const file of this.files.values()) file.hostRestarted();
    this.scheduleReconcile();
  }

  private close(uri: string): void {
    const file = this.files.get(uri);
    if (!file) return;
    this.files.delete(uri);
    file.dispose();
  }

  dispose(): void {
    if (this.reconcileTimer) clearTimeout(this.reconcileTimer);
    for (const uri of [...this.files.keys()]) this.close(uri);
    for (const d of this.disposables) d.dispose();
  }
}
