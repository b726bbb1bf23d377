import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { CoeditPeerView } from '../../node/engine/engine-protocol';
import { CoeditProtocolError } from '../../sync/coedit/coedit-frame';
import { CoeditLimitError, CoeditSession, type CoeditUser, type TextSelection } from '../../sync/coedit/coedit-session';
import { normaliseEol } from '../../sync/coedit/eol';
import { mergeText } from '../../sync/text/text-merge';
import { SerialQueue } from '../../sync/util/serial-queue';
import { planSession } from './coedit-plan';
import { TextBinding } from '../../sync/coedit/text-binding';
import { documentEdits, editableDocument } from './coedit-document';
import type { EngineSession } from '../engine/engine-session';
import { cursorMarks } from './remote-cursor-marks';
import type { RemoteCursors } from './remote-cursors';

/** What one open file's co-editing needs from the window. */
export interface CoeditFileContext {
  readonly engine: EngineSession;
  readonly log: vscode.LogOutputChannel;
  readonly cursors: RemoteCursors;
  readonly user: () => CoeditUser | undefined;
  readonly maxBytes: () => number;
}

/** A joiner whose join was not answered asks again this often (the members may not have had their session yet). */
const REJOIN_MS = 4_000;

/** Quiet time after which an open document is compared with what its binding knows of it. */
const VERIFY_AFTER_MS = 1_000;

interface Live {
  readonly name: string;
  readonly session: CoeditSession;
  binding?: TextBinding;
  rejoin?: ReturnType<typeof setInterval>;
  readonly stopListening: (() => void)[];
}

/**
 * One open file of a shared folder and its live session (docs/COEDIT.md §3): announces the file
 * with its seed's name, follows the plan (seed, join, keep, leave) as other devices announce
 * theirs, carries frames between the session and the engine host, binds the session to the
 * TextDocument once the document holds the session's state, and draws the others' cursors.
 * Steps that wait (disk reads, the EOL change, the host) run one at a time, in order.
 */
export class CoeditFile implements vscode.Disposable {
  /** The session this device would seed: SHA-256 of the saved text. */
  private own: string | undefined;
  private peers: readonly CoeditPeerView[] = [];
  private live: Live | undefined;
  private announced: { session: string; live: boolean; disk: string | undefined } | undefined;
  /** Stays out of co-editing until the next save (too large, not text, unsaved edits that conflict). */
  private out = false;
  private closed = false;
  private readonly work = new SerialQueue();
  private outbox: Uint8Array[] = [];
  private flushScheduled = false;
  private redrawTimer: ReturnType<typeof setTimeout> | undefined;
  private verifyTimer: ReturnType<typeof setTimeout> | undefined;
  private readerTold = false;

  constructor(
    readonly space: string,
    readonly path: string,
    readonly document: vscode.TextDocument,
    private readonly readOnly: boolean,
    private readonly ctx: CoeditFileContext,
  ) {}

  /** Whether the document is bound to a session now (for tests and the log). */
  get sessionName(): string | undefined {
    return this.live?.binding ? this.live.name : undefined;
  }

  start(): void {
    this.enqueue(() => this.announceFresh());
  }

  // ---- engine events ----

  peersChanged(peers: readonly CoeditPeerView[]): void {
    const now = new Set(peers.map((p) => p.device));
    for (const p of this.peers) if (!now.has(p.device)) this.live?.session.memberGone(p.device);
    const before = new Map(this.peers.map((p) => [p.device, p.session]));
    this.peers = peers;
    const live = this.live;
    if (live?.binding) {
      // A device that (re)enters this session gets a join from here, so both sides exchange what
      // the other lacks (edits made while the link was down), whoever sent the first join.
      for (const p of peers)
        if (p.session === live.name && before.get(p.device) !== live.name) this.send(live.name, live.session.join(), p.device);
    }
    this.ctx.log.info(
      `co-editing ${this.path}: ${peers.length} other device(s) have it open: ${peers.map((p) => `${p.name} ${p.session.slice(0, 8)}${p.live ? ' live' : ''}`).join(', ')}`,
    );
    this.replan();
  }

