import type * as Y from 'yjs';
import { diffHunks } from '../text/text-diff';
import { normaliseEol, withEol, type Eol } from './eol';
import { LineStarts } from './line-starts';

/**
 * One change of an editor document, as VS Code reports it: `deleteCount` UTF-16 units at `offset`
 * replaced by `insertText`, in document units (line breaks as the document shows them).
 */
export interface DocumentEdit {
  readonly offset: number;
  readonly deleteCount: number;
  readonly insertText: string;
}

/** What the binding needs of an editor: a way to apply the changes that came from other members. */
export interface EditorDocument {
  /**
   * Applies remote changes. They do not overlap, are in descending offset order, and every offset
   * refers to the document before any of them: applied one by one in the given order, or all at
   * once as one VS Code WorkspaceEdit, they give the same text. The adapter must then report them
   * through `documentChanged` like any other change; the binding recognises them as its own.
   */
  applyEdits(edits: readonly DocumentEdit[]): void;
}

/**
 * Binds a document open in an editor to the shared Y.Text of its file. The Y.Text holds `\n`
 * breaks and the document shows `eol` (the session's, which the adapter must set on the document
 * first), so every member saves the same bytes. Local changes go into the Y.Text in one
 * transaction tagged with this binding as origin; remote changes come out as the smallest edits
 * the Y.Text delta describes, which keeps the user's cursor, folds and undo history where an
 * editor keeps them for small edits, where replacing the whole text would reset them.
 */
export class TextBinding {
  /** Only for `\r\n` documents: with `\n` the two kinds of offsets are the same. */
  private readonly lines: LineStarts | undefined;
  /**
   * Batches handed to the editor whose change reports have not come back yet, oldest first. A
   * `dead` one will never come back (the editor refused it): the document lacks it until `resync`,
   * and changes typed meanwhile are still moved over it.
   */
  private readonly echoes: Pending[] = [];
  private readonly observer: (event: Y.YTextEvent, tx: Y.Transaction) => void;

  constructor(
    private readonly text: Y.Text,
    private readonly editor: EditorDocument,
    readonly eol: Eol,
    /** A reader's binding: remote changes come in, the editor's own changes never enter the shared text. */
    readonly readOnly = false,
  ) {
    this.lines = eol === '\r\n' ? new LineStarts(text.toString()) : undefined;
    this.observer = (event, tx) => {
      if (tx.origin !== this) this.applyRemote(event.delta);
    };
    text.observe(this.observer);
  }

  /** The text the document must show: the shared text with the document's line breaks. */
  documentText(): string {
    return withEol(this.text.toString(), this.eol);
  }

  /** Whether a change report is one of this binding's batches coming back (it changes nothing). */
  isEcho(changes: readonly DocumentEdit[]): boolean {
    return this.echoes.some((e) => !e.dead && sameEdits(e.sent, changes));
  }

  /** The editor did not apply `batch` (the array handed to `applyEdits`) and never will. */
  refused(batch: readonly DocumentEdit[]): void {
    const entry = this.echoes.find((e) => e.sent === batch);
    if (entry) entry.dead = true;
  }

  /** A batch handed to the editor may still come back: the document cannot be judged yet. */
  get awaitingEcho(): boolean {
    return this.echoes.some((e) => !e.dead);
  }

  /**
   * Hands the oldest refused batch to the editor again, as it stands over the user's changes
   * since (so it lands where it belongs, where a diff of the two texts might not). Only when no
   * batch is awaited; false when there is nothing to hand.
   */
  replayRefused(): boolean {
    const head = this.echoes[0];
    if (!head?.dead || this.awaitingEcho) return false;
    head.dead = false;
    head.sent = head.edits;
    this.editor.applyEdits(head.sent);
    return true;
  }

  /** A refused batch left the document short of the shared text: `resync` once nothing is awaited. */
  get stale(): boolean {
    return this.echoes.some((e) => e.dead);
  }

  /**
   * The editor says it applied `batch`, whose report never came (not in a shape recognised):
   * it is not awaited any more, and the document is compared once all is in.
   */
  applied(batch: readonly DocumentEdit[]): void {
    const i = this.echoes.findIndex((e) => e.sent === batch && !e.dead);
    if (i < 0) return;
    this.echoes.splice(i, 1);
    this.unsure = true;
  }

  /** A batch landed after the user's change, where it was sent: compare the document once all is in. */
  unsure = false;

