/**
 * The codes people pass to each other: an invite (server address, one-time token, the inviter's
 * key fingerprint) and a device link (server address, one-time token). One line each, safe to
 * paste anywhere.
 */
export interface InviteCode {
  readonly server: string;
  readonly token: string;
  readonly fingerprint: string;
}

export interface LinkCode {
  readonly server: string;
  readonly token: string;
}

const INVITE = 'sf-invite-';
const LINK = 'sf-link-';

export function encodeInvite(code: InviteCode): string {
  return INVITE + Buffer.from(JSON.stringify({ s: code.server, t: code.token, f: code.fingerprint })).toString('base64url');
}

export function decodeInvite(text: string): InviteCode {
  const o = decode(text, INVITE, 'invite');
  if (typeof o['f'] !== 'string') throw new CodeError('the invite code has no fingerprint');
  return { server: o['s'] as string, token: o['t'] as string, fingerprint: o['f'] };
}

export function encodeLink(code: LinkCode): string {
  return LINK + Buffer.from(JSON.stringify({ s: code.server, t: code.token })).toString('base64url');
}

export function decodeLink(text: string): LinkCode {
  const o = decode(text, LINK, 'link');
  return { server: o['s'] as string, token: o['t'] as string };
}

export class CodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CodeError';
  }
}

function decode(text: string, prefix: string, what: string): Record<string, unknown> {
  const trimmed = text.trim();
  if (!trimmed.startsWith(prefix)) throw new CodeError(`this is not a Shared Folders ${what} code (it should start with ${prefix})`);
  let o: unknown;
  try {
    o = JSON.parse(Buffer.from(trimmed.slice(prefix.length), 'base64url').toString('utf8'));
  } catch {
    throw new CodeError(`the ${what} code is damaged`);
  }
  const r = o as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || typeof r['s'] !== 'string' || typeof r['t'] !== 'string' || !/^wss?:\/\//.test(r['s'])) {
    throw new CodeError(`the ${what} code is damaged`);
  }
  return r;
}