  frameReceived(session: string, from: string, frame: string): void {
    const live = this.live;
    if (!live || live.name !== session) {
      this.ctx.log.trace(`co-editing ${this.path}: a frame of session ${session.slice(0, 8)} from ${from}, which this device is not in`);
      return;
    }
    let replies: Uint8Array[];
    try {
      replies = live.session.receive(new Uint8Array(Buffer.from(frame, 'base64')), from);
    } catch (err) {
      if (!(err instanceof CoeditProtocolError)) throw err;
      this.ctx.log.warn(`co-editing ${this.path}: dropped a frame from device ${from}: ${err.message}`);
      return;
    }
    if (replies.length > 0) this.send(live.name, replies, from);
    this.scheduleRedraw();
  }

  /** The engine host restarted and knows nothing of this file: announce again, and rejoin. */
  hostRestarted(): void {
    if (this.out) return;
    this.enqueue(async () => {
      const live = this.live;
      if (!live) return this.announceFresh();
      this.announced = undefined;
      await this.announce(live.name, live.binding !== undefined);
      this.send(live.name, live.session.join());
    });
  }

  // ---- editor events ----

  documentChanged(e: vscode.TextDocumentChangeEvent): void {
    const live = this.live;
    if (!live?.binding) {
      // Reloaded from disk (not dirty after a change nobody typed): the seed's name changed.
      if (e.contentChanges.length > 0 && !this.document.isDirty && e.reason === undefined && !this.out)
        this.enqueue(() => this.announceFresh());
      return;
    }
    // A batch of ours leaves the document dirty: a clean document that changed by itself and now
    // shows the disk was reloaded from disk. It changed outside the session (every device with it
    // open and unchanged reloads the same content, so none may push it in as its own edit): a new
    // session starts from the new content.
    if (e.contentChanges.length > 0 && !this.document.isDirty && e.reason === undefined && this.showsDisk()) {
      this.ctx.log.info(`co-editing ${this.path}: the file changed on disk; starting over from its new content`);
      this.leave();
      this.enqueue(() => this.announceFresh());
      return;
    }
    live.binding.documentChanged(documentEdits(e.contentChanges), e.document.version);
    this.scheduleRedraw();
    this.scheduleVerify();
  }

  /**
   * Whether the document shows exactly what is on disk. Asked only of a change with the document
   * not dirty (VS Code reports the first keystroke after a save that way too, so the flag alone
   * does not tell a reload from typing); read at once, so the answer comes before the change is shared.
   */
  private showsDisk(): boolean {
    try {
      // As VS Code shows it: UTF-8 without a byte order mark.
      const disk = fs.readFileSync(this.document.uri.fsPath, 'utf8').replace(/^\uFEFF/, '');
      return normaliseEol(disk) === normaliseEol(this.document.getText());
    } catch {
      return false;
    }
  }

  documentSaved(): void {
    const live = this.live;
    if (live) {
      if (!this.peers.some((p) => p.session === live.name)) {
        // Saved with nobody else in the session: this file may now differ from what the others
        // saved meanwhile, and replication, not the session, must decide between the two. Rejoining
        // the old session later would merge them as live edits.
        this.ctx.log.info(`co-editing ${this.path}: saved while alone in session ${live.name.slice(0, 8)}; leaving it`);
        this.leave();
        this.enqueue(() => this.announceFresh());
        return;
      }
      // The session goes on; its members learn the file this device saved.
      this.enqueue(async () => {
        const saved = await this.readSaved();
        if (saved === undefined || this.live !== live) return;
        this.own = sessionName(saved);
        await this.announce(live.name, live.binding !== undefined);
      });
      return;
    }
    // A new saved text: a new seed name; and a file that stayed out may take part again.
    this.out = false;
    this.enqueue(() => this.announceFresh());
  }

