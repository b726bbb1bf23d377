import { isHexId } from '../../sync/util/hex-id';
import { fromHex, toHex } from '../../sync/util/bytes';
import { validatePath } from '../../sync/model/path';
import { COEDIT_MAX_BYTES } from '../../sync/coedit/coedit-session';
import { ChannelKind } from '../net/payload-kind';

/**
 * The bytes of one co-editing notice between two devices (docs/PROTOCOL.md, kind 4), inside the
 * end-to-end encrypted channel. Frames, one per keystroke, have a binary header; the rest JSON:
 *
 *   04 01 header        header: UTF-8 JSON, at most MAX_HEADER_BYTES: open, close, active (below)
 *   04 02 space(16) session(32) n(u16be) path(n, UTF-8) frame
 *                       frame: one co-editing frame (coedit-frame.ts), opaque here
 *
 * Notices come from other devices: everything is checked before anything is kept.
 */
export const MAX_HEADER_BYTES = 8 * 1024;

const JSON_NOTICE = 1;
const FRAME_NOTICE = 2;

/**
 * A sync step 2 carries a whole document: the text (up to COEDIT_MAX_BYTES) and Yjs's bookkeeping
 * of the edits that made it, some 25 bytes per stretch of text an edit split off (measured: 100,000
 * edits scattered over 1 MiB made a 3.5 MiB step 2). This leaves room for 200,000 such stretches
 * in a file at the size limit, and stays under the server's 16 MiB frame limit.
 */
export const MAX_FRAME_BYTES = 2 * COEDIT_MAX_BYTES + 1024 * 1024;

/** The top line of an active editor, bounded so that a hostile one is still a plain number. */
const MAX_TOP = 2 ** 31 - 1;

export type CoeditNotice =
  /** The sender has the file open in `session`; `reply` when it answers an announcement (never answered again). */
  | {
      readonly t: 'open';
      readonly space: string;
      readonly path: string;
      readonly session: string;
      readonly live: boolean;
      /** SHA-256 of the sender's saved file: a session is joined only by devices whose file matches one of its members' (docs/COEDIT.md §3). */
      readonly disk?: string;
      readonly reply?: boolean;
    }
  | { readonly t: 'close'; readonly space: string; readonly path: string }
  | { readonly t: 'frame'; readonly space: string; readonly path: string; readonly session: string; readonly frame: Uint8Array }
  /**
   * The sender's active editor in a space, or none there (`path` absent); `following`: the user
   * (an id) whose editor the sender's user follows, so that user can be told.
   */
  | { readonly t: 'active'; readonly space: string; readonly path?: string; readonly top?: number; readonly following?: string };

export class CoeditNoticeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CoeditNoticeError';
  }
}

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
  if (notice.t === 'frame') {
    const { frame } = notice;
    if (frame.length > MAX_FRAME_BYTES) throw new CoeditNoticeError(`a ${frame.length}-byte frame is over ${MAX_FRAME_BYTES}`);
    const path = new TextEncoder().encode(notice.path);
    const out = new Uint8Array(2 + 16 + 32 + 2 + path.length + frame.length);
    out[0] = ChannelKind.Coedit;
    out[1] = FRAME_NOTICE;
    out.set(fromHex(notice.space), 2);
    out.set(fromHex(notice.session), 18);
    out[50] = path.length >> 8;
    out[51] = path.length & 0xff;
    out.set(path, 52);
    out.set(frame, 52 + path.length);
    return out;
  }
  const header = new TextEncoder().encode(JSON.stringify(notice));
  if (header.length > MAX_HEADER_BYTES) throw new CoeditNoticeError(`a ${header.length}-byte header is over ${MAX_HEADER_BYTES}`);
  const out = new Uint8Array(2 + header.length);
  out[0] = ChannelKind.Coedit;
  out[1] = JSON_NOTICE;
  out.set(header, 2);
  return out;
}

/** Reads a notice (its first byte is ChannelKind.Coedit); throws CoeditNoticeError for anything not exactly as above. */
export function decodeNotice(bytes: Uint8Array): CoeditNotice {
  if (bytes.length < 2 || bytes[0] !== ChannelKind.Coedit) throw new CoeditNoticeError('not a co-editing notice');
  if (bytes[1] === FRAME_NOTICE) return decodeFrameNotice(bytes);
  if (bytes[1] !== JSON_NOTICE) throw new CoeditNoticeError(`unknown notice form ${bytes[1]}`);
  if (bytes.length - 2 > MAX_HEADER_BYTES) throw new CoeditNoticeError(`a ${bytes.length - 2}-byte header is over ${MAX_HEADER_BYTES}`);
  let h: Record<string, unknown>;
  try {
    h = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(2))) as Record<string, unknown>;
  } catch {
    throw new CoeditNoticeError('the header is not UTF-8 JSON');
  }
  if (h === null || typeof h !== 'object') throw new CoeditNoticeError('the header is not an object');
  if (!isHexId(h['space'])) throw new CoeditNoticeError('bad space id');
  const space = h['space'];
  const path = (): string => checkedPath(h['path']);
  switch (h['t']) {
    case 'open':
      if (!isSessionName(h['session'])) throw new CoeditNoticeError('bad session name');
      if (typeof h['live'] !== 'boolean' || (h['reply'] !== undefined && typeof h['reply'] !== 'boolean'))
        throw new CoeditNoticeError('bad announcement');
      if (h['disk'] !== undefined && !isSessionName(h['disk'])) throw new CoeditNoticeError('bad file hash');
      return {
        t: 'open',
        space,
        path: path(),
        session: h['session'],
        live: h['live'],
        ...(h['disk'] !== undefined ? { disk: h['disk'] } : {}),
        ...(h['reply'] === true ? { reply: true } : {}),
      };
    case 'close':
      return { t: 'close', space, path: path() };
    case 'active': {
      const top = h['top'];
      if (top !== undefined && (typeof top !== 'number' || !Number.isInteger(top) || top < 0 || top > MAX_TOP))
        throw new CoeditNoticeError('bad top line');
      const following = h['following'];
      if (following !== undefined && !isHexId(following)) throw new CoeditNoticeError('bad followed user');
      const followingPart = following !== undefined ? { following } : {};
      if (h['path'] === undefined) return { t: 'active', space, ...followingPart };
      return { t: 'active', space, path: path(), ...(top !== undefined ? { top } : {}), ...followingPart };
    }
    default:
      throw new CoeditNoticeError(`unknown notice type ${JSON.stringify(String(h['t']).slice(0, 20))}`);
  }
}

function decodeFrameNotice(bytes: Uint8Array): CoeditNotice {
  if (bytes.length < 52) throw new CoeditNoticeError(`a ${bytes.length}-byte frame notice`);
  const n = (bytes[50]! << 8) | bytes[51]!;
  const frame = bytes.subarray(52 + n);
  if (52 + n > bytes.length || frame.length < 2 || frame.length > MAX_FRAME_BYTES)
    throw new CoeditNoticeError(`a frame notice of ${bytes.length} bytes with a ${n}-byte path`);
  let path: string;
  try {
    path = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(52, 52 + n));
  } catch {
    throw new CoeditNoticeError('the path is not UTF-8');
  }
  return { t: 'frame', space: toHex(bytes.subarray(2, 18)), path: checkedPath(path), session: toHex(bytes.subarray(18, 50)), frame };
}

function checkedPath(path: unknown): string {
  const problem = pathProblem(path);
  if (problem) throw new CoeditNoticeError(problem);
  return path as string;
}
