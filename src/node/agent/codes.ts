/**
 * The codes people pass to each other: an invite (server address, one-time token, the inviter's
 * first device's fingerprint) and a device link (server address, one-time token, and the one-time
 * key that endorses the new device). One line each, safe to paste anywhere; a link code is a
 * secret until it is used.
 */
export interface InviteCode {
  readonly server: string;
  readonly token: string;
  readonly fingerprint: string;
}

export interface LinkCode {
  readonly server: string;
  readonly token: string;
  /** The user the code adds a device to, and that user's first device's signing key (hex). */
  readonly user: string;
  readonly root: string;
  /** The one-time key's seed and its certificate by the device that made the code. */
  readonly seed: Uint8Array;
  readonly by: string;
  readonly keySig: string;
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
  const fields = {
    s: code.server,
    t: code.token,
    u: code.user,
    r: code.root,
    k: Buffer.from(code.seed).toString('base64url'),
    b: code.by,
    g: code.keySig,
  };
  return LINK + Buffer.from(JSON.stringify(fields)).toString('base64url');
}

export function decodeLink(text: string): LinkCode {
  const o = decode(text, LINK, 'link');
  const hex = (key: string, length: number): string => {
    const v = o[key];
    if (typeof v !== 'string' || !new RegExp(`^[0-9a-f]{${length}}$`).test(v)) throw new CodeError('the link code is damaged');
    return v;
  };
  const seed = typeof o['k'] === 'string' ? new Uint8Array(Buffer.from(o['k'], 'base64url')) : new Uint8Array(0);
  if (seed.length !== 32) throw new CodeError('the link code is damaged');
  return {
    server: o['s'] as string,
    token: o['t'] as string,
    user: hex('u', 32),
    root: hex('r', 64),
    seed,
    by: hex('b', 32),
    keySig: hex('g', 128),
  };
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
