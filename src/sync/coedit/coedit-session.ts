/**
 * src/sync/coedit/: live co-editing of one text file: a Yjs document per file and session
 * (coedit-session.ts), its frames (coedit-frame.ts) and the binding to an editor's text
 * (text-binding.ts). It runs in the extension host, next to the editor (docs/COEDIT.md).
 * Pure engine: imports yjs, y-protocols and lib0, and from src/sync only model/path and text/.
 */
import * as Y from 'yjs';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { utf8Length } from '../model/path';
import { diffHunks } from '../text/text-diff';
import { colourFor } from './colour';
import { CoeditProtocolError, decodeFrame, encodeFrame, FrameKind } from './coedit-frame';
import { normaliseEol, type Eol } from './eol';
import { seedUpdate, sharedEol, sharedText } from './shared-document';

/** Files larger than this are not co-edited live: they replicate on save like any other file. */
export const COEDIT_MAX_BYTES = 5 * 1024 * 1024;

/** Whether a file of `byteLength` bytes gets a live session at all. */
export function offersCoedit(byteLength: number, maxBytes: number = COEDIT_MAX_BYTES): boolean {
  return byteLength <= maxBytes;
}

export class CoeditLimitError extends Error {
  constructor(
    readonly byteLength: number,
    readonly maxBytes: number,
  ) {
    super(`a ${byteLength}-byte text is over the co-editing limit of ${maxBytes} bytes`);
    this.name = 'CoeditLimitError';
  }
}

export interface CoeditUser {
  readonly id: string;
  readonly name: string;
}

/** A selection in shared-text offsets (`\n` breaks); `anchor === head` is a plain cursor. */
export interface TextSelection {
  readonly anchor: number;
  readonly head: number;
}

/** Another member's presence in this file, positions resolved against the current text. */
export interface RemoteCursor {
  /** The Yjs client id: one per device and session. */
  readonly clientId: number;
  readonly user: { readonly id: string; readonly name: string; readonly colour: string };
  /** Undefined while the member has no cursor in the file, or its position is not known here yet. */
  readonly selection: TextSelection | undefined;
}

export interface CoeditSessionOptions {
  /**
   * The file's content as replication left it: every member of one session must seed from the
   * same bytes (the caller keys sessions by their hash), see `seedUpdate`. Absent for a joiner:
   * its document starts empty and takes the session's state from the first member that answers
   * its `join()` (`synced`).
   */
  readonly seed?: string;
  /** The editor's text when it differs from the seed (unsaved edits); merged in as this member's edits. Needs a seed. */
  readonly localText?: string;
  readonly user: CoeditUser;
  /** Sends a frame to every other member of the session. */
  readonly broadcast: (frame: Uint8Array) => void;
  /** The Yjs client id; random by default. Tests fix it so a seed replays exactly. */
  readonly clientId?: number;
  readonly maxBytes?: number;
}

/** Origins of the transactions this session makes, so it knows which changes to send on. */
const SEED = Symbol('seed');
const LOCAL_TEXT = Symbol('local text');

/**
 * One file's live session on one device, between every device that has the file open. Like
 * y-protocols itself it is bytes in, bytes out: `receive` takes a frame from a member and returns
 * the frames to send back to that member; changes made here go to `broadcast`. The caller owns
 * the channel (the end-to-end encrypted one between devices), which must deliver every frame
 * eventually, in any order, possibly twice, to every member directly (frames are not relayed).
 *
 * Yjs and y-protocols do the work: sync steps 1 and 2 exchange state vectors and exactly the
 * missing changes, so a member joining a long session catches up with one reply; updates carry
 * each change; awareness carries names, colours and cursors as Yjs relative positions, which stay
 * on the same character whatever others insert or delete before it.
 */
export class CoeditSession {
  readonly doc: Y.Doc;
  readonly text: Y.Text;
  readonly awareness: awarenessProtocol.Awareness;
  /** Marks transactions that came from members, which are never sent on. */
  private readonly remote = Symbol('remote');
  /** Awareness clients each member announced, to forget them when the member goes. */
  private readonly clientsByMember = new Map<string, Set<number>>();
  private destroyed = false;
  private syncedNow: boolean;
  private markSynced: () => void = () => undefined;
  /**
   * Resolves once the document holds the session's state: at once for a seeded session, for a
   * joiner when the first sync step 2 (a member's answer to its join) arrived. Never rejects.
   */
  readonly synced: Promise<void>;

