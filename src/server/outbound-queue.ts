import type { WebSocket } from 'ws';

/** The bytes queued toward every connection together: what a device that does not read costs the server. */
export interface OutboundTotal {
  outboundBytes: number;
}

export interface OutboundLimits {
  /** Bytes queued toward one connection before binary frames wait. */
  readonly perConnection: number;
  /** Bytes queued toward all connections before binary frames wait. */
  readonly total: number;
  /** Beyond this many bytes queued, the connection is not reading what it asked for: it is closed. */
  readonly hardPerConnection: number;
}

/**
 * The bytes handed to one connection's socket and not yet taken by the kernel. Relay and mailbox
 * frames go only when they fit (one frame always fits an empty queue, so a frame up to the frame
 * limit is never stuck); replies and pushes always go, but a connection that lets them pile up
 * past the hard bound is not reading and is closed.
 */
export class OutboundQueue {
  /** Bytes sent and not yet flushed to the kernel. */
  queued = 0;
  /** When a binary frame last found no room, while no byte has drained since; undefined otherwise. */
  private stalledAt: number | undefined;
  private closed = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly total: OutboundTotal,
    private readonly limits: OutboundLimits,
    private readonly onOverflow: () => void,
  ) {}

  /** True when a binary frame of `bytes` fits now, under both this connection's and the server's bound. */
  fits(bytes: number): boolean {
    const mine = this.queued === 0 || this.queued + bytes <= this.limits.perConnection;
    const all = this.total.outboundBytes === 0 || this.total.outboundBytes + bytes <= this.limits.total;
    return mine && all;
  }

  /** How long binary frames have found no room without any byte draining meanwhile; 0 when they fit. */
  stalledFor(now: number): number {
    return this.stalledAt === undefined ? 0 : now - this.stalledAt;
  }

  /** Notes that a binary frame found no room: the start of a stall, unless one is running. */
  noteFull(now: number): void {
    this.stalledAt ??= now;
  }

  /** Sends a relay or mailbox frame; the caller has checked `fits`. */
  sendBinary(frame: Uint8Array): void {
    this.write(frame, frame.byteLength);
  }

  /** Sends a reply or push; closes the connection instead when it has stopped reading. */
  sendText(text: string): void {
    const bytes = Buffer.byteLength(text);
    if (this.queued + bytes > this.limits.hardPerConnection) {
      this.onOverflow();
      return;
    }
    this.write(text, bytes);
  }

  /** The connection is gone: its bytes no longer count, whatever its socket reports later. */
  release(): void {
    if (this.closed) return;
    this.closed = true;
    this.total.outboundBytes -= this.queued;
    this.queued = 0;
  }

  private write(data: Uint8Array | string, bytes: number): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return;
    this.queued += bytes;
    this.total.outboundBytes += bytes;
    // ws calls back once the frame has left for the kernel, or with an error when the socket closed.
    this.socket.send(data, () => {
      if (this.closed) return;
      this.queued -= bytes;
      this.total.outboundBytes -= bytes;
      this.stalledAt = undefined;
    });
  }
}