  /**
   * Every change of the document, in the units and order VS Code reports them: offsets of one call
   * all refer to the document before the call, and the changes do not overlap. Says what became of
   * them: `echo` (a batch of ours coming back), `shared` (now in the shared text) or, for a reader,
   * `refused`: the document then differs from the shared text and the caller undoes that with `resync`.
   */
  documentChanged(changes: readonly DocumentEdit[]): 'echo' | 'shared' | 'refused' {
    if (changes.length === 0) return 'echo';
    // Usually the oldest batch comes back first. An editor that refused a batch (VS Code refuses an
    // edit made against an older version of the document, when the user typed meanwhile) never
    // reports it: a later batch coming back shows the earlier ones are gone for good.
    const echo = this.echoes.findIndex((e) => !e.dead && sameEdits(e.sent, changes));
    if (echo >= 0) {
      for (let i = 0; i < echo; i++) this.echoes[i]!.dead = true;
      if (this.echoes[echo]!.rebased) this.unsure = true;
      this.echoes.splice(echo, 1);
      return 'echo';
    }
    // The same text at another place: a batch of ours that landed elsewhere than asked (VS Code
    // applies a batch where it was sent even after the user's typing moved it). Shared again as
    // typing it would be doubled; taken as ours, the comparison afterwards puts things right.
    const moved = this.echoes.findIndex((e) => !e.dead && sameShape(e.sent, changes));
    if (moved >= 0) {
      this.echoes.splice(moved, 1);
      this.unsure = true;
      return 'echo';
    }
    if (this.readOnly) return 'refused';
    // Descending, so each change's offsets still refer to the text the caller saw.
    let ordered = [...changes].sort((a, b) => b.offset - a.offset);
    // Typed while batches were on their way: the offsets refer to a document without them, the
    // shared text has them; moved over them, the keystroke lands where the user saw it.
    if (this.echoes.length > 0) ordered = this.overPending(ordered);
    this.text.doc!.transact(() => {
      for (const c of ordered) {
        const start = this.toTextOffset(c.offset);
        const end = this.toTextOffset(c.offset + c.deleteCount);
        if (end > this.text.length) throw new RangeError(`edit at ${c.offset} is past the end of the shared text: resync`);
        const inserted = normaliseEol(c.insertText);
        if (end > start) this.text.delete(start, end - start);
        if (inserted.length > 0) this.text.insert(start, inserted);
        this.lines?.splice(start, end - start, inserted);
      }
    }, this);
    return 'shared';
  }

  /**
   * A change of the document, which lacks the pending batches, in the offsets of the shared text,
   * which has them. The batches are rebased over the change (the document has it now, and they
   * are still missing from it). A batch on its way is mostly refused now (VS Code checks the
   * document's version), but VS Code checks before it applies, so one may still land, where it
   * was sent: its report is recognised, and the document is compared afterwards (`unsure`).
   */
  private overPending(changes: readonly DocumentEdit[]): DocumentEdit[] {
    let current = [...changes];
    for (const entry of this.echoes) {
      const next = current.flatMap((c) => throughBatch(c, entry.edits));
      // Highest first: each change leaves the offsets of the lower ones as they were.
      let edits = entry.edits;
      for (const c of current) edits = edits.map((e) => rebased(e, c));
      entry.edits = edits;
      entry.rebased = true;
      current = next.sort((a, b) => b.offset - a.offset);
    }
    return current;
  }

  /**
   * Makes the document show the shared text again, by the smallest edits between the two: after an
   * editor applied remote changes in a different place than asked (it raced the user's typing),
   * the adapter notices the texts differ and calls this.
   */
  resync(documentText: string): void {
    this.echoes.length = 0;
    this.unsure = false;
    const target = this.documentText();
    if (target === documentText) return;
    const edits = diffHunks(documentText, target)
      .reverse()
      .map((h) => ({ offset: h.start, deleteCount: h.end - h.start, insertText: h.text }));
    this.handToEditor(edits);
  }

  toTextOffset(documentOffset: number): number {
    return this.lines ? this.lines.fromCrlf(documentOffset) : documentOffset;
  }

  toDocumentOffset(textOffset: number): number {
    return this.lines ? this.lines.toCrlf(textOffset) : textOffset;
  }

  dispose(): void {
    this.text.unobserve(this.observer);
  }

  private applyRemote(delta: Y.YTextEvent['delta']): void {
    // The delta walks the old text from its start; collect replacements in old text offsets.
    const changes: { start: number; end: number; text: string }[] = [];
    let pos = 0;
    for (const op of delta) {
      if (op.retain !== undefined) {
        pos += op.retain;
      } else if (op.delete !== undefined) {
        const last = changes[changes.length - 1];
        if (last && last.end === pos) last.end += op.delete;
        else changes.push({ start: pos, end: pos + op.delete, text: '' });
        pos += op.delete;
      } else if (typeof op.insert === 'string') {
        // An insert next to a delete at the same place is one replacement, never two edits at one
        // offset, whose order an editor would be free to pick.
        const last = changes[changes.length - 1];
        if (last && last.end === pos) last.text += op.insert;
        else changes.push({ start: pos, end: pos, text: op.insert });
      }
    }
    if (changes.length === 0) return;
    changes.reverse();
    const edits = changes.map((c) => {
      const offset = this.toDocumentOffset(c.start);
      return { offset, deleteCount: this.toDocumentOffset(c.end) - offset, insertText: withEol(c.text, this.eol) };
    });
    // Descending, like the edits: each splice leaves the offsets of the ones still to come intact.
    for (const c of changes) this.lines?.splice(c.start, c.end - c.start, c.text);
    this.handToEditor(edits);
  }

