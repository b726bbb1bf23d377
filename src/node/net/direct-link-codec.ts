import { concatBytes, fromUtf8, utf8 } from '../../sync/util/bytes';

/**
 * The bytes of a direct link between two devices (docs/PROTOCOL.md R8): every frame is a 4-byte
 * big-endian length, then that many bytes, the first of which is the frame's type.
 */
export const LinkFrame = {
  /** version(1) | nonce(32) | device id (UTF-8, the rest) */
  Hi: 1,
  /** Ed25519 signature(64) over `linkTranscript`. */
  Proof: 2,
  /** One relay payload of the channel (PROTOCOL.md R5): hello, sealed frame or reply hello. */
  Payload: 3,
  /** u64: how many Payload frames this side has received on the link so far. */
  Ack: 4,
  /** Nothing: the link is alive. */
  Ping: 5,
} as const;

export const LINK_VERSION = 1;
export const LINK_NONCE_BYTES = 32;
const SIGNATURE_BYTES = 64;
/** Frames before both sides proved who they are are tiny: an unauthenticated peer cannot make us buffer more. */
export const MAX_HANDSHAKE_FRAME = 256;
/** A relay payload is at most the server's frame cap (16 MiB); a link takes the same. */
export const MAX_LINK_FRAME = 16 * 1024 * 1024 + 1024;
/** Device ids are 32 lowercase hex characters (device-keys.ts). */
const DEVICE_ID = /^[0-9a-f]{32}$/;

export class LinkProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LinkProtocolError';
  }
}

export interface LinkHi {
  readonly version: number;
  readonly nonce: Uint8Array;
  readonly device: string;
}

export function encodeFrame(type: number, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(5 + body.length);
  new DataView(out.buffer).setUint32(0, 1 + body.length);
  out[4] = type;
  out.set(body, 5);
  return out;
}

export function encodeHi(nonce: Uint8Array, device: string): Uint8Array {
  return encodeFrame(LinkFrame.Hi, concatBytes([Uint8Array.of(LINK_VERSION), nonce, utf8(device)]));
}

export function decodeHi(body: Uint8Array): LinkHi {
  if (body.length < 1 + LINK_NONCE_BYTES + 1) throw new LinkProtocolError('hi frame too short');
  const version = body[0]!;
  if (version !== LINK_VERSION) throw new LinkProtocolError(`link version ${version} is not supported`);
  const device = fromUtf8(body.subarray(1 + LINK_NONCE_BYTES));
  if (!DEVICE_ID.test(device)) throw new LinkProtocolError('hi frame carries no device id');
  return { version, nonce: body.slice(1, 1 + LINK_NONCE_BYTES), device };
}

export function decodeProof(body: Uint8Array): Uint8Array {
  if (body.length !== SIGNATURE_BYTES) throw new LinkProtocolError('proof frame is not one signature');
  return body;
}

export function encodeAck(count: number): Uint8Array {
  const body = new Uint8Array(8);
  new DataView(body.buffer).setBigUint64(0, BigInt(count));
  return encodeFrame(LinkFrame.Ack, body);
}

export function decodeAck(body: Uint8Array): number {
  if (body.length !== 8) throw new LinkProtocolError('ack frame is not 8 bytes');
  const count = Number(new DataView(body.buffer, body.byteOffset, 8).getBigUint64(0));
  if (!Number.isSafeInteger(count)) throw new LinkProtocolError('ack count out of range');
  return count;
}

/**
 * What each side signs: who signs, for whom, and both fresh nonces (the signer's first), so a
 * proof is good for this one link between these two devices only and cannot be sent back.
 */
export function linkTranscript(signer: string, peer: string, signerNonce: Uint8Array, peerNonce: Uint8Array): Uint8Array {
  return concatBytes([utf8(`sf-direct-v1\n${signer}\n${peer}\n`), signerNonce, peerNonce]);
}

/**
 * Cuts a byte stream into frames. `limit()` is the largest frame accepted now (it grows once the
 * handshake is done); a larger announced length is an error before any of its bytes are kept.
 */
export class FrameReader {
  private chunks: Uint8Array[] = [];
  private length = 0;

  constructor(private readonly limit: () => number) {}

  /** The whole frames completed by `data`, each as type and body. */
  push(data: Uint8Array): { type: number; body: Uint8Array }[] {
    this.chunks.push(data);
    this.length += data.length;
    const frames: { type: number; body: Uint8Array }[] = [];
    for (;;) {
      if (this.length < 4) break;
      const head = this.peek(4);
      const size = new DataView(head.buffer, head.byteOffset, 4).getUint32(0);
      if (size === 0) throw new LinkProtocolError('empty frame');
      if (size > this.limit()) throw new LinkProtocolError(`frame of ${size} bytes is over the ${this.limit()}-byte limit`);
      if (this.length < 4 + size) break;
      const frame = this.take(4 + size);
      frames.push({ type: frame[4]!, body: frame.subarray(5) });
    }
    return frames;
  }

  /** Bytes held for a frame not complete yet. */
  get pending(): number {
    return this.length;
  }

  private peek(n: number): Uint8Array {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    this.chunks = [concatBytes(this.chunks)];
    return this.chunks[0]!;
  }

  private take(n: number): Uint8Array {
    if (this.chunks[0]!.length < n) this.chunks = [concatBytes(this.chunks)];
    const first = this.chunks[0]!;
    const frame = first.subarray(0, n);
    if (first.length > n) this.chunks[0] = first.subarray(n);
    else this.chunks.shift();
    this.length -= n;
    return frame;
  }
}
