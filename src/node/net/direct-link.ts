import * as crypto from 'node:crypto';
import type * as net from 'node:net';
import type { TokenBucket } from '../../sync/util/token-bucket';
import { signWith, verifySignature, type DeviceKeys, type DevicePublicKeys } from '../crypto/device-keys';
import {
  decodeAck,
  decodeHi,
  decodeProof,
  encodeAck,
  encodeFrame,
  encodeHi,
  FrameReader,
  LINK_NONCE_BYTES,
  LinkFrame,
  LinkProtocolError,
  linkTranscript,
  MAX_HANDSHAKE_FRAME,
  MAX_LINK_FRAME,
} from './direct-link-codec';

/** Timings and bounds of a link (PROTOCOL.md R8); tests may shorten the timings. */
export interface LinkTimings {
  /** Both proofs must be in by then, or the socket is closed (slowloris). */
  readonly handshakeMs: number;
  /** A ping goes when nothing else was sent for this long. */
  readonly pingMs: number;
  /** Nothing received for this long: the link is dead. */
  readonly silentMs: number;
  /** An ack goes after this many payloads, or this long after the first one not acknowledged. */
  readonly ackEvery: number;
  readonly ackDelayMs: number;
}

export const LINK_TIMINGS: LinkTimings = { handshakeMs: 5000, pingMs: 1000, silentMs: 4000, ackEvery: 16, ackDelayMs: 20 };

/**
 * Payloads sent but not acknowledged, at most: past either bound the peer is not keeping up (or
 * is gone) and the link closes, handing them to the relay. The count stays well under the replay
 * window (4096), so that a frame sent again over the relay is still told apart from a new one.
 */
export const MAX_UNACKED_BYTES = 16 * 1024 * 1024;
export const MAX_UNACKED_FRAMES = 2048;

export interface DirectLinkOptions {
  readonly socket: net.Socket;
  readonly localId: string;
  readonly keys: DeviceKeys;
  /** The device this side dialed; undefined on the accepting side. */
  readonly expected?: string;
  /** The public keys of a device this one may connect to; undefined refuses it. */
  readonly lookup: (device: string) => DevicePublicKeys | undefined;
  readonly timings?: LinkTimings;
  /** The device's bandwidth limits, shared with the relay; payloads count against them. */
  readonly limits?: () => { readonly up: TokenBucket | undefined; readonly down: TokenBucket | undefined };
  /** Both sides proved who they are. */
  readonly onUp: (link: DirectLink) => void;
  /** A payload came in; false when it failed to open, which closes the link. */
  readonly onPayload: (link: DirectLink, payload: Uint8Array) => boolean;
  /** Once, when the link is over: the payloads the peer may not have received, oldest first. */
  readonly onClose: (link: DirectLink, unacked: Uint8Array[], reason: string) => void;
}

/**
 * One TCP connection between two devices, carrying the relay payloads of their channel
 * (PROTOCOL.md R8). Before any payload, each side sends its id and a fresh nonce, then signs
 * both with its device key; a device the account does not allow, a wrong signature, a link to
 * itself or a frame too large closes the socket. Payloads are acknowledged by count, and those
 * not acknowledged when the link ends are handed back so the caller sends them another way.
 */
export class DirectLink {
  /** The authenticated peer; known once `up`. */
  device: string | undefined;
  /** Which side dialed: the device id of the dialer. */
  dialer: string | undefined;
  private state: 'hi' | 'proof' | 'up' | 'closed' = 'hi';
  private readonly nonce = new Uint8Array(crypto.randomBytes(LINK_NONCE_BYTES));
  private peerNonce: Uint8Array | undefined;
  private peerKeys: DevicePublicKeys | undefined;
  private readonly reader: FrameReader;
  private readonly timings: LinkTimings;
  private readonly unacked: Uint8Array[] = [];
  private unackedBytes = 0;
  /** Payloads sent, and of those acknowledged. */
  private sent = 0;
  private acked = 0;
  private received = 0;
  private ackedReceived = 0;
  private ackTimer: NodeJS.Timeout | undefined;
  private readonly timer: NodeJS.Timeout;
  /** Payload frames waiting for the upload limit. */
  private readonly outbox: Uint8Array[] = [];
  private outboxTimer: NodeJS.Timeout | undefined;
  private resumeTimer: NodeJS.Timeout | undefined;
  private lastSent = Date.now();
  private lastReceived = Date.now();
  private readonly startedAt = Date.now();
  bytesSent = 0;

