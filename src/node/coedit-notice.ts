import { validatePath } from '../sync/path';
import { COEDIT_MAX_BYTES } from '../sync/coedit/coedit-session';

/**
 * The bytes of one co-editing notice between two devices (docs/PROTOCOL.md, kind 4), inside the
 * end-to-end encrypted channel:
 *
 *   byte 0      4
 *   bytes 1-2   header length n, u16be, at most MAX_HEADER_BYTES
 *   n bytes     header, UTF-8 JSON (below)
 *   rest        for `frame` only: one co-editing frame (coedit-frame.ts), opaque here
 *
 * Notices come from other devices: everything is checked before anything is kept.
 */
export const KIND_COEDIT = 4;

export const MAX_HEADER_BYTES = 8 * 1024;

/**
 * A sync step 2 carries a whole document: the text (up to COEDIT_MAX_BYTES) and Yjs's bookkeeping
 * of the edits that made it, which for typed text can be as large again.
 */
export const MAX_FRAME_BYTES = 2 * COEDIT_MAX_BYTES + 1024 * 1024;

/** The top line of an active editor, bounded so that a hostile one is still a plain number. */
const MAX_TOP = 2 ** 31 - 1;

export type CoeditNotice =
  /** The sender has the file open in `session`; `reply` when it answers an announcement (never answered again). */
  | { readonly t: 'open'; readonly space: string; readonly path: string; readonly session: string; readonly live: boolean; readonly reply?: boolean }
  | { readonly t: 'close'; readonly space: string; readonly path: string }
  | { readonly t: 'frame'; readonly space: string; readonly path: string; readonly session: string; readonly frame: Uint8Array }
  /** The sender's active editor in a space, or none there (`path` absent). */
  | { readonly t: 'active'; readonly space: string; readonly path?: string; readonly top?: number };

export class CoeditNoticeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CoeditNoticeError';
  }
}

const SPACE = /^[0-9a-f]{32}$/;
const SESSION = /^[0-9a-f]{64}$/;

export function isSessionName(session: unknown): session is string {
  return typeof session === 'string' && SESSION.test(session);
}

/** Why a space-relative path cannot name a file of a space, or undefined when it can. */
export function pathProblem(path: unknown): string | undefined {
  if (typeof path !== 'string') return 'the path is not a string';
  return validatePath(path)?.message;
}

export function encodeNotice(notice: CoeditNotice): Uint8Array {
  const { frame, ...fields } = notice as CoeditNotice & { frame?: Uint8Array };
  const header = new TextEncoder().encode(JSON.stringify(fields));
  if (header.length > MAX_HEADER_BYTES) throw new CoeditNoticeError(`a ${header.length}-byte header is over ${MAX_HEADER_BYTES}`);
  if (frame && frame.length > MAX_FRAME_BYTES) throw new CoeditNoticeError(`a ${frame.length}-byte frame is over ${MAX_FRAME_BYTES}`);
  const out = new Uint8Array(3 + header.length + (frame?.length ?? 0));
  out[0] = KIND_COEDIT;
  out[1] = header.length >> 8;
  out[2] = header.length & 0xff;
  out.set(header, 3);
  if (frame) out.set(frame, 3 + header.length);
  return out;
}

/** Reads a notice (its first byte is KIND_COEDIT); throws CoeditNoticeError for anything not exactly as above. */
export function decodeNotice(bytes: Uint8Array): CoeditNotice {
  if (bytes.length < 3 || bytes[0] !== KIND_COEDIT) throw new CoeditNoticeError('not a co-editing notice');
  const n = (bytes[1]! << 8) | bytes[2]!;
  if (n > MAX_HEADER_BYTES || 3 + n > bytes.length) throw new CoeditNoticeError(`bad header length ${n}`);
  let h: Record<string, unknown>;
  try {
    h = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(3, 3 + n))) as Record<string, unknown>;
  } catch {
    throw new CoeditNoticeError('the header is not UTF-8 JSON');
  }
  if (h === null || typeof h !== 'object') throw new CoeditNoticeError('the header is not an object');
  const rest = bytes.subarray(3 + n);
  if (typeof h['space'] !== 'string' || !SPACE.test(h['space'])) throw new CoeditNoticeError('bad space id');
  const space = h['space'];
  if (h['t'] !== 'frame' && rest.length > 0) throw new CoeditNoticeError(`${rest.length} bytes after a ${String(h['t'])} header`);
  const path = (): string => {
    const problem = pathProblem(h['path']);
    if (problem) throw new CoeditNoticeError(problem);
    return h['path'] as string;
  };
  const session = (): string => {
    if (!isSessionName(h['session'])) throw new CoeditNoticeError('bad session name');
    return h['session'];
  };
  switch (h['t']) {
    case 'open':
      if (typeof h['live'] !== 'boolean' || (h['reply'] !== undefined && typeof h['reply'] !== 'boolean')) throw new CoeditNoticeError('bad announcement');
      return { t: 'open', space, path: path(), session: session(), live: h['live'], ...(h['reply'] === true ? { reply: true } : {}) };
    case 'close':
      return { t: 'close', space, path: path() };
    case 'frame':
      if (rest.length < 2 || rest.length > MAX_FRAME_BYTES) throw new CoeditNoticeError(`a ${rest.length}-byte frame`);
      return { t: 'frame', space, path: path(), session: session(), frame: rest };
    case 'active': {
      const top = h['top'];
      if (top !== undefined && (typeof top !== 'number' || !Number.isInteger(top) || top < 0 || top > MAX_TOP)) throw new CoeditNoticeError('bad top line');
      if (h['path'] === undefined) return { t: 'active', space };
      return { t: 'active', space, path: path(), ...(top !== undefined ? { top } : {}) };
    }
    default:
      throw new CoeditNoticeError(`unknown notice type ${JSON.stringify(String(h['t']).slice(0, 20))}`);
  }
}