  constructor(options: CoeditSessionOptions) {
    const maxBytes = options.maxBytes ?? COEDIT_MAX_BYTES;
    for (const t of [options.seed ?? '', options.localText ?? '']) {
      const size = utf8Length(t);
      if (!offersCoedit(size, maxBytes)) throw new CoeditLimitError(size, maxBytes);
    }
    if (options.seed === undefined && options.localText !== undefined)
      throw new TypeError('unsaved edits need the seed they were made against');
    this.doc = new Y.Doc({ gc: true });
    if (options.clientId !== undefined) this.doc.clientID = options.clientId;
    if (options.seed !== undefined) Y.applyUpdate(this.doc, seedUpdate(options.seed), SEED);
    this.text = sharedText(this.doc);
    this.syncedNow = options.seed !== undefined;
    this.synced = this.syncedNow ? Promise.resolve() : new Promise<void>((resolve) => (this.markSynced = resolve));
    if (options.localText !== undefined) this.applyText(options.localText, LOCAL_TEXT);
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === this.remote || origin === SEED) return;
      options.broadcast(this.syncFrame(FrameKind.Sync, (e) => syncProtocol.writeUpdate(e, update)));
    });
    this.awareness = new awarenessProtocol.Awareness(this.doc);
    // Set before listening: the others learn it from `join`, not from the constructor.
    this.awareness.setLocalState({ user: { ...options.user, colour: colourFor(options.user.id) }, cursor: null });
    this.awareness.on('update', ({ added, updated, removed }: AwarenessChange, origin: unknown) => {
      if (origin === this.remote) return;
      const changed = [...added, ...updated, ...removed];
      options.broadcast(encodeFrame(FrameKind.Awareness, awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed)));
    });
  }

  /** Whether the document holds the session's state yet (see `synced`). */
  get isSynced(): boolean {
    return this.syncedNow;
  }

  /** The line break every member's editor shows and saves. */
  get eol(): Eol {
    return sharedEol(this.doc);
  }

  /** The frames to broadcast when this device joins or rejoins the session (after a reconnect too). */
  join(): Uint8Array[] {
    return [this.syncFrame(FrameKind.Join, (e) => syncProtocol.writeSyncStep1(e, this.doc)), this.awarenessFrame([this.doc.clientID])];
  }

  /**
   * Takes one frame from `member` (any stable name for the sending device) and returns the frames
   * to send back to it. Throws CoeditProtocolError for a frame this side cannot read, and the
   * caller may drop the frame. A frame whose bytes do not parse changes nothing; an update that
   * parses but that Yjs cannot integrate (it throws "Unexpected case" part way) may have changed
   * the document as an edit from that member could.
   */
  receive(frame: Uint8Array, member: string): Uint8Array[] {
    if (this.destroyed) return [];
    const { kind, payload } = decodeFrame(frame);
    try {
      if (kind === FrameKind.Awareness) {
        this.noteClients(member, payload);
        awarenessProtocol.applyAwarenessUpdate(this.awareness, payload, this.remote);
        return [];
      }
      checkUpdate(payload);
      const reply = encoding.createEncoder();
      // A handler that throws: without one, y-protocols logs a broken update and carries on.
      const type = syncProtocol.readSyncMessage(decoding.createDecoder(payload), reply, this.doc, this.remote, (err) => {
        throw err;
      });
      if (type === syncProtocol.messageYjsSyncStep2 && !this.syncedNow) {
        this.syncedNow = true;
        this.markSynced();
      }
      const out: Uint8Array[] = [];
      if (encoding.length(reply) > 0) out.push(encodeFrame(FrameKind.Sync, encoding.toUint8Array(reply)));
      if (kind === FrameKind.Join) {
        // The joiner may hold changes we lack (edits made while alone): ask for them. Only our own
        // presence goes back: the others answer the joiner's broadcast themselves, and a state
        // always arrives from its own device, so `memberGone` knows whose cursors to drop.
        out.push(this.syncFrame(FrameKind.Sync, (e) => syncProtocol.writeSyncStep1(e, this.doc)));
        out.push(this.awarenessFrame([this.doc.clientID]));
      }
      return out;
    } catch (err) {
      if (err instanceof CoeditProtocolError) throw err;
      throw new CoeditProtocolError('malformed', `unreadable co-editing frame: ${(err as Error).message}`);
    }
  }

  /** Forgets the presence of a member whose channel closed, so its cursor disappears at once. */
  memberGone(member: string): void {
    const clients = this.clientsByMember.get(member);
    this.clientsByMember.delete(member);
    if (clients && clients.size > 0) awarenessProtocol.removeAwarenessStates(this.awareness, [...clients], this.remote);
  }

  /** This device's cursor or selection, in shared-text offsets; undefined when the editor is not focused on the file. */
  setLocalSelection(selection: TextSelection | undefined): void {
    const cursor = selection && {
      anchor: Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(this.text, selection.anchor)),
      head: Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(this.text, selection.head)),
    };
    this.awareness.setLocalStateField('cursor', cursor ?? null);
  }

  remoteCursors(): RemoteCursor[] {
    const out: RemoteCursor[] = [];
    for (const [clientId, state] of this.awareness.getStates()) {
      if (clientId === this.doc.clientID || !isPresence(state)) continue;
      const anchor = this.resolve(state.cursor?.anchor);
      const head = this.resolve(state.cursor?.head);
      out.push({ clientId, user: state.user, selection: anchor !== undefined && head !== undefined ? { anchor, head } : undefined });
    }
    return out.sort((a, b) => a.clientId - b.clientId);
  }

  /** Tells the others this device left (an awareness update with no state) and frees the document. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.awareness.destroy();
    this.doc.destroy();
  }

  /**
   * Makes the shared text `target` by the smallest changes, as this device's own edits (sent to
   * the others). Unsaved edits made before the session existed go in this way, made against the
   * seed, and a joiner's unsaved edits merged with what it caught up with: Yjs then merges them
   * with whatever the others typed meanwhile, as it merges any two concurrent edits.
   */
  applyText(target: string, origin: unknown = LOCAL_TEXT): void {
    if (this.destroyed) return;
    const hunks = diffHunks(this.text.toString(), normaliseEol(target)).reverse();
    if (hunks.length === 0) return;
    this.doc.transact(() => {
      for (const h of hunks) {
        if (h.end > h.start) this.text.delete(h.start, h.end - h.start);
        if (h.text.length > 0) this.text.insert(h.start, h.text);
      }
    }, origin);
  }

  private syncFrame(kind: FrameKind, write: (e: encoding.Encoder) => void): Uint8Array {
    const e = encoding.createEncoder();
    write(e);
    return encodeFrame(kind, encoding.toUint8Array(e));
  }

  private awarenessFrame(clients: number[]): Uint8Array {
    return encodeFrame(FrameKind.Awareness, awarenessProtocol.encodeAwarenessUpdate(this.awareness, clients));
  }

  private noteClients(member: string, update: Uint8Array): void {
    // An awareness update is a count, then per client: id, clock, JSON state (y-protocols' format).
    const d = decoding.createDecoder(update);
    const count = decoding.readVarUint(d);
    let clients = this.clientsByMember.get(member);
    if (!clients) this.clientsByMember.set(member, (clients = new Set()));
    for (let i = 0; i < count; i++) {
      const clientId = decoding.readVarUint(d);
      decoding.readVarUint(d);
      const state = decoding.readVarString(d);
      if (state === 'null') clients.delete(clientId);
      else clients.add(clientId);
    }
  }

  private resolve(json: unknown): number | undefined {
    if (json === null || typeof json !== 'object') return undefined;
    try {
      const abs = Y.createAbsolutePositionFromRelativePosition(Y.createRelativePositionFromJSON(json), this.doc);
      return abs && abs.type === this.text ? abs.index : undefined;
    } catch {
      return undefined; // another device's malformed cursor hides that cursor, nothing else
    }
  }
}

interface AwarenessChange {
  added: number[];
  updated: number[];
  removed: number[];
}

interface Presence {
  user: { id: string; name: string; colour: string };
  cursor: { anchor: unknown; head: unknown } | null;
}

/** Awareness states come from other devices: trust their shape only after looking. */
function isPresence(state: unknown): state is Presence {
  if (state === null || typeof state !== 'object') return false;
  const user = (state as { user?: unknown }).user;
  if (user === null || typeof user !== 'object') return false;
  const { id, name, colour } = user as Record<string, unknown>;
  return typeof id === 'string' && typeof name === 'string' && typeof colour === 'string';
}

/**
 * Reads a sync message's update through to its end before it is applied: Yjs applies a delete
 * set range by range as it reads it, so an update cut short in there would change the document
 * and then throw (found by `npm run fuzz`, target coedit-frame).
 */
function checkUpdate(payload: Uint8Array): void {
  const decoder = decoding.createDecoder(payload);
  const type = decoding.readVarUint(decoder);
  if (type === syncProtocol.messageYjsSyncStep2 || type === syncProtocol.messageYjsUpdate)
    Y.decodeUpdate(decoding.readVarUint8Array(decoder));
}