  /** This device's cursor in the file, or undefined when the file is not in the active editor. */
  selectionChanged(selection: vscode.Selection | undefined): void {
    const live = this.live;
    if (!live?.binding) return;
    const binding = live.binding;
    const toText = (p: vscode.Position): number => binding.toTextOffset(this.document.offsetAt(p));
    const shared: TextSelection | undefined = selection && { anchor: toText(selection.anchor), head: toText(selection.active) };
    live.session.setLocalSelection(shared);
  }

  redraw(): void {
    const live = this.live;
    const editors = vscode.window.visibleTextEditors.filter((e) => e.document === this.document);
    if (!live?.binding) {
      for (const e of editors) this.ctx.cursors.clear(e);
      return;
    }
    const binding = live.binding;
    const marks = cursorMarks(live.session.remoteCursors(), (o) => binding.toDocumentOffset(o), this.document.getText().length);
    for (const e of editors) this.ctx.cursors.show(e, marks);
  }

  // ---- the plan ----

  private replan(): void {
    if (this.closed || this.out || this.own === undefined) return;
    const live = this.live;
    const plan = planSession({
      own: this.own,
      ...(live ? { current: { session: live.name, live: live.binding !== undefined } } : {}),
      peers: this.peers.map((p) => ({
        device: p.device,
        session: p.session,
        live: p.live,
        readOnly: p.readOnly,
        ...(p.disk !== undefined ? { disk: p.disk } : {}),
      })),
      reader: this.readOnly,
      dirty: this.document.isDirty,
    });
    switch (plan.kind) {
      case 'none':
        if (live) {
          this.ctx.log.info(`co-editing ${this.path}: nobody is left to answer the join of session ${live.name.slice(0, 8)}`);
          this.leave();
          this.enqueue(() => this.announceFresh());
        }
        return;
      case 'keep':
        return;
      case 'seed':
        this.enqueue(() => this.seed(plan.session));
        return;
      case 'join':
        if (live) {
          this.ctx.log.info(`co-editing ${this.path}: moving from session ${live.name.slice(0, 8)} to ${plan.session.slice(0, 8)}`);
          this.leave();
        }
        this.enqueue(() => this.join(plan.session));
        return;
    }
  }

  /** Reads the saved text, announces its session name with no session yet, and plans again. */
  private async announceFresh(): Promise<void> {
    if (this.live) return;
    const saved = await this.readSaved();
    if (saved === undefined) return;
    this.own = sessionName(saved);
    await this.announce(this.own, false);
    this.replan();
  }

  private async seed(name: string): Promise<void> {
    if (this.live || this.out) return;
    const saved = await this.readSaved();
    if (saved === undefined) return;
    if (sessionName(saved) !== name) {
      // The file changed on disk since it was announced: announce what it is now.
      this.own = sessionName(saved);
      await this.announce(this.own, false);
      return this.replan();
    }
    const buffer = this.document.getText();
    const session = this.newSession(normaliseEol(buffer) !== normaliseEol(saved) ? { seed: saved, localText: buffer } : { seed: saved });
    if (!session) return;
    this.live = { name, session, stopListening: [] };
    this.ctx.log.info(
      `co-editing ${this.path}: session ${name.slice(0, 8)} seeded from the saved text${buffer === saved ? '' : ' with unsaved edits'}`,
    );
    await this.bind(this.live);
    this.send(name, session.join());
    await this.announce(name, true);
  }

  private async join(name: string): Promise<void> {
    if (this.live || this.out) return;
    const session = this.newSession({});
    if (!session) return;
    const live: Live = { name, session, stopListening: [] };
    this.live = live;
    await this.announce(name, false);
    this.ctx.log.info(`co-editing ${this.path}: joining session ${name.slice(0, 8)}`);
    this.send(name, session.join());
    live.rejoin = setInterval(() => {
      if (this.live === live && !session.isSynced) this.send(name, session.join());
    }, REJOIN_MS);
    void session.synced.then(() => this.enqueue(() => this.catchUp(live)));
  }

