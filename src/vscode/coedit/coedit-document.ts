import * as vscode from 'vscode';
import type { DocumentEdit, EditorDocument } from '../../sync/coedit/text-binding';

/**
 * A VS Code TextDocument as the binding's editor document. A batch goes through TextEditor.edit on
 * an editor showing the document: the window checks the document's version and applies the batch
 * in one step, as the binding requires. workspace.applyEdit does not for the active editor: it
 * first rewrites the edits into "more minimal" ones in a worker and applies them without a version
 * check, so keystrokes typed meanwhile move under them and text lands in the wrong place (seen in
 * VS Code 1.100's BulkTextEdits). It is used only for a document no editor shows, where nobody types.
 */
export function editableDocument(document: vscode.TextDocument): EditorDocument {
  return {
    getText: () => document.getText(),
    get version() {
      return document.version;
    },
    apply: async (edits, version) => {
      if (document.isClosed || document.version !== version) return false;
      const ranges = edits.map((e) => ({
        range: new vscode.Range(document.positionAt(e.offset), document.positionAt(e.offset + e.deleteCount)),
        text: e.insertText,
      }));
      const editor = vscode.window.visibleTextEditors.find((e) => e.document === document);
      if (editor) {
        try {
          // Each batch is its own undo step, as a workspace edit is.
          return await editor.edit((builder) => {
            for (const r of ranges) builder.replace(r.range, r.text);
          });
        } catch {
          return false; // the editor closed meanwhile; the binding sends the batch again
        }
      }
      const edit = new vscode.WorkspaceEdit();
      edit.set(
        document.uri,
        ranges.map((r) => vscode.TextEdit.replace(r.range, r.text)),
      );
      return vscode.workspace.applyEdit(edit);
    },
  };
}

/** VS Code's change report in the binding's terms: offsets and lengths in UTF-16 units of the document before the change. */
export function documentEdits(changes: readonly vscode.TextDocumentContentChangeEvent[]): DocumentEdit[] {
  return changes.map((c) => ({ offset: c.rangeOffset, deleteCount: c.rangeLength, insertText: c.text }));
}
