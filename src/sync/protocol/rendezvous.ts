import { fromHex, toHex } from '../util/bytes';

/**
 * The rendezvous protocol between a device and the server: JSON control messages in text frames,
 * and binary frames that carry end-to-end encrypted payloads the server only routes or stores.
 * Shared by the server and the devices; validation is explicit so hostile input becomes a
 * `RendezvousError`, never an exception from deep inside a handler.
 */

export const RENDEZVOUS_VERSION = 1;

/** Device ids are 16 bytes, users and spaces 16 random bytes, all as lowercase hex. */
export const ID_HEX = 32;

export type Presence = 'online' | 'away' | 'offline';
export type Role = 'owner' | 'editor' | 'reader';
export type SpaceKind = 'pair' | 'group' | 'publish';
export type MemberStatus = 'invited' | 'joined' | 'declined' | 'left';

export interface DeviceInfo {
  readonly id: string;
  /** Raw Ed25519 and X25519 public keys, hex. */
  readonly signPublic: string;
  readonly agreePublic: string;
  /** How a device linked to a user proves the user's other device let it in; none on the first. */
  readonly endorsement?: Endorsement;
}

/**
 * A link code holds a one-time Ed25519 key, certified by the device that made the code; the new
 * device signs its own keys with it. Devices trust a user's device only through a chain of these
 * back to the user's first device, whose key they pinned, so a server cannot add a device.
 */
export interface Endorsement {
  /** The one-time key's raw public half, hex. */
  readonly key: string;
  /** The device of the same user that made the link code. */
  readonly by: string;
  /** `by`'s signature over `linkKeySigningBytes(user, key)`, hex. */
  readonly keySig: string;
  /** `key`'s signature over `endorsementSigningBytes(user, device)`, hex. */
  readonly sig: string;
}

export interface UserInfo {
  readonly id: string;
  readonly name: string;
  readonly devices: readonly DeviceInfo[];
}

export interface ContactInfo extends UserInfo {
  readonly presence: Presence;
}

/**
 * The membership document of a space, signed by the device that wrote this version. It carries
 * no name: the server must never see a folder's name, and each member names its own copy.
 */
export interface SpaceDoc {
  readonly id: string;
  readonly kind: SpaceKind;
  /**
   * Grows by one with every change: the server stores nothing else. A device refuses a version
   * older than the last it accepted; it may be shown a later one after a gap (space-doc-chain.ts).
   */
  readonly version: number;
  readonly members: readonly { readonly user: string; readonly role: Role }[];
  readonly author: string;
  /** Ed25519 signature by `author` over `spaceDocSigningBytes(doc)`, hex. */
  readonly signature: string;
}

export interface SpaceInfo {
  readonly doc: SpaceDoc;
  readonly status: Readonly<Record<string, MemberStatus>>;
  /** Every member's name and devices, contacts or not: replicas need their keys. */
  readonly users: readonly UserInfo[];
}

/** Everything a device needs to know after signing in, and again after each change. */
export interface AccountState {
  readonly user: UserInfo;
  readonly contacts: readonly ContactInfo[];
  readonly spaces: readonly SpaceInfo[];
  /** Devices signed in now, among this user's own, contacts' and fellow members'. */
  readonly online: readonly string[];
  /** Latest compact vector per space and device, for the spaces this user is in. */
  readonly vectors: readonly { readonly space: string; readonly device: string; readonly hash: string }[];
}

export type ClientRequest =
  | { readonly t: 'createInvite' }
  | { readonly t: 'acceptInvite'; readonly token: string; readonly fingerprint: string }
  | { readonly t: 'removeContact'; readonly user: string }
  | { readonly t: 'createLink' }
  | { readonly t: 'presence'; readonly status: 'online' | 'away' }
  | { readonly t: 'putSpace'; readonly doc: SpaceDoc }
  | { readonly t: 'respondSpace'; readonly space: string; readonly accept: boolean }
  | { readonly t: 'leaveSpace'; readonly space: string }
  | { readonly t: 'vector'; readonly space: string; readonly hash: string }
  | { readonly t: 'fetchMailbox' }
  | { readonly t: 'ack'; readonly items: readonly string[] }
  | { readonly t: 'state' };

/** First frames of a connection. */
export type ClientGreeting =
  | { readonly t: 'hello'; readonly v: number; readonly device: DeviceInfo }
  | {
      readonly t: 'auth';
      readonly signature: string;
      /** 'command': a one-shot connection that neither receives device traffic nor replaces the device's session. */
      readonly mode: 'session' | 'command';
      readonly join?: { readonly name: string } | { readonly link: string };
    };

