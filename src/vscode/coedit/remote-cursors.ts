import * as vscode from 'vscode';
import { safeColour, type CursorMark } from './remote-cursor-marks';

interface ColourTypes {
  readonly selection: vscode.TextEditorDecorationType;
  /** The caret and, after it, the member's name on a label of their colour. */
  readonly caret: vscode.TextEditorDecorationType;
}

/**
 * Draws other members' cursors and selections in text editors: decoration types per member
 * colour (the same colour on every device, colourFor), the name per decoration.
 */
export class RemoteCursors implements vscode.Disposable {
  private readonly types = new Map<string, ColourTypes>();

  /** Replaces what `editor` shows with `marks`. */
  show(editor: vscode.TextEditor, marks: readonly CursorMark[]): void {
    const doc = editor.document;
    const byColour = new Map<string, { selections: vscode.Range[]; carets: vscode.DecorationOptions[] }>();
    for (const colour of this.types.keys()) byColour.set(colour, { selections: [], carets: [] });
    for (const m of marks) {
      const colour = safeColour(m.colour);
      this.typesFor(colour);
      let entry = byColour.get(colour);
      if (!entry) byColour.set(colour, (entry = { selections: [], carets: [] }));
      if (m.selection) entry.selections.push(new vscode.Range(doc.positionAt(m.selection.start), doc.positionAt(m.selection.end)));
      const at = doc.positionAt(m.caret);
      entry.carets.push({
        range: new vscode.Range(at, at),
        hoverMessage: vscode.l10n.t('{0} is here', m.name),
        renderOptions: { after: { contentText: m.name } },
      });
    }
    for (const [colour, entry] of byColour) {
      const types = this.typesFor(colour);
      editor.setDecorations(types.selection, entry.selections);
      editor.setDecorations(types.caret, entry.carets);
    }
  }

  clear(editor: vscode.TextEditor): void {
    this.show(editor, []);
  }

  private typesFor(colour: string): ColourTypes {
    let types = this.types.get(colour);
    if (!types) {
      types = {
        selection: vscode.window.createTextEditorDecorationType({
          backgroundColor: `${colour}40`,
          borderRadius: '2px',
          overviewRulerColor: colour,
          overviewRulerLane: vscode.OverviewRulerLane.Center,
          rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
        }),
        caret: vscode.window.createTextEditorDecorationType({
          rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
          overviewRulerColor: colour,
          overviewRulerLane: vscode.OverviewRulerLane.Full,
          // A zero-width character with a border: the caret, as tall as the text.
          before: { contentText: '\u200b', border: `1px solid ${colour}`, margin: '0 -1px 0 0' },
          after: {
            backgroundColor: colour,
            color: '#ffffff',
            margin: '0 0 0 2px',
            // Only the name is per decoration (renderOptions); a label shape around it.
            textDecoration: 'none; border-radius: 3px; padding: 0 3px; font-size: 0.85em; vertical-align: top',
          },
        }),
      };
      this.types.set(colour, types);
    }
    return types;
  }

  dispose(): void {
    for (const t of this.types.values()) {
      t.selection.dispose();
      t.caret.dispose();
    }
    this.types.clear();
  }
}
