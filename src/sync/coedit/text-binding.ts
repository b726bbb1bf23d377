import type * as Y from 'yjs';
import { normaliseEol, withEol, type Eol } from './eol';
import { LineStarts } from './line-starts';
import { applyDelta, Delta, deltaToEdits, diffDelta, editsToDelta, isIdentity, offsetBefore, type DocumentEdit } from './text-delta';

export type { DocumentEdit } from './text-delta';

/**
 * What the binding needs of an editor document. Modelled on what VS Code guarantees (and nothing
 * more): the extension host sees the document's changes one report at a time, in the order they
 * happened, each with the document's new version; a batch of edits handed to `apply` is applied
 * whole only if the document is still at the version the batch was made against (TextEditor.edit
 * checks that in the same step that applies it), and is then reported like any other change, as
 * the version right after, before or after `apply` answers. The report may list the changes in
 * another order or shape; only its version tells it is ours.
 */
export interface EditorDocument {
  /** The document's text and version as the binding's side sees them now. */
  getText(): string;
  readonly version: number;
  /**
   * Applies `edits` (descending offsets, each relative to the document at `version`) if and only
   * if the document is still at `version`; resolves whether it did.
   */
  apply(edits: readonly DocumentEdit[], version: number): PromiseLike<boolean>;
}

export interface BindingHooks {
  readonly log?: (message: string) => void;
  /** A reader changed the document: the change is not shared and is being undone. */
  readonly refused?: () => void;
  /** The editor refused batch after batch with nothing typed in between: it does not take edits (a read-only editor). */
  readonly gaveUp?: () => void;
}

/** Batches refused in a row while the document did not change: the editor will not take them. */
const MAX_IDLE_REFUSALS = 8;

/** A report of the document's changes that came while a batch of ours was unanswered. */
interface Held {
  readonly edits: readonly DocumentEdit[];
  readonly version: number;
}

/** A batch handed to the editor and not settled yet. */
interface InFlight {
  /** The document version the batch was made against. */
  readonly version: number;
  /** The batch, over the document at `version`. */
  readonly sent: Delta;
  /** Remote changes since, over the document with the batch applied. */
  rest: Delta;
  /** The editor's answer, once it came. */
  applied?: boolean;
}

/**
 * Binds a document open in an editor to the shared Y.Text of its file. The two are two sites of
 * an operational transformation with one change in flight at a time:
 *
 * - `shadow` is the document as of the last report taken (its `\n` text), `lag` the changes that
 *   turn it into the shared text (remote changes the document does not show yet).
 * - The user's change (a report over `shadow`) goes into the shared text transformed over `lag`,
 *   and `lag` is transformed over it: the keystroke lands where the user saw it, the remote
 *   changes where their authors made them, whatever the timing.
 * - `lag` goes to the editor as one batch made against the shadow's version. While it is
 *   unanswered, reports are held: the report of the version right after the batch's is the batch
 *   itself if the editor applied it (it checks the version), and every other one is the user's. A
 *   refused batch is folded back into `lag` and sent again over what the user typed.
 *
 * No text diff decides where anything goes (a diff of `bob one` against `bob onne` cannot tell
 * which `n` is new). The Y.Text holds `\n` breaks and the document shows `eol` (the session's,
 * which the caller sets on the document first), so every member saves the same bytes.
 */
export class TextBinding {
  private shadow: string;
  private shadowVersion: number;
  /** The shadow's line starts, for `\r\n` documents: with `\n` both kinds of offsets are the same. */
  private lines: LineStarts | undefined;
  private lag: Delta;
  private flight: InFlight | undefined;
  private readonly held: Held[] = [];
  private readonly observer: (event: Y.YTextEvent, tx: Y.Transaction) => void;
  private disposed = false;
  private idleRefusals = 0;
  /** The editor does not take edits: nothing is sent any more. */
  private stalled = false;
  /** How often the document was found to differ from what the binding knew of it (never, unless an editor breaks its guarantees). */
  repairs = 0;