  /** A joiner caught up: its unsaved edits, if any, are merged in; then the editor is bound. */
  private async catchUp(live: Live): Promise<void> {
    if (this.live !== live) return;
    if (live.rejoin) clearInterval(live.rejoin);
    const saved = await this.readSaved();
    if (saved === undefined || this.live !== live) return;
    const buffer = normaliseEol(this.document.getText());
    const base = normaliseEol(saved);
    if (buffer !== base) {
      const merged = mergeText(base, live.session.text.toString(), buffer);
      if (!merged.clean) {
        this.ctx.log.warn(
          `co-editing ${this.path}: unsaved edits conflict with the live session (${merged.conflicts.length} stretch(es)); staying out of it`,
        );
        this.leave();
        this.out = true;
        this.announced = undefined;
        await this.ctx.engine.call('coeditClose', { space: this.space, path: this.path }).catch(() => undefined);
        void vscode.window.showWarningMessage(
          vscode.l10n.t(
            '{0} is being edited live by others, and your unsaved changes conflict with theirs. Save or revert your changes to join them.',
            this.path,
          ),
        );
        return;
      }
      live.session.applyText(merged.text);
    }
    await this.bind(live);
    await this.announce(live.name, true);
  }

  private newSession(seed: { seed?: string; localText?: string }): CoeditSession | undefined {
    const user = this.ctx.user();
    if (!user) return undefined;
    try {
      return new CoeditSession({ ...seed, user, broadcast: (frame) => this.queueFrame(frame), maxBytes: this.ctx.maxBytes() });
    } catch (err) {
      if (!(err instanceof CoeditLimitError)) throw err;
      this.ctx.log.info(`co-editing ${this.path}: not co-edited live: ${err.message}; it replicates on save`);
      this.out = true;
      return undefined;
    }
  }

  /** Sets the document's line breaks to the session's, then makes it show the session's text. */
  private async bind(live: Live): Promise<void> {
    const want = live.session.eol === '\r\n' ? vscode.EndOfLine.CRLF : vscode.EndOfLine.LF;
    if (this.document.eol !== want) {
      const edit = new vscode.WorkspaceEdit();
      edit.set(this.document.uri, [vscode.TextEdit.setEndOfLine(want)]);
      await vscode.workspace.applyEdit(edit);
    }
    if (this.live !== live || this.closed) return;
    live.binding = new TextBinding(live.session.text, editableDocument(this.document), live.session.eol, this.readOnly, {
      log: (m) => this.ctx.log.info(`co-editing ${this.path}: ${m}`),
      refused: () => this.tellReader(),
      gaveUp: () => {
        this.ctx.log.warn(`co-editing ${this.path}: the editor does not take the session's changes; leaving it`);
        this.leave();
        this.out = true;
      },
    });
    const onChange = (): void => this.scheduleRedraw();
    live.session.awareness.on('change', onChange);
    live.stopListening.push(() => live.session.awareness.off('change', onChange));
    const active = vscode.window.activeTextEditor;
    if (active?.document === this.document) this.selectionChanged(active.selection);
    this.ctx.log.info(`co-editing ${this.path}: live in session ${live.name.slice(0, 8)}${this.readOnly ? ' (read-only)' : ''}`);
  }

  private leave(): void {
    const live = this.live;
    if (!live) return;
    if (live.rejoin) clearInterval(live.rejoin);
    for (const stop of live.stopListening) stop();
    live.binding?.dispose();
    live.session.destroy(); // tells the others this device left
    this.flush();
    this.live = undefined;
    this.redraw();
  }

  // ---- the engine host ----

