import * as vscode from 'vscode';
import { CursorActivity, safeColour, type CursorMark } from './remote-cursor-marks';

interface ColourTypes {
  readonly selection: vscode.TextEditorDecorationType;
  /** The caret and, while the member is active, their name on a label of their colour. */
  readonly caret: vscode.TextEditorDecorationType;
}

/** What one editor shows: the marks last given, and when each member's cursor last moved. */
interface EditorState {
  marks: readonly CursorMark[];
  readonly activity: CursorActivity;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Styles that take an attachment out of the text's flow. VS Code writes `textDecoration` into a
 * CSS rule as `text-decoration: <value>;`, so the declarations after `none;` style the caret and
 * the label like any CSS: absolutely placed (their containing block is the line, `.view-line`),
 * they take no room, and the text never moves for them.
 */
const OUT_OF_FLOW = 'none; position: absolute; pointer-events: none; z-index: 1';

/**
 * Draws other members' cursors and selections in text editors: decoration types per member
 * colour (the same colour on every device, colourFor). The caret is a bar of the member's
 * colour; their name floats above it (below it on the first line) while they move, and fades
 * NAME_SHOWN_MS after they stop; hovering the caret names them any time.
 */
export class RemoteCursors implements vscode.Disposable {
  private readonly types = new Map<string, ColourTypes>();
  private readonly editors = new Map<vscode.TextEditor, EditorState>();

  /** Replaces what `editor` shows with `marks`. */
  show(editor: vscode.TextEditor, marks: readonly CursorMark[]): void {
    let state = this.editors.get(editor);
    if (!state) this.editors.set(editor, (state = { marks, activity: new CursorActivity(), timer: undefined }));
    state.marks = marks;
    this.render(editor, state);
  }

  clear(editor: vscode.TextEditor): void {
    this.show(editor, []);
    const state = this.editors.get(editor);
    if (state?.timer) clearTimeout(state.timer);
    this.editors.delete(editor);
  }

  private render(editor: vscode.TextEditor, state: EditorState): void {
    if (state.timer) clearTimeout(state.timer);
    state.timer = undefined;
    const now = Date.now();
    const { named, hideAt } = state.activity.update(state.marks, now);
    const doc = editor.document;
    const byColour = new Map<string, { selections: vscode.Range[]; carets: vscode.DecorationOptions[] }>();
    for (const colour of this.types.keys()) byColour.set(colour, { selections: [], carets: [] });
    for (const m of state.marks) {
      const colour = safeColour(m.colour);
      this.typesFor(colour);
      let entry = byColour.get(colour);
      if (!entry) byColour.set(colour, (entry = { selections: [], carets: [] }));
      if (m.selection) entry.selections.push(new vscode.Range(doc.positionAt(m.selection.start), doc.positionAt(m.selection.end)));
      const at = doc.positionAt(m.caret);
      entry.carets.push({
        range: new vscode.Range(at, at),
        hoverMessage: vscode.l10n.t('{0} is here', m.name),
        ...(named.has(m.clientId)
          ? {
              renderOptions: {
                // Above the line; on the first line, where above is outside the editor, below it.
                after: { contentText: m.name, textDecoration: `none; transform: translateY(${at.line === 0 ? '100%' : '-100%'})` },
              },
            }
          : {}),
      });
    }
    for (const [colour, entry] of byColour) {
      const types = this.typesFor(colour);
      editor.setDecorations(types.selection, entry.selections);
      editor.setDecorations(types.caret, entry.carets);
    }
    if (hideAt !== undefined) state.timer = setTimeout(() => this.rerender(editor), Math.max(0, hideAt - now) + 50);
  }

  /** A name is due to fade: draws the editor again, unless it closed meanwhile. */
  private rerender(editor: vscode.TextEditor): void {
    const state = this.editors.get(editor);
    if (!state) return;
    state.timer = undefined;
    if (!vscode.window.visibleTextEditors.includes(editor)) {
      this.editors.delete(editor);
      return;
    }
    this.render(editor, state);
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
          // A zero-width character drawn as a bar as tall as the line, out of the text's flow.
          before: {
            contentText: '\u200b',
            textDecoration: `${OUT_OF_FLOW}; top: 0; bottom: 0; margin-left: -1px; border-left: 2px solid ${colour}`,
          },
          // Only the name (and which way it floats) is per decoration (renderOptions); a label shape around it.
          after: {
            backgroundColor: colour,
            color: '#ffffff',
            textDecoration: `${OUT_OF_FLOW}; top: 0; white-space: pre; border-radius: 3px; padding: 0 4px; font-size: 0.85em; line-height: 1.4em`,
          },
        }),
      };
      this.types.set(colour, types);
    }
    return types;
  }

  dispose(): void {
    for (const state of this.editors.values()) if (state.timer) clearTimeout(state.timer);
    this.editors.clear();
    for (const t of this.types.values()) {
      t.selection.dispose();
      t.caret.dispose();
    }
    this.types.clear();
  }
}
