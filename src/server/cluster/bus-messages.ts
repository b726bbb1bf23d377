import type { ServerMessage } from '../../sync/protocol/rendezvous';
import type { RelayOutcome, RemoteSession, SessionEvent, UserState } from './cluster';

/**
 * The messages server processes send one another over the bus (docs/PROTOCOL.md R7). On the
 * wire: a 4-byte big-endian header length, the header as UTF-8 JSON, then the body (relay frame
 * bytes, or a piece of a larger message). Every header names its sender process and that
 * process's incarnation (a random id per start), so a restarted process is a new one.
 */
export type BusMessage =
  /**
   * Every `every` ms; `seq` is the number of the sender's last directory event. The sender is
   * declared dead after three of its own intervals of silence.
   */
  | { readonly k: 'beat'; readonly seq: number; readonly every: number }
  | { readonly k: 'bye' }
  | { readonly k: 'snapshotRequest' }
  | { readonly k: 'snapshot'; readonly seq: number; readonly sessions: readonly RemoteSession[] }
  /** A directory event (`up`, `down`, `presence`) numbered in the sender's sequence. */
  | (SessionEvent & { readonly seq: number })
  | { readonly k: 'presencePush'; readonly user: string; readonly peers: readonly string[] }
  | { readonly k: 'push'; readonly users: readonly string[]; readonly message: ServerMessage }
  | { readonly k: 'rights'; readonly states: readonly UserState[] }
  | { readonly k: 'kick'; readonly device: string; readonly session: string }
  /**
   * Relay frames for devices signed in on the receiver, as `[id, device, bytes]`; the body is the
   * frames one after another, each as the target receives it (docs/PROTOCOL.md R4).
   */
  | { readonly k: 'relays'; readonly frames: readonly (readonly [number, string, number])[] }
  /** What became of relay frames, by id: those that arrived at once are answered together. */
  | { readonly k: 'relayAnswers'; readonly answers: readonly (readonly [number, RelayOutcome])[] }
  /** A relay frame for `device` wherever it is signed in (the sender's directory lags); the body is the frame. */
  | { readonly k: 'relayAny'; readonly device: string }
  | { readonly k: 'mail'; readonly device: string }
  /** Piece `i` of `n` of a message too large for one bus message; the body is the piece. */
  | { readonly k: 'part'; readonly pid: number; readonly i: number; readonly n: number };

export interface Envelope {
  readonly from: string;
  readonly inc: string;
  readonly message: BusMessage;
  readonly body: Uint8Array;
}

const EMPTY = new Uint8Array(0);

export function encodeEnvelope(from: string, inc: string, message: BusMessage, body: Uint8Array = EMPTY): Uint8Array {
  const header = Buffer.from(JSON.stringify({ from, inc, ...message }), 'utf8');
  const out = new Uint8Array(4 + header.length + body.length);
  new DataView(out.buffer).setUint32(0, header.length);
  out.set(header, 4);
  out.set(body, 4 + header.length);
  return out;
}

/** Throws on bytes that are not an envelope; the caller drops them. */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  if (bytes.length < 4) throw new Error('bus message shorter than its header length');
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
  if (4 + length > bytes.length) throw new Error('bus message shorter than its header');
  const header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 4, length).toString('utf8')) as Record<string, unknown>;
  const { from, inc, ...message } = header;
  if (typeof from !== 'string' || typeof inc !== 'string' || typeof message['k'] !== 'string')
    throw new Error('bus message without sender or kind');
  return { from, inc, message: message as unknown as BusMessage, body: bytes.subarray(4 + length) };
}
