import Delta from 'quill-delta';
import { normaliseEol, withEol, type Eol } from './eol';
import type { LineStarts } from './line-starts';

/**
 * One change of an editor document, as VS Code reports it: `deleteCount` UTF-16 units at `offset`
 * replaced by `insertText`, in document units (line breaks as the document shows them).
 */
export interface DocumentEdit {
  readonly offset: number;
  readonly deleteCount: number;
  readonly insertText: string;
}

/**
 * Changes between a document and its shared text are quill Deltas over the `\n` text: retain,
 * insert and delete, with `compose` and `transform` that the binding relies on to move one side's
 * changes over the other's (operational transformation between exactly two sites, the editor and
 * the shared text). These functions convert between Deltas and an editor's edits.
 */
export { Delta };

/**
 * One report of document changes (offsets all refer to the document before the report, the
 * changes do not overlap: VS Code's `contentChanges`) as a Delta over the `\n` text. `lines` holds
 * the `\n` text's line starts when the document shows `\r\n`.
 */
export function editsToDelta(edits: readonly DocumentEdit[], lines: LineStarts | undefined): Delta {
  const ascending = [...edits].sort((a, b) => a.offset - b.offset);
  const delta = new Delta();
  let at = 0;
  for (const e of ascending) {
    const start = lines ? lines.fromCrlf(e.offset) : e.offset;
    const end = lines ? lines.fromCrlf(e.offset + e.deleteCount) : e.offset + e.deleteCount;
    if (start < at) throw new RangeError(`overlapping changes at ${e.offset}`);
    delta.retain(start - at);
    const inserted = normaliseEol(e.insertText);
    if (inserted.length > 0) delta.insert(inserted);
    delta.delete(end - start);
    at = end;
  }
  return delta.chop();
}

/**
 * A Delta over the `\n` text as editor edits: descending offsets in document units, each relative
 * to the document before all of them (one VS Code edit batch), a deletion and an insertion at one
 * place joined into one replacement, never two edits at one offset whose order an editor may pick.
 */
export function deltaToEdits(delta: Delta, lines: LineStarts | undefined, eol: Eol): DocumentEdit[] {
  const changes: { start: number; end: number; text: string }[] = [];
  let at = 0;
  for (const op of delta.ops) {
    if (typeof op.retain === 'number') {
      at += op.retain;
    } else if (typeof op.delete === 'number') {
      const last = changes[changes.length - 1];
      if (last && last.end === at) last.end += op.delete;
      else changes.push({ start: at, end: at + op.delete, text: '' });
      at += op.delete;
    } else if (typeof op.insert === 'string') {
      const last = changes[changes.length - 1];
      if (last && last.end === at) last.text += op.insert;
      else changes.push({ start: at, end: at, text: op.insert });
    }
  }
  const toDocument = (offset: number): number => (lines ? lines.toCrlf(offset) : offset);
  return changes.reverse().map((c) => {
    const offset = toDocument(c.start);
    return { offset, deleteCount: toDocument(c.end) - offset, insertText: withEol(c.text, eol) };
  });
}

/** The text a Delta makes of `text`. */
export function applyDelta(text: string, delta: Delta): string {
  const parts: string[] = [];
  let at = 0;
  for (const op of delta.ops) {
    if (typeof op.retain === 'number') {
      parts.push(text.slice(at, at + op.retain));
      at += op.retain;
    } else if (typeof op.delete === 'number') {
      at += op.delete;
    } else if (typeof op.insert === 'string') {
      parts.push(op.insert);
    }
  }
  if (at > text.length) throw new RangeError(`a delta over ${at} units applied to a ${text.length}-unit text`);
  parts.push(text.slice(at));
  return parts.join('');
}

/** Whether a Delta changes nothing. */
export function isIdentity(delta: Delta): boolean {
  return delta.ops.every((op) => typeof op.retain === 'number' && op.attributes === undefined);
}

/** The Delta that turns `from` into `to`, by the smallest changes a diff finds. */
export function diffDelta(from: string, to: string): Delta {
  if (from === to) return new Delta();
  return new Delta().insert(from).diff(new Delta().insert(to));
}

/**
 * Where an offset of the text after `delta` was in the text before it: text the delta inserted
 * maps to its insertion point (the other side does not show it yet).
 */
export function offsetBefore(delta: Delta, offset: number): number {
  let before = 0;
  let after = 0;
  for (const op of delta.ops) {
    if (typeof op.retain === 'number') {
      if (offset < after + op.retain) return before + (offset - after);
      before += op.retain;
      after += op.retain;
    } else if (typeof op.delete === 'number') {
      before += op.delete;
    } else if (typeof op.insert === 'string') {
      if (offset < after + op.insert.length) return before;
      after += op.insert.length;
    }
  }
  return before + (offset - after);
}