  constructor(
    private readonly text: Y.Text,
    private readonly editor: EditorDocument,
    readonly eol: Eol,
    /** A reader's binding: remote changes come in, the editor's own changes never enter the shared text. */
    readonly readOnly = false,
    private readonly hooks: BindingHooks = {},
  ) {
    this.shadow = normaliseEol(editor.getText());
    this.shadowVersion = editor.version;
    this.lastVersion = editor.version;
    this.lines = eol === '\r\n' ? new LineStarts(this.shadow) : undefined;
    this.lag = diffDelta(this.shadow, text.toString());
    this.observer = (event, tx) => {
      if (tx.origin !== this) this.remoteChanged(new Delta(event.delta as Delta['ops']));
    };
    text.observe(this.observer);
    this.send();
  }

  /** The text the document must show once everything settled: the shared text with the document's line breaks. */
  documentText(): string {
    return withEol(this.text.toString(), this.eol);
  }

  /** Whether the document shows the shared text and nothing is on its way (for tests and the log). */
  get settled(): boolean {
    return !this.flight && this.held.length === 0 && isIdentity(this.lag);
  }

  /**
   * Every change report of the document, in the order the editor made them, with the document's
   * version after each (VS Code: `contentChanges` and `document.version` of
   * onDidChangeTextDocument). A report whose version is not newer (a change of the dirty flag)
   * changes nothing; one with no changes but a newer version (the line breaks changed) still
   * tells an unanswered batch it came too late.
   */
  documentChanged(edits: readonly DocumentEdit[], version: number): void {
    if (this.disposed || version <= this.lastVersion) return;
    this.lastVersion = version;
    this.held.push({ edits, version });
    this.drain();
  }

  /** The newest version reported, held or taken. */
  private lastVersion: number;

  /** A document offset (a cursor) in the shared text. */
  toTextOffset(documentOffset: number): number {
    const offset = this.lines ? this.lines.fromCrlf(documentOffset) : documentOffset;
    return this.pending().transformPosition(Math.min(offset, this.shadow.length));
  }

  /** A shared-text offset (another member's cursor) in the document: in text not shown yet, its insertion point. */
  toDocumentOffset(textOffset: number): number {
    const offset = Math.min(offsetBefore(this.pending(), textOffset), this.shadow.length);
    return this.lines ? this.lines.toCrlf(offset) : offset;
  }

  /**
   * Compares the document with what the binding knows of it once nothing is on its way; a
   * difference (an editor that broke its guarantees) is repaired from the shared text by a diff,
   * and logged. Returns whether the document was right.
   */
  verify(): boolean {
    if (this.disposed || this.flight || this.held.length > 0) return true;
    const document = normaliseEol(this.editor.getText());
    if (document === this.shadow && applyDelta(this.shadow, this.lag) === this.text.toString()) return true;
    this.hooks.log?.('the document differed from what the co-editing binding knew of it; repaired from the shared text by a diff');
    this.repairs++;
    this.resetTo(document, this.editor.version);
    this.send();
    return false;
  }

  dispose(): void {
    this.disposed = true;
    this.flight = undefined;
    this.held.length = 0;
    this.text.unobserve(this.observer);
  }

  private pending(): Delta {
    return this.flight ? this.flight.sent.compose(this.flight.rest) : this.lag;
  }

  private remoteChanged(delta: Delta): void {
    if (this.disposed) return;
    if (this.flight) this.flight.rest = this.flight.rest.compose(delta);
    else this.lag = this.lag.compose(delta);
    this.send();
  }

  /** Settles the batch in flight once its answer (and, if applied, its report) came, then takes the user's reports in order. */
  private drain(): void {
    const flight = this.flight;
    if (flight) {
      if (flight.applied === undefined) return;
      if (flight.applied) {
        const echo = this.held[0];
        if (!echo) return; // its report is still on its way
        this.held.shift();
        this.flight = undefined;
        this.takeEcho(echo, flight);
      } else {
        this.flight = undefined;
        this.lag = flight.sent.compose(flight.rest);
        // Refused with no report since it was sent: nothing the user did explains it.
        this.idleRefusals = this.held.length === 0 && this.lastVersion === flight.version ? this.idleRefusals + 1 : 0;
        if (this.idleRefusals > MAX_IDLE_REFUSALS) {
          this.hooks.log?.(`the editor refused ${this.idleRefusals} batches in a row with nothing typed; giving up on it`);
          this.stalled = true;
          this.hooks.gaveUp?.();
          return;
        }
      }
    }
    for (let report = this.held.shift(); report; report = this.held.shift()) this.takeUser(report);
    this.send();
  }

