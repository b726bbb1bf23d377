import { normaliseEol, withEol, type Eol } from '../../../../src/sync/coedit/eol';
import type { DocumentEdit, EditorDocument } from '../../../../src/sync/coedit/text-binding';

/**
 * An editor document as a plain string, behaving like a VS Code TextDocument where the binding
 * can tell: one line break (`eol`) everywhere, inserted breaks converted to it, a version that
 * moves with every change, a batch applied only at the version it was made against, and every
 * change reported to the listener (the batches the binding asked for too) before `apply` answers.
 */
export class MemoryEditor implements EditorDocument {
  listener: ((changes: readonly DocumentEdit[], version: number) => void) | undefined;
  version = 1;
  /** Batches applied, as handed over. */
  readonly applied: DocumentEdit[][] = [];

  constructor(
    public text: string,
    readonly eol: Eol,
  ) {}

  getText(): string {
    return this.text;
  }

  apply(edits: readonly DocumentEdit[], version: number): Promise<boolean> {
    if (version !== this.version) return Promise.resolve(false);
    for (let i = 1; i < edits.length; i++) {
      if (edits[i]!.offset + edits[i]!.deleteCount > edits[i - 1]!.offset) throw new Error('edits overlap or are not descending');
    }
    for (const e of edits) this.splice(e);
    this.applied.push([...edits]);
    this.version++;
    this.listener?.(edits, this.version);
    return Promise.resolve(true);
  }

  /** The user types, deletes or pastes. */
  edit(offset: number, deleteCount: number, insertText: string): void {
    const change = { offset, deleteCount, insertText: withEol(normaliseEol(insertText), this.eol) };
    this.splice(change);
    this.version++;
    this.listener?.([change], this.version);
  }

  private splice(e: DocumentEdit): void {
    if (e.offset < 0 || e.offset + e.deleteCount > this.text.length)
      throw new RangeError(`edit ${JSON.stringify(e)} outside a ${this.text.length}-unit text`);
    this.text = this.text.slice(0, e.offset) + e.insertText + this.text.slice(e.offset + e.deleteCount);
  }
}

/** Lets promise answers and the binding's follow-ups run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
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
