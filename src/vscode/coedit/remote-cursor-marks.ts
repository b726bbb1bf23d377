import type { RemoteCursor } from '../../sync/coedit/coedit-session';

/** What the editor draws for one other member in a file: document offsets, no VS Code types. */
export interface CursorMark {
  readonly clientId: number;
  readonly name: string;
  readonly colour: string;
  /** The selected stretch, absent for a plain cursor. */
  readonly selection?: { readonly start: number; readonly end: number };
  /** Where the caret is drawn, with the name next to it. */
  readonly caret: number;
}

/**
 * The marks for the other members' cursors, in document offsets (the session gives shared-text
 * offsets, `\n` breaks; `toDocumentOffset` converts). Members without a cursor in the file are left
 * out; positions past the end (a document a keystroke behind) are clamped.
 */
export function cursorMarks(
  cursors: readonly RemoteCursor[],
  toDocumentOffset: (textOffset: number) => number,
  documentLength: number,
): CursorMark[] {
  const out: CursorMark[] = [];
  for (const c of cursors) {
    if (!c.selection) continue;
    const anchor = clamp(toDocumentOffset(c.selection.anchor), documentLength);
    const head = clamp(toDocumentOffset(c.selection.head), documentLength);
    out.push({
      clientId: c.clientId,
      name: c.user.name || c.user.id.slice(0, 8),
      colour: c.user.colour,
      ...(anchor !== head ? { selection: { start: Math.min(anchor, head), end: Math.max(anchor, head) } } : {}),
      caret: head,
    });
  }
  return out;
}

/** Colours come from other devices: only `#rgb` / `#rrggbb` reach a style. */
export function safeColour(colour: string): string {
  return /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(colour) ? colour : '#808080';
}

function clamp(offset: number, length: number): number {
  return Math.max(0, Math.min(offset, length));
}
