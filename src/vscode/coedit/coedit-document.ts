import * as vscode from 'vscode';
import type { DocumentEdit } from '../../sync/coedit/text-binding';
import type { EditableDocument } from './bound-editor';

/**
 * A VS Code TextDocument as the bound editor's document: a batch of remote changes becomes one
 * WorkspaceEdit (its offsets all refer to the document before the batch, as a WorkspaceEdit's
 * ranges do), so VS Code moves cursors and folds over it like over any small edit. VS Code
 * refuses it (false) when the document changed since the extension host last saw it, and
 * reports an applied one through onDidChangeTextDocument.
 */
export function editableDocument(document: vscode.TextDocument): EditableDocument {
  return {
    getText: () => document.getText(),
    apply: (edits) => {
      const edit = new vscode.WorkspaceEdit();
      edit.set(
        document.uri,
        edits.map((e) =>
          vscode.TextEdit.replace(
            new vscode.Range(document.positionAt(e.offset), document.positionAt(e.offset + e.deleteCount)),
            e.insertText,
          ),
        ),
      );
      return vscode.workspace.applyEdit(edit);
    },
  };
}

/** VS Code's change report in the binding's terms: offsets and lengths in UTF-16 units of the document before the change. */
export function documentEdits(changes: readonly vscode.TextDocumentContentChangeEvent[]): DocumentEdit[] {
  return changes.map((c) => ({ offset: c.rangeOffset, deleteCount: c.rangeLength, insertText: c.text }));
}