export type ClientMessage = ClientGreeting | (ClientRequest & { readonly id: number });

export type ServerMessage =
  | { readonly t: 'challenge'; readonly nonce: string; readonly v: number }
  | { readonly t: 'welcome'; readonly state: AccountState }
  | { readonly t: 'reply'; readonly id: number; readonly result: Readonly<Record<string, unknown>> }
  | { readonly t: 'error'; readonly id?: number; readonly code: RendezvousErrorCode; readonly message: string }
  | { readonly t: 'state'; readonly state: AccountState }
  | { readonly t: 'presence'; readonly user: string; readonly presence: Presence; readonly devices: readonly string[] }
  | { readonly t: 'vector'; readonly space: string; readonly device: string; readonly hash: string };

export type RendezvousErrorCode =
  | 'malformed'
  | 'version'
  | 'unauthenticated'
  | 'unknownDevice'
  | 'badSignature'
  | 'badToken'
  | 'notFound'
  | 'forbidden'
  | 'conflict'
  | 'quota'
  | 'tooLarge'
  | 'rateLimited'
  | 'busy'
  | 'internal';

/** Why an invite is refused to the user who made it, by the client before it asks and by the server (the code stays good). */
export const OWN_INVITE = 'this invite code is your own: send it to the person you want to add as a contact';

export class RendezvousError extends Error {
  constructor(
    readonly code: RendezvousErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RendezvousError';
  }
}

// ---- binary frames ------------------------------------------------------------------------

/** First byte of a binary frame. */
export const FRAME_RELAY = 1;
export const FRAME_DEPOSIT = 2;
export const FRAME_DELIVERY = 3;

const ID_BYTES = ID_HEX / 2;

/** Relay, device to server: [1][recipient id 16][payload]; server to device: [1][sender id 16][payload]. */
export function encodeRelay(device: string, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + ID_BYTES + payload.length);
  out[0] = FRAME_RELAY;
  out.set(idBytes(device), 1);
  out.set(payload, 1 + ID_BYTES);
  return out;
}

export function decodeRelay(frame: Uint8Array): { device: string; payload: Uint8Array } {
  if (frame.length < 1 + ID_BYTES || frame[0] !== FRAME_RELAY) throw new RendezvousError('malformed', 'relay frame too short');
  return { device: toHex(frame.subarray(1, 1 + ID_BYTES)), payload: frame.subarray(1 + ID_BYTES) };
}

/**
 * Deposit into the mailbox: [2][item id 16][count u8][count recipient ids][payload]. The item id
 * is chosen by the sender (random), so a retried deposit is stored once.
 */
export function encodeDeposit(item: string, recipients: readonly string[], payload: Uint8Array): Uint8Array {
  if (recipients.length === 0 || recipients.length > 255) throw new RendezvousError('malformed', `${recipients.length} recipients`);
  const head = 2 + ID_BYTES + recipients.length * ID_BYTES;
  const out = new Uint8Array(head + payload.length);
  out[0] = FRAME_DEPOSIT;
  out.set(idBytes(item), 1);
  out[1 + ID_BYTES] = recipients.length;
  recipients.forEach((r, i) => out.set(idBytes(r), 2 + ID_BYTES + i * ID_BYTES));
  out.set(payload, head);
  return out;
}

export function decodeDeposit(frame: Uint8Array): { item: string; recipients: string[]; payload: Uint8Array } {
  if (frame.length < 2 + ID_BYTES || frame[0] !== FRAME_DEPOSIT) throw new RendezvousError('malformed', 'deposit frame too short');
  const item = toHex(frame.subarray(1, 1 + ID_BYTES));
  const count = frame[1 + ID_BYTES]!;
  const head = 2 + ID_BYTES + count * ID_BYTES;
  if (count === 0 || frame.length < head) throw new RendezvousError('malformed', 'deposit frame recipients truncated');
  const recipients: string[] = [];
  for (let i = 0; i < count; i++) recipients.push(toHex(frame.subarray(2 + ID_BYTES + i * ID_BYTES, 2 + ID_BYTES + (i + 1) * ID_BYTES)));
  return { item, recipients, payload: frame.subarray(head) };
}

/** Delivery of a mailbox item, server to device: [3][item id 16][sender id 16][payload]. */
export function encodeDelivery(item: string, sender: string, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + 2 * ID_BYTES + payload.length);
  out[0] = FRAME_DELIVERY;
  out.set(idBytes(item), 1);
  out.set(idBytes(sender), 1 + ID_BYTES);
  out.set(payload, 1 + 2 * ID_BYTES);
  return out;
}

