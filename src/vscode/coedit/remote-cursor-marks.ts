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

/** How long a member's name stays up at their cursor after it last moved; then only the caret shows. */
export const NAME_SHOWN_MS = 3_000;

/**
 * When each member's cursor last moved in one editor, so names show on activity only: a cursor
 * seen for the first time, or at another place or selection than before, counts as a move.
 */
export class CursorActivity {
  private readonly seen = new Map<number, { readonly at: string; readonly movedAt: number }>();

  constructor(private readonly shownMs = NAME_SHOWN_MS) {}

  /**
   * Notes `marks` as seen at `now`. Returns the members whose name shows now, and when the
   * first of those names is due to hide (undefined when none shows).
   */
  update(marks: readonly CursorMark[], now: number): { readonly named: ReadonlySet<number>; readonly hideAt?: number } {
    const named = new Set<number>();
    let hideAt: number | undefined;
    const present = new Set<number>();
    for (const m of marks) {
      present.add(m.clientId);
      const at = `${m.caret}/${m.selection?.start ?? ''}-${m.selection?.end ?? ''}`;
      const before = this.seen.get(m.clientId);
      const movedAt = before && before.at === at ? before.movedAt : now;
      this.seen.set(m.clientId, { at, movedAt });
      const until = movedAt + this.shownMs;
      if (until > now) {
        named.add(m.clientId);
        hideAt = hideAt === undefined ? until : Math.min(hideAt, until);
      }
    }
    for (const id of [...this.seen.keys()]) if (!present.has(id)) this.seen.delete(id);
    return hideAt === undefined ? { named } : { named, hideAt };
  }
}