  private handToEditor(edits: DocumentEdit[]): void {
    if (edits.length === 0) return;
    // Queued before the call: an editor may report the change before `applyEdits` returns.
    this.echoes.push({ sent: edits, edits, dead: false, rebased: false });
    this.editor.applyEdits(edits);
  }
}

/** A batch handed to the editor: as handed (to recognise its report) and as it stands over the user's changes since. */
interface Pending {
  sent: readonly DocumentEdit[];
  edits: readonly DocumentEdit[];
  dead: boolean;
  /** Rebased over a change of the user's: if it still comes back, it landed where it was sent. */
  rebased: boolean;
}

/**
 * A change of a document that lacks `batch`, as changes of one that has it (descending, relative
 * to it before them). Text the batch inserted inside a stretch the user deleted stays: the user
 * never saw it. The inserted text lands after the batch's own at a shared insertion point.
 */
function throughBatch(change: DocumentEdit, batch: readonly DocumentEdit[]): DocumentEdit[] {
  const start = change.offset;
  const end = change.offset + change.deleteCount;
  const at = mapOffset(start, batch, 'after');
  if (end === start) return [{ offset: at, deleteCount: 0, insertText: change.insertText }];
  // The deleted stretch, cut where the batch touches it; what the batch deleted is gone already.
  const cuts = new Set<number>([start, end]);
  for (const e of batch) {
    for (const p of [e.offset, e.offset + e.deleteCount]) if (p > start && p < end) cuts.add(p);
  }
  const points = [...cuts].sort((a, b) => a - b);
  const pieces: DocumentEdit[] = [];
  for (let k = 0; k + 1 < points.length; k++) {
    const a = points[k]!;
    const b = points[k + 1]!;
    if (batch.some((e) => e.deleteCount > 0 && e.offset <= a && b <= e.offset + e.deleteCount)) continue;
    pieces.push({ offset: mapOffset(a, batch, 'after'), deleteCount: b - a, insertText: '' });
  }
  const first = pieces.find((p) => p.offset === at);
  if (first) pieces[pieces.indexOf(first)] = { ...first, insertText: change.insertText };
  else if (change.insertText !== '') pieces.push({ offset: at, deleteCount: 0, insertText: change.insertText });
  return pieces.sort((a, b) => b.offset - a.offset);
}

/**
 * One edit of a batch, over a change made to the document the batch refers to. At a shared
 * insertion point the batch's insertion goes first (as `throughBatch` puts the change after it).
 * Where the two overlap the edit keeps what it can: close enough, as the batch is dead and the
 * resync that follows repairs the document from the shared text.
 */
function rebased(edit: DocumentEdit, change: DocumentEdit): DocumentEdit {
  const x = edit.offset;
  const y = edit.offset + edit.deleteCount;
  const s = change.offset;
  const e = change.offset + change.deleteCount;
  const grown = change.insertText.length - change.deleteCount;
  if (y <= s && !(x === s && y === s && e > s)) return edit;
  if (x >= e && (x > s || edit.deleteCount > 0 || e > s)) return { ...edit, offset: x + grown };
  if (x === s && y === s) return edit;
  if (x < s) return { ...edit, deleteCount: s - x };
  return { ...edit, offset: s + change.insertText.length, deleteCount: Math.max(0, y - e) };
}

/** Whether a change report is one of our batches coming back, whatever order the editor lists it in. */
function sameEdits(a: readonly DocumentEdit[], b: readonly DocumentEdit[]): boolean {
  if (a.length !== b.length) return false;
  const x = [...a].sort((p, q) => p.offset - q.offset);
  const y = [...b].sort((p, q) => p.offset - q.offset);
  return x.every((e, i) => e.offset === y[i]!.offset && e.deleteCount === y[i]!.deleteCount && e.insertText === y[i]!.insertText);
}

/** The same texts inserted and lengths deleted, wherever they are. */
function sameShape(a: readonly DocumentEdit[], b: readonly DocumentEdit[]): boolean {
  if (a.length !== b.length) return false;
  const x = [...a].sort((p, q) => p.offset - q.offset);
  const y = [...b].sort((p, q) => p.offset - q.offset);
  return x.every((e, i) => e.deleteCount === y[i]!.deleteCount && e.insertText === y[i]!.insertText);
}

/**
 * Where a document offset (a cursor, a selection end) lands after `edits`, a batch as the binding
 * hands it to the editor. A position inside a replaced range moves to its end (`after`) or start
 * (`before`); at an insertion point, `before` stays in front of the inserted text.
 */
export function mapOffset(offset: number, edits: readonly DocumentEdit[], bias: 'before' | 'after' = 'after'): number {
  let shift = 0;
  for (const e of edits) {
    const end = e.offset + e.deleteCount;
    const inserted = e.insertText.length;
    if (end < offset || (end === offset && e.deleteCount > 0)) shift += inserted - e.deleteCount;
    else if (e.offset === offset && e.deleteCount === 0) shift += bias === 'after' ? inserted : 0;
    else if (e.offset < offset && offset < end) shift += e.offset - offset + (bias === 'after' ? inserted : 0);
  }
  return offset + shift;
}
