import { normaliseEol, withEol, type Eol } from '../../../../src/sync/coedit/eol';
import type { DocumentEdit, EditorDocument } from '../../../../src/sync/coedit/text-binding';

/**
 * An editor document as a plain string, behaving like a VS Code TextDocument where the binding
 * can tell: one line break (`eol`) everywhere, inserted breaks converted to it, and every change
 * reported to the listener, including the ones the binding asked for.
 */
export class MemoryEditor implements EditorDocument {
  listener: ((changes: readonly DocumentEdit[]) => void) | undefined;

  constructor(
    public text: string,
    readonly eol: Eol,
  ) {}

  applyEdits(edits: readonly DocumentEdit[]): void {
    for (let i = 1; i < edits.length; i++) {
      if (edits[i]!.offset + edits[i]!.deleteCount > edits[i - 1]!.offset) throw new Error('edits overlap or are not descending');
    }
    for (const e of edits) this.splice(e);
    this.listener?.(edits);
  }

  /** The user types, deletes or pastes. */
  edit(offset: number, deleteCount: number, insertText: string): void {
    const change = { offset, deleteCount, insertText: withEol(normaliseEol(insertText), this.eol) };
    this.splice(change);
    this.listener?.([change]);
  }

  private splice(e: DocumentEdit): void {
    if (e.offset < 0 || e.offset + e.deleteCount > this.text.length)
      throw new RangeError(`edit ${JSON.stringify(e)} outside a ${this.text.length}-unit text`);
    this.text = this.text.slice(0, e.offset) + e.insertText + this.text.slice(e.offset + e.deleteCount);
  }
}

/**
 * Offsets an editor can put a cursor at: not between `\r` and `\n`, not inside a surrogate pair.
 */
export function cursorOffsets(text: string): number[] {
  const out = [0];
  for (let i = 1; i <= text.length; i++) {
    const prev = text.charCodeAt(i - 1);
    const next = text.charCodeAt(i);
    if (prev === 13 && next === 10) continue;
    if (prev >= 0xd800 && prev <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) continue;
    out.push(i);
  }
  return out;
}