  private async announce(session: string, live: boolean): Promise<void> {
    const disk = this.own;
    if (this.announced?.session === session && this.announced.live === live && this.announced.disk === disk) return;
    this.announced = { session, live, disk };
    this.ctx.log.info(`co-editing ${this.path}: announced as session ${session.slice(0, 8)}${live ? ', live' : ''}`);
    try {
      await this.ctx.engine.call('coeditOpen', {
        space: this.space,
        path: this.path,
        session,
        live,
        ...(disk !== undefined ? { disk } : {}),
      });
    } catch (err) {
      this.announced = undefined;
      this.ctx.log.warn(`co-editing ${this.path}: announcing it failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private queueFrame(frame: Uint8Array): void {
    this.outbox.push(frame);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // One call per turn: a keystroke's update and the cursor move that follows go together.
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const frames = this.outbox.splice(0);
    const name = this.live?.name;
    if (frames.length > 0 && name !== undefined) this.send(name, frames);
  }

  private send(session: string, frames: readonly Uint8Array[], to?: string): void {
    if (frames.length === 0 || !this.ctx.engine.running) return;
    const encoded = frames.map((f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('base64'));
    this.ctx.engine
      .call('coeditSend', { space: this.space, path: this.path, session, frames: encoded, ...(to !== undefined ? { to } : {}) })
      .catch((err: unknown) =>
        this.ctx.log.warn(`co-editing ${this.path}: sending failed: ${err instanceof Error ? err.message : String(err)}`),
      );
  }

  /** The file's text as saved: undefined (and the file stays out) when it is too large or not UTF-8 text. */
  private async readSaved(): Promise<string | undefined> {
    let bytes: Uint8Array;
    try {
      bytes = await vscode.workspace.fs.readFile(this.document.uri);
    } catch (err) {
      this.ctx.log.info(`co-editing ${this.path}: cannot read it (${err instanceof Error ? err.message : String(err)})`);
      return undefined;
    }
    const max = this.ctx.maxBytes();
    if (bytes.byteLength > max) {
      this.ctx.log.info(
        `co-editing ${this.path}: ${bytes.byteLength} bytes, over sharedFolders.coedit.maxFileSize (${max}): not co-edited live, it replicates on save`,
      );
      this.out = true;
      return undefined;
    }
    try {
      const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      if (text.includes('\0')) throw new Error('a NUL byte');
      return text;
    } catch {
      this.ctx.log.info(`co-editing ${this.path}: not UTF-8 text: not co-edited live`);
      this.out = true;
      return undefined;
    }
  }

  private enqueue(step: () => Promise<void>): void {
    void this.work
      .run(() => (this.closed ? undefined : step()))
      .catch((err: unknown) =>
        this.ctx.log.error(`co-editing ${this.path}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`),
      );
  }

  /** A reader typed: told once that those changes are not shared and are undone. */
  private tellReader(): void {
    if (this.readerTold) return;
    this.readerTold = true;
    void vscode.window.showInformationMessage(
      vscode.l10n.t(
        'You are a reader of this shared folder: your changes to {0} are not shared and are undone while others edit it.',
        this.path,
      ),
    );
  }

  /** A second after the last change, the document is compared with what the binding knows of it. */
  private scheduleVerify(): void {
    if (this.verifyTimer) clearTimeout(this.verifyTimer);
    this.verifyTimer = setTimeout(() => {
      this.verifyTimer = undefined;
      if (!this.closed) this.live?.binding?.verify();
    }, VERIFY_AFTER_MS);
  }

  private scheduleRedraw(): void {
    if (this.redrawTimer) return;
    this.redrawTimer = setTimeout(() => {
      this.redrawTimer = undefined;
      if (!this.closed) this.redraw();
    }, 30);
  }

  /** The file was closed (or left the folder, or co-editing was turned off). */
  dispose(): void {
    if (this.closed) return;
    this.leave();
    this.closed = true;
    if (this.redrawTimer) clearTimeout(this.redrawTimer);
    if (this.verifyTimer) clearTimeout(this.verifyTimer);
    if (this.announced && this.ctx.engine.running)
      this.ctx.engine.call('coeditClose', { space: this.space, path: this.path }).catch(() => undefined);
  }
}

/** A session's name: SHA-256 (hex) of its seed's UTF-8 text, so equal contents give equal names. */
export function sessionName(seed: string): string {
  return createHash('sha256').update(seed, 'utf8').digest('hex');
}