  private takeEcho(echo: Held, flight: InFlight): void {
    const expected = applyDelta(this.shadow, flight.sent);
    let reported: string | undefined;
    try {
      reported = applyDelta(this.shadow, editsToDelta(echo.edits, this.lines));
    } catch {
      reported = undefined;
    }
    if (echo.version === flight.version + 1 && reported === expected) {
      this.setShadow(expected, echo.version, flight.sent);
      this.lag = flight.rest;
      return;
    }
    // Not the batch as sent, at the version after it: the editor broke its promise. What the
    // document holds now is read back, and the shared text is brought to it by a diff.
    this.hooks.log?.(
      `the editor reported version ${echo.version} after applying a batch made against version ${flight.version}, ` +
        `${reported === expected ? 'as sent' : 'not as sent'}; repairing from the shared text`,
    );
    this.repairs++;
    this.resetTo(normaliseEol(this.editor.getText()), this.editor.version);
    this.held.length = 0;
  }

  /** A change the user made (or another extension): over the shadow, which it moves on. */
  private takeUser(report: Held): void {
    let change: Delta;
    try {
      change = editsToDelta(report.edits, this.lines);
    } catch (err) {
      this.hooks.log?.(`an unreadable change report (${err instanceof Error ? err.message : String(err)}); repairing`);
      this.repairs++;
      this.resetTo(normaliseEol(this.editor.getText()), this.editor.version);
      return;
    }
    const before = this.shadow;
    const after = applyDelta(before, change);
    if (this.readOnly) {
      // Not shared: the document is taken back to the shared text, through the lag.
      this.lag = change.invert(new Delta().insert(before)).compose(this.lag);
      if (!isIdentity(change)) this.hooks.refused?.();
    } else {
      const shared = this.lag.transform(change, true);
      this.lag = change.transform(this.lag, false);
      this.applyToText(shared);
    }
    this.setShadow(after, report.version, change);
  }

  /** Hands the lag to the editor as one batch, when nothing is in flight and no report waits. */
  private send(): void {
    if (this.disposed || this.stalled || this.flight || this.held.length > 0 || isIdentity(this.lag)) return;
    const sent = this.lag;
    const edits = deltaToEdits(sent, this.lines, this.eol);
    const flight: InFlight = { version: this.shadowVersion, sent, rest: new Delta() };
    this.flight = flight;
    this.lag = new Delta();
    const answered = (applied: boolean): void => {
      if (this.flight !== flight) return;
      flight.applied = applied;
      this.drain();
    };
    // Set before the call: an editor may report the batch before `apply` returns.
    Promise.resolve(this.editor.apply(edits, flight.version)).then(answered, (err: unknown) => {
      this.hooks.log?.(`applying remote changes failed: ${err instanceof Error ? err.message : String(err)}`);
      answered(false);
    });
  }

  private applyToText(change: Delta): void {
    if (isIdentity(change)) return;
    this.text.doc!.transact(() => {
      let at = 0;
      for (const op of change.ops) {
        if (typeof op.retain === 'number') at += op.retain;
        else if (typeof op.delete === 'number') this.text.delete(at, op.delete);
        else if (typeof op.insert === 'string') {
          this.text.insert(at, op.insert);
          at += op.insert.length;
        }
      }
    }, this);
  }

  private setShadow(text: string, version: number, change?: Delta): void {
    if (this.lines) {
      if (change) {
        // Descending, so each splice leaves the offsets of the ones still to come intact.
        const spans: [number, number, string][] = [];
        let at = 0;
        for (const op of change.ops) {
          if (typeof op.retain === 'number') at += op.retain;
          else if (typeof op.delete === 'number') {
            spans.push([at, op.delete, '']);
            at += op.delete;
          } else if (typeof op.insert === 'string') spans.push([at, 0, op.insert]);
        }
        for (const [start, deleted, inserted] of spans.reverse()) this.lines.splice(start, deleted, inserted);
      } else {
        this.lines = new LineStarts(text);
      }
    }
    this.shadow = text;
    this.shadowVersion = version;
  }

  private resetTo(document: string, version: number): void {
    this.setShadow(document, version);
    this.lastVersion = Math.max(this.lastVersion, version);
    this.lag = diffDelta(document, this.text.toString());
  }
}
