import * as crypto from 'node:crypto';
import type { Disposable, EngineClient } from '../../src/node/engine/engine-client';
import { CoeditSession } from '../../src/sync/coedit/coedit-session';
import { TextBinding } from '../../src/sync/coedit/text-binding';
import { MemoryEditor } from '../unit/sync/coedit/memory-editor';

/** The session name of a seed (docs/COEDIT.md §3): SHA-256 of its UTF-8 text, hex. */
export function sessionName(seed: string): string {
  return crypto.createHash('sha256').update(seed, 'utf8').digest('hex');
}

export function toBase64(frame: Uint8Array): string {
  return Buffer.from(frame.buffer, frame.byteOffset, frame.length).toString('base64');
}

/**
 * One open file co-edited through an engine host, as the extension drives it: a CoeditSession and
 * a TextBinding on an in-memory editor, frames in and out through `coeditSend` and `coeditFrame`,
 * members from `coeditPeers`. Every device seeds from the same text here, so no device is a
 * joiner (docs/COEDIT.md §3): each sends its join to a peer of the same session when it shows up.
 */
export class CoeditPeer {
  readonly editor: MemoryEditor;
  readonly session: CoeditSession;
  readonly binding: TextBinding;
  readonly name: string;
  /** Devices in this session now. */
  readonly peers = new Set<string>();
  /** Calls the host refused: none expected. */
  readonly errors: Error[] = [];
  /** Frames and their bytes handed to the host, before base64. */
  framesSent = 0;
  frameBytes = 0;
  private readonly subscriptions: Disposable[] = [];

  constructor(
    private readonly client: EngineClient,
    private readonly space: string,
    private readonly path: string,
    seed: string,
    user: { id: string; name: string },
  ) {
    this.name = sessionName(seed);
    this.session = new CoeditSession({ seed, user, broadcast: (frame) => this.send([frame]) });
    this.editor = new MemoryEditor(seed, this.session.eol);
    this.binding = new TextBinding(this.session.text, this.editor, this.session.eol);
    this.editor.listener = (changes, version) => this.binding.documentChanged(changes, version);
    this.subscriptions.push(
      client.on('coeditPeers', (e) => {
        if (e.space !== space || e.path !== path) return;
        const now = new Set(e.peers.filter((p) => p.session === this.name).map((p) => p.device));
        for (const device of this.peers) {
          if (now.has(device)) continue;
          this.peers.delete(device);
          this.session.memberGone(device);
        }
        for (const device of now) {
          if (this.peers.has(device)) continue;
          this.peers.add(device);
          this.send(this.session.join(), device);
        }
      }),
      client.on('coeditFrame', (e) => {
        if (e.space !== space || e.path !== path || e.session !== this.name) return;
        const replies = this.session.receive(new Uint8Array(Buffer.from(e.frame, 'base64')), e.from);
        if (replies.length > 0) this.send(replies, e.from);
      }),
    );
  }

  open(): Promise<unknown> {
    return this.client.call('coeditOpen', { space: this.space, path: this.path, session: this.name, live: false });
  }

  async close(): Promise<void> {
    for (const s of this.subscriptions) s.dispose();
    this.binding.dispose();
    this.session.destroy();
    await this.client.call('coeditClose', { space: this.space, path: this.path });
  }

  private send(frames: readonly Uint8Array[], to?: string): void {
    this.framesSent += frames.length;
    for (const f of frames) this.frameBytes += f.length;
    this.client
      .call('coeditSend', {
        space: this.space,
        path: this.path,
        session: this.name,
        frames: frames.map(toBase64),
        ...(to !== undefined ? { to } : {}),
      })
      .catch((err: Error) => this.errors.push(err));
  }
}
