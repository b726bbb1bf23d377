import * as vscode from 'vscode';
import type { DocumentEdit, EditorDocument } from '../sync/coedit/text-binding';

/**
 * A VS Code TextDocument as the binding's EditorDocument: a batch of remote changes becomes one
 * WorkspaceEdit (its offsets all refer to the document before the batch, as a WorkspaceEdit's
 * ranges do), so VS Code moves cursors and folds over it like over any small edit. VS Code reports
 * the change back through onDidChangeTextDocument, where the binding recognises it.
 *
 * The edit travels to the renderer and back, so the user may type in between: when no batch is
 * on its way any more and the document differs from the shared text, `drifted` is called (the
 * caller resyncs).
 */
export class VscodeEditorDocument implements EditorDocument {
  private inFlight = 0;

  constructor(
    private readonly document: vscode.TextDocument,
    private readonly drifted: () => void,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Whether a batch handed to VS Code has not come back yet. */
  get busy(): boolean {
    return this.inFlight > 0;
  }

  applyEdits(edits: readonly DocumentEdit[]): void {
    const doc = this.document;
    const edit = new vscode.WorkspaceEdit();
    edit.set(doc.uri, edits.map((e) => vscode.TextEdit.replace(new vscode.Range(doc.positionAt(e.offset), doc.positionAt(e.offset + e.deleteCount)), e.insertText)));
    this.inFlight++;
    void Promise.resolve(vscode.workspace.applyEdit(edit)).then(
      (applied) => {
        if (!applied) this.log.warn(`co-editing: VS Code did not apply a remote change to ${doc.uri.fsPath}; resyncing`);
        this.settled();
      },
      (err: unknown) => {
        this.log.warn(`co-editing: applying a remote change to ${doc.uri.fsPath} failed: ${err instanceof Error ? err.message : String(err)}`);
        this.settled();
      },
    );
  }

  private settled(): void {
    this.inFlight--;
    if (this.inFlight === 0) this.drifted();
  }
}

/** VS Code's change report in the binding's terms: offsets and lengths in UTF-16 units of the document before the change. */
export function documentEdits(changes: readonly vscode.TextDocumentContentChangeEvent[]): DocumentEdit[] {
  return changes.map((c) => ({ offset: c.rangeOffset, deleteCount: c.rangeLength, insertText: c.text }));
}