  constructor(private readonly options: DirectLinkOptions) {
    this.timings = options.timings ?? LINK_TIMINGS;
    this.reader = new FrameReader(() => (this.state === 'up' ? MAX_LINK_FRAME : MAX_HANDSHAKE_FRAME));
    const socket = options.socket;
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => this.onData(data));
    socket.on('error', () => undefined);
    socket.on('close', () => this.close('connection closed'));
    this.timer = setInterval(() => this.tick(), Math.min(this.timings.pingMs, this.timings.handshakeMs) / 2);
    this.write(encodeHi(this.nonce, options.localId));
  }

  get up(): boolean {
    return this.state === 'up';
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  /** Sends one payload; false when the link cannot take it (the caller uses the relay). */
  send(payload: Uint8Array): boolean {
    if (this.state !== 'up') return false;
    if (this.unacked.length >= MAX_UNACKED_FRAMES || this.unackedBytes + payload.length > MAX_UNACKED_BYTES) {
      this.close('the peer does not acknowledge what it is sent');
      return false;
    }
    this.unacked.push(payload);
    this.unackedBytes += payload.length;
    this.sent++;
    this.bytesSent += payload.length;
    if (!this.options.limits?.().up && this.outbox.length === 0) this.write(encodeFrame(LinkFrame.Payload, payload));
    else {
      this.outbox.push(encodeFrame(LinkFrame.Payload, payload));
      this.drainOutbox();
    }
    return true;
  }

  /** Writes queued payloads as the upload limit allows, then waits for the bucket to refill. */
  private drainOutbox(): void {
    if (this.outboxTimer || this.state !== 'up') return;
    while (this.outbox.length > 0) {
      const up = this.options.limits?.().up;
      const wait = up?.debtMs(Date.now()) ?? 0;
      if (wait > 0) {
        this.outboxTimer = setTimeout(() => {
          this.outboxTimer = undefined;
          this.drainOutbox();
        }, wait);
        return;
      }
      const frame = this.outbox.shift()!;
      this.write(frame);
      up?.spend(frame.length, Date.now());
    }
  }

  /** Counts received bytes against the download limit; over it, stops reading for a while (TCP pushes back). */
  private throttleDown(bytes: number): void {
    const down = this.options.limits?.().down;
    if (!down || this.state !== 'up') return;
    const wait = down.spend(bytes, Date.now());
    const socket = this.options.socket;
    if (wait <= 0 || this.resumeTimer !== undefined) return;
    socket.pause();
    this.resumeTimer = setTimeout(() => {
      this.resumeTimer = undefined;
      // Not hearing the peer while we chose not to read is not the peer's silence.
      this.lastReceived = Date.now();
      socket.resume();
    }, wait);
  }

  close(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearInterval(this.timer);
    clearTimeout(this.ackTimer);
    clearTimeout(this.outboxTimer);
    clearTimeout(this.resumeTimer);
    this.outbox.length = 0;
    this.options.socket.destroy();
    const unacked = this.unacked.splice(0);
    this.unackedBytes = 0;
    this.options.onClose(this, unacked, reason);
  }

  private write(frame: Uint8Array): void {
    if (this.options.socket.destroyed) return;
    this.lastSent = Date.now();
    this.options.socket.write(frame);
  }

  private tick(): void {
    const now = Date.now();
    if (this.state !== 'up') {
      if (now - this.startedAt >= this.timings.handshakeMs) this.close('handshake timed out');
      return;
    }
    if (this.resumeTimer !== undefined) return;
    if (now - this.lastReceived >= this.timings.silentMs) this.close('the peer went silent');
    else if (now - this.lastSent >= this.timings.pingMs) this.write(encodeFrame(LinkFrame.Ping));
  }

  private onData(data: Buffer): void {
    if (this.state === 'closed') return;
    this.lastReceived = Date.now();
    this.throttleDown(data.length);
    try {
      for (const frame of this.reader.push(new Uint8Array(data.buffer, data.byteOffset, data.length))) {
        if (this.closed) return;
        this.onFrame(frame.type, frame.body);
      }
    } catch (err) {
      this.close(err instanceof LinkProtocolError ? err.message : `bad frame: ${(err as Error).message}`);
    }
  }

  private onFrame(type: number, body: Uint8Array): void {
    if (this.state === 'hi') {
      if (type !== LinkFrame.Hi) throw new LinkProtocolError('expected a hi frame');
      const hi = decodeHi(body);
      if (hi.device === this.options.localId) throw new LinkProtocolError('a link to this device itself');
      if (this.options.expected !== undefined && hi.device !== this.options.expected)
        throw new LinkProtocolError(`dialed device ${this.options.expected} but device ${hi.device} answered`);
      const keys = this.options.lookup(hi.device);
      if (!keys) throw new LinkProtocolError(`device ${hi.device} may not connect to this one`);
      this.device = hi.device;
      this.peerKeys = keys;
      this.peerNonce = hi.nonce;
      this.state = 'proof';
      this.write(
        encodeFrame(LinkFrame.Proof, signWith(this.options.keys, linkTranscript(this.options.localId, hi.device, this.nonce, hi.nonce))),
      );
      return;
    }
    if (this.state === 'proof') {
      if (type !== LinkFrame.Proof) throw new LinkProtocolError('expected a proof frame');
      const signature = decodeProof(body);
      const transcript = linkTranscript(this.device!, this.options.localId, this.peerNonce!, this.nonce);
      if (!verifySignature(this.peerKeys!.signPublic, transcript, signature))
        throw new LinkProtocolError(`device ${this.device!}'s proof is not signed by its key`);
      this.state = 'up';
      this.dialer = this.options.expected !== undefined ? this.options.localId : this.device;
      this.options.onUp(this);
      return;
    }
    if (type === LinkFrame.Payload) {
      if (body.length === 0) throw new LinkProtocolError('empty payload');
      this.received++;
      if (!this.options.onPayload(this, body)) {
        this.close(`a frame from device ${this.device!} failed to open`);
        return;
      }
      if (this.received - this.ackedReceived >= this.timings.ackEvery) this.sendAck();
      else this.ackTimer ??= setTimeout(() => this.sendAck(), this.timings.ackDelayMs);
    } else if (type === LinkFrame.Ack) {
      const count = decodeAck(body);
      if (count < this.acked || count > this.sent) throw new LinkProtocolError(`ack of ${count} frames, ${this.sent} were sent`);
      const drop = count - this.acked;
      for (const p of this.unacked.splice(0, drop)) this.unackedBytes -= p.length;
      this.acked = count;
    } else if (type !== LinkFrame.Ping) throw new LinkProtocolError(`unexpected frame type ${type}`);
  }

  private sendAck(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    if (this.state !== 'up' || this.ackedReceived === this.received) return;
    this.ackedReceived = this.received;
    this.write(encodeAck(this.received));
  }
}
