import * as vscode from 'vscode';
import type { DocumentEdit, EditorDocument } from '../sync/coedit/text-binding';

/**
 * A VS Code TextDocument as the binding's EditorDocument: a batch of remote changes becomes one
 * WorkspaceEdit (its offsets all refer to the document before the batch, as a WorkspaceEdit's
 * ranges do), so VS Code moves cursors and folds over it like over any small edit. VS Code reports
 * the change back through onDidChangeTextDocument, where the binding recognises it.
 *
 * VS Code refuses an edit made against a version of the document it has moved past: when the
 * user typed while the edit travelled, and when another edit of ours went first. So one batch is
 * on its way at a time; a batch that comes meanwhile, or is refused, is reported to `refused`
 * (the binding keeps moving keystrokes over it), and once nothing is on its way `settled` lets the
 * caller resync the document from the shared text by one diff.
 */
export class VscodeEditorDocument implements EditorDocument {
  private sending = false;

  constructor(
    private readonly document: vscode.TextDocument,
    private readonly refused: (batch: readonly DocumentEdit[]) => void,
    private readonly settled: () => void,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Whether a batch handed to VS Code has not been answered yet. */
  get busy(): boolean {
    return this.sending;
  }

  applyEdits(edits: readonly DocumentEdit[]): void {
    if (this.sending) {
      this.refused(edits);
      return;
    }
    const doc = this.document;
    const edit = new vscode.WorkspaceEdit();
    edit.set(doc.uri, edits.map((e) => vscode.TextEdit.replace(new vscode.Range(doc.positionAt(e.offset), doc.positionAt(e.offset + e.deleteCount)), e.insertText)));
    this.sending = true;
    void Promise.resolve(vscode.workspace.applyEdit(edit)).then(
      (applied) => this.answered(edits, applied),
      (err: unknown) => {
        this.log.warn(`co-editing: applying a remote change to ${doc.uri.fsPath} failed: ${err instanceof Error ? err.message : String(err)}`);
        this.answered(edits, false);
      },
    );
  }

  private answered(edits: readonly DocumentEdit[], applied: boolean): void {
    this.sending = false;
    if (!applied) {
      this.log.trace(`co-editing: VS Code refused a remote change to ${this.document.uri.fsPath} (the document moved on); resyncing`);
      this.refused(edits);
    }
    this.settled();
  }
}

/** VS Code's change report in the binding's terms: offsets and lengths in UTF-16 units of the document before the change. */
export function documentEdits(changes: readonly vscode.TextDocumentContentChangeEvent[]): DocumentEdit[] {
  return changes.map((c) => ({ offset: c.rangeOffset, deleteCount: c.rangeLength, insertText: c.text }));
}