export function decodeDelivery(frame: Uint8Array): { item: string; sender: string; payload: Uint8Array } {
  if (frame.length < 1 + 2 * ID_BYTES || frame[0] !== FRAME_DELIVERY) throw new RendezvousError('malformed', 'delivery frame too short');
  return {
    item: toHex(frame.subarray(1, 1 + ID_BYTES)),
    sender: toHex(frame.subarray(1 + ID_BYTES, 1 + 2 * ID_BYTES)),
    payload: frame.subarray(1 + 2 * ID_BYTES),
  };
}

// ---- validation ---------------------------------------------------------------------------

export function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length === ID_HEX && /^[0-9a-f]+$/.test(value);
}

export function isHex(value: unknown, bytes: number): value is string {
  return typeof value === 'string' && value.length === bytes * 2 && /^[0-9a-f]*$/.test(value);
}

function idBytes(id: string): Uint8Array {
  if (!isId(id)) throw new RendezvousError('malformed', `not an id: ${String(id).slice(0, 40)}`);
  return fromHex(id);
}

const MAX_NAME = 200;

function fail(what: string): never {
  throw new RendezvousError('malformed', what);
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${what} is not an object`);
  return value as Record<string, unknown>;
}

function str(o: Record<string, unknown>, key: string, max = MAX_NAME): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length > max) fail(`${key} is not a string of at most ${max} characters`);
  return v;
}

function id(o: Record<string, unknown>, key: string): string {
  const v = o[key];
  if (!isId(v)) fail(`${key} is not an id`);
  return v;
}

function hex(o: Record<string, unknown>, key: string, bytes: number): string {
  const v = o[key];
  if (!isHex(v, bytes)) fail(`${key} is not ${bytes} bytes of hex`);
  return v;
}

/** A user-chosen name: printable, trimmed, 1 to 64 characters. */
export function validName(name: unknown): name is string {
  // eslint-disable-next-line no-control-regex -- control characters are what it rejects
  return typeof name === 'string' && name.length >= 1 && name.length <= 64 && name.trim() === name && !/[\u0000-\u001f\u007f,]/.test(name);
}

export function parseDeviceInfo(value: unknown): DeviceInfo {
  const o = record(value, 'device');
  const device = { id: id(o, 'id'), signPublic: hex(o, 'signPublic', 32), agreePublic: hex(o, 'agreePublic', 32) };
  if (o['endorsement'] === undefined) return device;
  const e = record(o['endorsement'], 'endorsement');
  return { ...device, endorsement: { key: hex(e, 'key', 32), by: id(e, 'by'), keySig: hex(e, 'keySig', 64), sig: hex(e, 'sig', 64) } };
}

/** What the device that makes a link code signs: the code's one-time key, for this user. */
export function linkKeySigningBytes(user: string, key: string): Uint8Array {
  return new TextEncoder().encode(`sf-link-key-v${RENDEZVOUS_VERSION}\n${user}\n${key}`);
}

/** What the one-time key signs: the new device's id and keys, for this user. */
export function endorsementSigningBytes(user: string, device: Pick<DeviceInfo, 'id' | 'signPublic' | 'agreePublic'>): Uint8Array {
  return new TextEncoder().encode(`sf-device-v${RENDEZVOUS_VERSION}\n${user}\n${device.id}\n${device.signPublic}\n${device.agreePublic}`);
}

const ROLES: readonly Role[] = ['owner', 'editor', 'reader'];
const KINDS: readonly SpaceKind[] = ['pair', 'group', 'publish'];

export function parseSpaceDoc(value: unknown): SpaceDoc {
  const o = record(value, 'space');
  const kind = o['kind'];
  if (!KINDS.includes(kind as SpaceKind)) fail('space kind is not pair, group or publish');
  const version = o['version'];
  if (!Number.isSafeInteger(version) || (version as number) < 1) fail('space version is not a positive integer');
  const members = o['members'];
  if (!Array.isArray(members) || members.length < 1 || members.length > 1000) fail('members is not a list of 1 to 1000');
  const seen = new Set<string>();
  const parsed = members.map((m) => {
    const mo = record(m, 'member');
    const role = mo['role'];
    if (!ROLES.includes(role as Role)) fail('member role is not owner, editor or reader');
    const user = id(mo, 'user');
    if (seen.has(user)) fail('a member is listed twice');
    seen.add(user);
    return { user, role: role as Role };
  });
  if (!parsed.some((m) => m.role === 'owner')) fail('a space has no owner');
  return {
    id: id(o, 'id'),
    kind: kind as SpaceKind,
    version: version as number,
    members: parsed,
    author: id(o, 'author'),
    signature: hex(o, 'signature', 64),
  };
}

/** The bytes an author signs: a canonical JSON of every field but the signature. */
export function spaceDocSigningBytes(doc: Omit<SpaceDoc, 'signature'>): Uint8Array {
  const canonical = JSON.stringify({
    v: RENDEZVOUS_VERSION,
    id: doc.id,
    kind: doc.kind,
    version: doc.version,
    members: [...doc.members].sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0)).map((m) => [m.user, m.role]),
    author: doc.author,
  });
  return new TextEncoder().encode('sf-space-doc\n' + canonical);
}

/** The bytes a device signs to answer the server's challenge. */
export function authSigningBytes(nonce: string, device: string): Uint8Array {
  return new TextEncoder().encode(`sf-auth-v${RENDEZVOUS_VERSION}\n${nonce}\n${device}`);
}

/**
 * Whether `author` (a user) may move a space from `previous` (undefined: creating it) to `next`.
 * Owners may do anything but remove the last owner; in a group space an editor may add members
 * as editors or readers and change nothing else. Checked by the server before it stores a version,
 * and by every device before it uses one (space-doc-chain.ts).
 */
export function mayChangeSpace(previous: SpaceDoc | undefined, next: SpaceDoc, author: string): boolean {
  if (previous === undefined) return next.version === 1 && next.members.some((m) => m.user === author && m.role === 'owner');
  if (next.id !== previous.id || next.version !== previous.version + 1 || next.kind !== previous.kind) return false;
  const role = previous.members.find((m) => m.user === author)?.role;
  if (role === 'owner') return true;
  if (role !== 'editor' || previous.kind !== 'group') return false;
  const before = new Map(previous.members.map((m) => [m.user, m.role]));
  const after = new Map(next.members.map((m) => [m.user, m.role]));
  for (const [user, r] of before) if (after.get(user) !== r) return false;
  for (const [user, r] of after) if (!before.has(user) && r === 'owner') return false;
  return true;
}

export function parseClientMessage(text: string): ClientMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    fail('not JSON');
  }
  const o = record(value, 'message');
  const t = o['t'];
  if (t === 'hello') {
    const v = o['v'];
    if (typeof v !== 'number') fail('hello without a version');
    return { t, v, device: parseDeviceInfo(o['device']) };
  }
  if (t === 'auth') {
    const signature = hex(o, 'signature', 64);
    const mode = o['mode'];
    if (mode !== 'session' && mode !== 'command') fail('auth mode is not session or command');
    const join = o['join'];
    if (join === undefined) return { t, signature, mode };
    const jo = record(join, 'join');
    if (typeof jo['name'] === 'string') {
      if (!validName(jo['name'])) fail('user name is not a valid name');
      return { t, signature, mode, join: { name: jo['name'] } };
    }
    return { t, signature, mode, join: { link: hex(jo, 'link', 16) } };
  }
  const reqId = o['id'];
  if (!Number.isSafeInteger(reqId) || (reqId as number) < 0) fail('request without an id');
  const base = { id: reqId as number };
  switch (t) {
    case 'createInvite':
    case 'createLink':
    case 'fetchMailbox':
    case 'state':
      return { ...base, t };
    case 'acceptInvite':
      return { ...base, t, token: hex(o, 'token', 16), fingerprint: str(o, 'fingerprint', 64) };
    case 'removeContact':
      return { ...base, t, user: id(o, 'user') };
    case 'presence': {
      const status = o['status'];
      if (status !== 'online' && status !== 'away') fail('presence is not online or away');
      return { ...base, t, status };
    }
    case 'putSpace':
      return { ...base, t, doc: parseSpaceDoc(o['doc']) };
    case 'respondSpace': {
      const accept = o['accept'];
      if (typeof accept !== 'boolean') fail('accept is not a boolean');
      return { ...base, t, space: id(o, 'space'), accept };
    }
    case 'leaveSpace':
      return { ...base, t, space: id(o, 'space') };
    case 'vector':
      return { ...base, t, space: id(o, 'space'), hash: hex(o, 'hash', 32) };
    case 'ack': {
      const items = o['items'];
      if (!Array.isArray(items) || items.length > 10_000 || !items.every(isId)) fail('items is not a list of ids');
      return { ...base, t, items: items as string[] };
    }
    default:
      fail(`unknown message type ${JSON.stringify(t)?.slice(0, 40)}`);
  }
}
