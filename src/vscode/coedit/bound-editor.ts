import type * as Y from 'yjs';
import type { Eol } from '../../sync/coedit/eol';
import { TextBinding, type DocumentEdit, type EditorDocument } from '../../sync/coedit/text-binding';

/** What the bound editor needs of a document: its text now, and a way to apply a batch that may be refused. */
export interface EditableDocument {
  getText(): string;
  /**
   * Applies a batch (offsets as TextBinding hands them out). Resolves false when the editor
   * refused it (VS Code does when the document changed since: the user typed meanwhile); the
   * change report of an applied batch comes through `documentChanged`, before or after.
   */
  apply(edits: readonly DocumentEdit[]): PromiseLike<boolean>;
}

/** How long after VS Code's answer the report of an applied batch may still come. */
const REPORT_GRACE_MS = 100;

/** Resyncs in a row with nobody typing and nothing taken: the editor does not take our edits. */
const MAX_RESYNCS = 8;

/**
 * A shared text bound to an editor document that applies edits asynchronously and may refuse
 * them, as VS Code does: one batch travels at a time; a batch that comes meanwhile, or is
 * refused, is held back (dead in the binding, which keeps moving keystrokes over it), and once
 * nothing is on its way or awaited the document is repaired from the shared text by one diff.
 * No VS Code types, so the whole dance is tested against a simulated editor.
 */
export class BoundEditor {
  readonly binding: TextBinding;
  private sending = false;
  /** A batch was held back or refused: later ones refer to text this document lacks. */
  private stale = false;
  private settleTimer: ReturnType<typeof setTimeout> | undefined;
  private resyncs = 0;
  /** Batches were replayed: once all are in, the document is compared with the shared text. */
  private verify = false;
  private disposed = false;

  constructor(
    text: Y.Text,
    private readonly document: EditableDocument,
    eol: Eol,
    readOnly: boolean,
    private readonly hooks: { readonly gaveUp: () => void; readonly log: (message: string) => void },
  ) {
    const editor: EditorDocument = { applyEdits: (edits) => this.applyEdits(edits) };
    this.binding = new TextBinding(text, editor, eol, readOnly);
    this.binding.resync(document.getText());
  }

  /** Every change the editor reports, ours or the user's. */
  documentChanged(edits: readonly DocumentEdit[]): 'echo' | 'shared' | 'refused' {
    let verdict: 'echo' | 'shared' | 'refused';
    try {
      verdict = this.binding.documentChanged(edits);
    } catch (err) {
      this.hooks.log(err instanceof Error ? err.message : String(err));
      verdict = 'refused';
    }
    // Refusals while the user types are expected; only a run of them with nobody typing is not.
    if (verdict !== 'refused') this.resyncs = 0;
    if (verdict === 'echo') this.checkDrift(false);
    if (verdict === 'refused') this.later(true);
    return verdict;
  }

  dispose(): void {
    this.disposed = true;
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.binding.dispose();
  }

  private applyEdits(edits: readonly DocumentEdit[]): void {
    if (this.disposed) return;
    if (this.sending || this.stale) {
      this.stale = true;
      this.binding.refused(edits);
      if (!this.sending) this.later(false);
      return;
    }
    this.sending = true;
    Promise.resolve(this.document.apply(edits)).then(
      (applied) => this.answered(edits, applied),
      (err: unknown) => {
        this.hooks.log(`applying a remote change failed: ${err instanceof Error ? err.message : String(err)}`);
        this.answered(edits, false);
      },
    );
  }

  private answered(edits: readonly DocumentEdit[], applied: boolean): void {
    this.sending = false;
    if (this.disposed) return;
    if (!applied) {
      this.stale = true;
      this.binding.refused(edits);
    } else if (this.binding.awaitingEcho) {
      // Its report comes with the answer: one not recognised by a moment later never will be.
      setTimeout(() => {
        if (this.disposed) return;
        const before = this.binding.awaitingEcho;
        this.binding.applied(edits);
        if (before && !this.binding.awaitingEcho)
          this.hooks.log('VS Code applied a remote change whose report was not recognised; comparing the document');
        this.checkDrift(false);
      }, REPORT_GRACE_MS);
    }
    this.checkDrift(false);
  }

  private later(force: boolean): void {
    if (this.settleTimer) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      if (!this.disposed) this.checkDrift(force);
    }, 0);
  }

  /**
   * Once nothing of ours is on its way or awaited: a document left short of the shared text (a
   * batch held back or refused) or ahead of it (a reader's typing, `force`) is repaired by one diff.
   */
  private checkDrift(force: boolean): void {
    if (this.sending || this.binding.awaitingEcho) return;
    if (this.binding.stale) {
      // The refused batches go again, oldest first, each rebased over what the user typed since.
      this.stale = false;
      this.verify = true;
      if (this.binding.replayRefused()) return;
    }
    if (!force && !this.stale && !this.verify && !this.binding.unsure) return;
    // All in: the document must show the shared text; where it does not (the user's edit
    // overlapped a batch), one diff repairs it.
    this.verify = false;
    const text = this.document.getText();
    this.stale = false;
    if (text === this.binding.documentText()) {
      this.binding.resync(text); // forgets the batches held back
      return;
    }
    this.hooks.log('the document differed from the shared text (an edit overlapped a remote change); repaired by a diff');
    if (++this.resyncs > MAX_RESYNCS) {
      this.hooks.gaveUp();
      return;
    }
    this.binding.resync(text);
  }
}
