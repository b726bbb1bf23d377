/**
 * The bytes of one co-editing message (docs/COEDIT.md):
 *
 *   byte 0   version, 1; a receiver drops frames of a version it does not speak
 *   byte 1   kind: 1 join, 2 sync, 3 awareness
 *   rest     join, sync: one y-protocols sync message (step 1, step 2 or update);
 *            awareness: one y-protocols awareness update
 *
 * A frame belongs to one file's session; the caller's channel says which (the frame does not).
 */
export const COEDIT_VERSION = 1;

export const FrameKind = {
  /** Sync step 1 of a member that (re)joins: answered with step 2, our own step 1 and our presence. */
  Join: 1,
  /** A y-protocols sync message: step 1 is answered with step 2; step 2 and updates are applied. */
  Sync: 2,
  Awareness: 3,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

export type CoeditProtocolErrorCode = 'version' | 'kind' | 'malformed';

export class CoeditProtocolError extends Error {
  constructor(
    readonly code: CoeditProtocolErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CoeditProtocolError';
  }
}

export function encodeFrame(kind: FrameKind, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + payload.length);
  out[0] = COEDIT_VERSION;
  out[1] = kind;
  out.set(payload, 2);
  return out;
}

export function decodeFrame(frame: Uint8Array): { kind: FrameKind; payload: Uint8Array } {
  if (frame.length < 2) throw new CoeditProtocolError('malformed', `a ${frame.length}-byte frame`);
  if (frame[0] !== COEDIT_VERSION)
    throw new CoeditProtocolError('version', `co-editing version ${frame[0]}, this side speaks ${COEDIT_VERSION}`);
  const kind = frame[1]! as FrameKind;
  if (kind !== FrameKind.Join && kind !== FrameKind.Sync && kind !== FrameKind.Awareness) {
    throw new CoeditProtocolError('kind', `unknown co-editing frame kind ${kind}`);
  }
  return { kind, payload: frame.subarray(2) };
}
