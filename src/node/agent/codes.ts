import * as crypto from 'node:crypto';

/**
 * The codes people pass to each other: an invite (server address, one-time token, the inviter's
 * first device's fingerprint) and a device link (server address, one-time token, and the one-time
 * key that endorses the new device). One line each, safe to paste anywhere; a link code is a
 * secret until it is used. Each ends in a checksum of everything before it, so a code that lost,
 * gained or changed a character on its way is called damaged before anything reaches the server.
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

/** Checksum characters at the end of a code: 48 bits, so a damaged code passes one time in 2^48. */
const CHECK_CHARS = 8;

export function encodeInvite(code: InviteCode): string {
  return encode(INVITE, { s: code.server, t: code.token, f: code.fingerprint });
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
  return encode(LINK, fields);
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

function encode(prefix: string, fields: Record<string, string>): string {
  const body = prefix + Buffer.from(JSON.stringify(fields)).toString('base64url');
  return body + checksum(body);
}

/** Over the text itself, not the bytes it decodes to: base64url's last character has bits no decoder reads. */
function checksum(body: string): string {
  return crypto.createHash('sha256').update(`sf-code-v2\n${body}`).digest('base64url').slice(0, CHECK_CHARS);
}

function decode(text: string, prefix: string, what: string): Record<string, unknown> {
  const trimmed = text.trim();
  const damaged = new CodeError(`the ${what} code is damaged`);
  if (!trimmed.startsWith(prefix)) {
    const other = [INVITE, LINK].find((p) => p !== prefix && trimmed.startsWith(p));
    if (other)
      throw new CodeError(
        `this is ${other === LINK ? 'a device link' : 'an invite'} code, not ${what === 'invite' ? 'an invite' : 'a link'} code`,
      );
    if (looksLikePrefix(trimmed, prefix)) throw damaged;
    throw new CodeError(`this is not a Shared Folders ${what} code (it should start with ${prefix})`);
  }
  const body = trimmed.slice(0, -CHECK_CHARS);
  if (body.length <= prefix.length || checksum(body) !== trimmed.slice(-CHECK_CHARS)) throw damaged;
  let o: unknown;
  try {
    o = JSON.parse(Buffer.from(body.slice(prefix.length), 'base64url').toString('utf8'));
  } catch {
    throw damaged;
  }
  const r = o as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || typeof r['s'] !== 'string' || typeof r['t'] !== 'string' || !/^wss?:\/\//.test(r['s'])) {
    throw damaged;
  }
  return r;
}

/** A prefix with a typo in it (`sf-invte-`, `sf-invitee-`) is a damaged code, not some other text. */
function looksLikePrefix(text: string, prefix: string): boolean {
  if (/^[A-Za-z0-9_-]+$/.test(text) && text.length > prefix.length + CHECK_CHARS) {
    for (const length of [prefix.length - 1, prefix.length, prefix.length + 1])
      if (editDistance(text.slice(0, length), prefix) <= 2) return true;
  }
  return false;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next.push(Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    row = next;
  }
  return row[b.length]!;
}
