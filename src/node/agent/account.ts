import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { fromHex, toHex } from '../../sync/util/bytes';
import {
  mayChangeSpace,
  RendezvousError,
  spaceDocSigningBytes,
  OWN_INVITE,
  type AccountState,
  type ContactInfo,
  type DeviceInfo,
  type Role,
  type SpaceDoc,
  type UserInfo,
} from '../../sync/protocol/rendezvous';
import { appendChatHistory, sendChat, type ChatEntry } from './chat';
import { CodeError, decodeInvite, decodeLink, encodeInvite, encodeLink } from './codes';
import { HomeError, type DeviceHome, type Identity } from './device-home';
import { CryptoError, fingerprintOf, publicDeviceOf, generateDeviceKeys, signWith, type DeviceKeys } from '../crypto/device-keys';
import { endorse, makeLinkGrant, pinsOf, trustFilter } from '../crypto/device-trust';
import { DiskStore, MARKER_DIR } from '../disk/disk-store';
import { RendezvousClient } from '../net/rendezvous-client';
import { isFolderName, sendSpaceNote } from './space-note';
import { AccountError } from './account-error';
import { checkShareTarget, planJoin, realPath } from './space-overlap';
import { seedIgnoreFile } from '../disk/ignore-seed';
import { IGNORE_FILE } from '../disk/ignore-rules';

/**
 * The account operations a user asks for (new identity, invite, accept, share, join, chat,
 * status), as free functions over a device home and a signed-in connection. The CLI runs each
 * over a one-shot connection; the engine host over its running agent's session. No output:
 * results are returned, failures thrown as typed errors.
 */

export { AccountError, FolderNotEmptyError } from './account-error';

/** How a device reaches its server, beyond the address in its identity. */
export interface ServerConnection {
  /** A private CA's PEM file to trust for wss://. */
  readonly caFile?: string;
}

/** A signed-in connection and the device it speaks for. */
export interface AccountSession {
  readonly home: DeviceHome;
  readonly identity: Identity;
  readonly client: RendezvousClient;
}

/** Runs `work` over a one-shot connection that does not disturb a running session of the same device. */
export async function withServer<T>(
  home: DeviceHome,
  identity: Identity,
  work: (session: AccountSession, state: AccountState) => Promise<T>,
  connection: ServerConnection = {},
): Promise<T> {
  const client = new RendezvousClient({
    url: identity.server,
    keys: identity.keys,
    mode: 'command',
    trust: trustFilter(home),
    ...(connection.caFile !== undefined ? { caFile: connection.caFile } : {}),
  });
  const state = await client.connect();
  try {
    return await work({ home, identity, client }, state);
  } finally {
    await client.close();
  }
}

function stateOf(session: AccountSession): AccountState {
  const state = session.client.state;
  if (!state) throw new RendezvousError('unauthenticated', 'not connected to the server');
  return state;
}

/** The account state as the server has it now (a one-shot connection is not sent updates), as this device trusts it. */
async function freshState(session: AccountSession): Promise<AccountState> {
  return trustFilter(session.home)((await session.client.request({ t: 'state' }))['state'] as AccountState);
}

// ---- identity -------------------------------------------------------------------------------

export interface NewIdentity {
  readonly identity: Identity;
  readonly device: string;
  readonly fingerprint: string;
}

/**
 * Registers a new device on the server, as a new user (`name`) or as another device of a user
 * (`link`, a link code), and saves it in the home. With `keysInHome: false` identity.json holds
 * no keys: the caller keeps them (the extension, in SecretStorage).
 */
export async function createIdentity(
  home: DeviceHome,
  options: {
    readonly server?: string;
    readonly name?: string;
    readonly link?: string;
    readonly keys?: DeviceKeys;
    readonly keysInHome?: boolean;
    readonly caFile?: string;
  },
): Promise<NewIdentity> {
  if (home.exists) throw new HomeError(`${home.dir} already holds a device identity`);
  const link = options.link ? decodeLink(options.link) : undefined;
  const server = options.server ?? link?.server;
  if (!server) throw new AccountError('a new identity needs a server address');
  if (link && link.server !== server) throw new CodeError(`the link code is for ${link.server}, not ${server}`);
  if (!link && !options.name) throw new AccountError('a new identity needs a name');
  const join = link ? { link: link.token } : { name: options.name! };
  const keys = options.keys ?? generateDeviceKeys();
  const device = publicDeviceOf(keys);
  const endorsement = link ? endorse({ user: link.user, seed: link.seed, by: link.by, keySig: link.keySig }, device) : undefined;
  const client = new RendezvousClient({
    url: server,
    keys,
    mode: 'command',
    join,
    ...(endorsement ? { endorsement } : {}),
    ...(options.caFile !== undefined ? { caFile: options.caFile } : {}),
  });
  const state = await client.connect();
  await client.close();
  if (link && state.user.id !== link.user) throw new CodeError('the server added this device to another user than the link code names');
  const identity: Identity = { keys, server, name: state.user.name, user: state.user.id };
  home.saveIdentity(identity, { withKeys: options.keysInHome ?? true });
  // The user's first device is the root every device of the user is checked against.
  pinsOf(home).pin(state.user.id, link ? link.root : device.signPublic);
  return { identity, device: client.device.id, fingerprint: fingerprintOf(keys) };
}

/** A code another device of this user signs in with; it carries a one-time key that endorses that device. */
export async function createLinkCode(session: AccountSession): Promise<string> {
  const state = stateOf(session);
  const root = userRoot(session, state.user);
  const token = String((await session.client.request({ t: 'createLink' }))['token']);
  const grant = makeLinkGrant(session.identity.keys, session.client.device.id, state.user.id);
  return encodeLink({
    server: session.identity.server,
    token,
    user: state.user.id,
    root: root.signPublic,
    seed: grant.seed,
    by: grant.by,
    keySig: grant.keySig,
  });
}

/** A user's first device, as pinned here. */
function userRoot(session: AccountSession, user: UserInfo): DeviceInfo {
  const pinned = pinsOf(session.home).root(user.id);
  const root = user.devices.find((d) => d.signPublic === pinned && !d.endorsement);
  if (!root) throw new CryptoError('badKey', `the first device of ${user.name} is not among its devices`);
  return root;
}

// ---- contacts -------------------------------------------------------------------------------

/** A one-time invite code with the fingerprint of this user's first device, for a contact to accept. */
export async function createInviteCode(session: AccountSession): Promise<string> {
  const root = userRoot(session, stateOf(session).user);
  const token = String((await session.client.request({ t: 'createInvite' }))['token']);
  return encodeInvite({
    server: session.identity.server,
    token,
    fingerprint: fingerprintOf({ signPublic: fromHex(root.signPublic), agreePublic: fromHex(root.agreePublic) }),
  });
}

/**
 * Accepts an invite code: becomes the inviter's contact, then checks that the inviter's keys
 * match the fingerprint in the code and undoes the contact if they do not (a server that
 * swapped keys must not get a foothold).
 */
export async function acceptInvite(session: AccountSession, codeText: string): Promise<ContactInfo> {
  const code = decodeInvite(codeText);
  if (code.server !== session.identity.server)
    throw new CodeError(`the invite is for server ${code.server}; this device uses ${session.identity.server}`);
  // Refused here, before the server takes the token: the code stays good for the person it was meant for.
  const own = userRoot(session, stateOf(session).user);
  if (fingerprintOf({ signPublic: fromHex(own.signPublic), agreePublic: fromHex(own.agreePublic) }) === code.fingerprint)
    throw new CodeError(OWN_INVITE);
  const result = await session.client.request({ t: 'acceptInvite', token: code.token, fingerprint: code.fingerprint });
  const inviter = String(result['user']);
  // Checked on the state as the server sent it: the inviter's first device must be the one in the code.
  const raw = ((await session.client.request({ t: 'state' }))['state'] as AccountState).contacts.find((c) => c.id === inviter);
  const root = raw?.devices.find(
    (d) => !d.endorsement && fingerprintOf({ signPublic: fromHex(d.signPublic), agreePublic: fromHex(d.agreePublic) }) === code.fingerprint,
  );
  const pins = pinsOf(session.home);
  const pinned = pins.root(inviter);
  if (!raw || !root || (pinned !== undefined && pinned !== root.signPublic)) {
    await session.client.request({ t: 'removeContact', user: inviter });
    throw new CryptoError('badKey', "the inviter's keys do not match the fingerprint in the code; the contact was not added");
  }
  pins.pin(inviter, root.signPublic);
  return (await freshState(session)).contacts.find((c) => c.id === inviter)!;
}

/** Contacts by name (or user id); a name that fits none or several is an error. */
export function contactsByName(state: AccountState, names: readonly string[]): UserInfo[] {
  return names.map((name) => {
    const byId = state.contacts.find((c) => c.id === name);
    if (byId) return byId;
    const found = state.contacts.filter((c) => c.name === name);
    if (found.length === 0) throw new AccountError(`${name} is not one of your contacts`);
    if (found.length > 1) throw new AccountError(`several contacts are called ${name}`);
    return found[0]!;
  });
}

// ---- spaces ---------------------------------------------------------------------------------

/** Signs a space document as this device. */
export function signSpaceDoc(session: AccountSession, unsigned: Omit<SpaceDoc, 'signature' | 'author'>): SpaceDoc {
  const withAuthor: Omit<SpaceDoc, 'signature'> = { ...unsigned, author: session.client.device.id };
  return { ...withAuthor, signature: toHex(signWith(session.identity.keys, spaceDocSigningBytes(withAuthor))) };
}

/**
 * Shares a local folder with contacts (names or user ids); returns the new space's id. The folder
 * is in this home's spaces before the server hears of the space, so a running agent that learns
 * of it from the server finds it here and never makes a folder of its own for it.
 */
export async function shareFolder(
  session: AccountSession,
  path: string,
  withUsers: readonly string[],
  role: Role,
  options: { readonly ignore?: readonly string[] } = {},
): Promise<string> {
  if (role !== 'editor' && role !== 'reader') throw new AccountError('the role is editor or reader');
  if (!fs.statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw new AccountError(`${path} is not a folder`);
  checkShareTarget(session.home, path);
  const state = stateOf(session);
  const members = contactsByName(state, withUsers);
  const doc = signSpaceDoc(session, {
    id: crypto.randomBytes(16).toString('hex'),
    kind: role === 'reader' ? 'publish' : members.length > 1 ? 'group' : 'pair',
    version: 1,
    members: [{ user: state.user.id, role: 'owner' }, ...members.map((m) => ({ user: m.id, role }))],
  });
  // Written before the folder is first scanned, so no member ever syncs what it leaves out.
  const seeded = (options.ignore?.length ?? 0) > 0 && seedIgnoreFile(path, options.ignore!);
  await DiskStore.initFolder(path, doc.id);
  session.home.putSpace({ id: doc.id, path });
  try {
    await session.client.request({ t: 'putSpace', doc });
  } catch (err) {
    session.home.removeSpace(doc.id);
    if (seeded) fs.rmSync(nodePath.join(path, IGNORE_FILE), { force: true });
    // The marker was made a moment ago for this space alone; nothing has synced into it.
    fs.rmSync(nodePath.join(path, MARKER_DIR), { recursive: true, force: true });
    throw err;
  }
  // Members (and this user's other devices) learn the folder's name end to end, not from the server.
  await tellName(session, [state.user, ...members], doc.id, path);
  return doc.id;
}

/**
 * Accepts a space shared with this user and puts its copy at `path`: a new folder, an empty one,
 * or with `merge` one that has files (they merge with the space's, conflicts keep both). A space
 * this device syncs elsewhere moves here. As with sharing, the home knows the folder before the
 * server hears of the join.
 */
export async function joinSpace(
  session: AccountSession,
  space: string,
  path: string,
  options: { readonly merge?: boolean } = {},
): Promise<void> {
  const state = stateOf(session);
  const info = state.spaces.find((s) => s.doc.id === space);
  if (!info || info.status[state.user.id] === undefined) throw new AccountError(`no space ${space} was shared with you`);
  const plan = planJoin(session.home, space, path, options.merge ?? false);
  const joined = info.status[state.user.id] === 'joined';
  if (plan.kind === 'new') {
    const hadMarker = fs.existsSync(nodePath.join(path, MARKER_DIR));
    fs.mkdirSync(path, { recursive: true });
    await DiskStore.initFolder(path, space);
    const before = session.home.spaces().find((s) => s.id === space);
    session.home.putSpace({ ...before, id: space, path });
    try {
      if (!joined) await session.client.request({ t: 'respondSpace', space, accept: true });
    } catch (err) {
      if (before) session.home.putSpace(before);
      else session.home.removeSpace(space);
      if (!hadMarker) fs.rmSync(nodePath.join(path, MARKER_DIR), { recursive: true, force: true });
      if (plan.created) fs.rmdirSync(path); // Empty again: only the marker was put in it.
      throw err;
    }
  } else {
    if (plan.kind === 'move') moveFolder(session.home, space, plan.from, path);
    else if (plan.kind === 'moved') session.home.putSpace({ ...session.home.spaces().find((s) => s.id === space)!, path });
    if (!joined) await session.client.request({ t: 'respondSpace', space, accept: true });
  }
  // This user's other devices will sync the space too, under the name it has here.
  if (plan.kind !== 'same') await tellName(session, [state.user], space, path);
}

/** Moves a space's folder, marker and all, to a place that is missing or an empty folder. */
function moveFolder(home: DeviceHome, space: string, from: string, to: string): void {
  const target = realPath(to);
  fs.mkdirSync(nodePath.dirname(target), { recursive: true });
  const emptyThere = fs.existsSync(target);
  if (emptyThere) fs.rmdirSync(target);
  try {
    fs.renameSync(realPath(from), target);
  } catch (err) {
    if (emptyThere) fs.mkdirSync(target, { recursive: true });
    if ((err as NodeJS.ErrnoException).code === 'EXDEV')
      throw new AccountError(
        `cannot move space ${space} from ${from} to ${to}: they are on different disks. ` +
          `Stop the daemon, move the folder yourself and join again at ${to}; or leave the space and join it again there`,
      );
    throw err;
  }
  home.putSpace({ ...home.spaces().find((s) => s.id === space)!, path: to });
}

/** Deposits a space note naming the folder for the users' devices; resolves once the server holds them. */
async function tellName(session: AccountSession, users: readonly UserInfo[], space: string, path: string): Promise<void> {
  const name = nodePath.basename(path);
  if (isFolderName(name) && sendSpaceNote(session.client, session.identity.keys, users, { space, name }) > 0)
    await session.client.request({ t: 'state' });
}

/** Declines a space shared with this user. */
export async function declineSpace(session: AccountSession, space: string): Promise<void> {
  const state = stateOf(session);
  const info = state.spaces.find((s) => s.doc.id === space);
  if (!info || info.status[state.user.id] === undefined) throw new AccountError(`no space ${space} was shared with you`);
  await session.client.request({ t: 'respondSpace', space, accept: false });
}

/** Leaves a space: the other members go on without this user; the local files stay where they are. */
export async function leaveSpace(session: AccountSession, space: string): Promise<void> {
  const state = stateOf(session);
  const info = state.spaces.find((s) => s.doc.id === space);
  if (info && info.status[state.user.id] !== undefined && info.status[state.user.id] !== 'left')
    await session.client.request({ t: 'leaveSpace', space });
  session.home.removeSpace(space);
}

/**
 * Adds a contact to a space, as a new signed version of its document. Owners may add anyone;
 * in a group an editor may add editors and readers (`mayChangeSpace`: the server checks it
 * before it stores the version, every member's device before it uses it).
 */
export async function addMember(session: AccountSession, space: string, user: string, role: Role): Promise<void> {
  if (role !== 'editor' && role !== 'reader') throw new AccountError('the role is editor or reader');
  const state = stateOf(session);
  const info = state.spaces.find((s) => s.doc.id === space && s.status[state.user.id] === 'joined');
  if (!info) throw new AccountError(`you are not a member of space ${space}`);
  const [member] = contactsByName(state, [user]);
  const doc = info.doc;
  if (doc.members.some((m) => m.user === member!.id)) throw new AccountError(`${member!.name} is already a member`);
  const mine = doc.members.find((m) => m.user === state.user.id)?.role;
  if (mine !== 'owner' && !(mine === 'editor' && doc.kind === 'group'))
    throw new AccountError('only an owner, or an editor of a group, may add members');
  const next = signSpaceDoc(session, {
    id: doc.id,
    kind: doc.kind,
    version: doc.version + 1,
    members: [...doc.members, { user: member!.id, role }],
  });
  await session.client.request({ t: 'putSpace', doc: next });
  const local = session.home.spaces().find((s) => s.id === space);
  if (local) await tellName(session, [member!], space, local.path);
}

/**
 * Takes a member out of a space (a new signed version without them): their devices stop syncing
 * it and keep their files. Only an owner may (`mayChangeSpace`), and never the last owner.
 */
export async function removeMember(session: AccountSession, space: string, user: string): Promise<void> {
  await changeMembers(session, space, user, (members) => members.filter((m) => m.user !== user));
}

/** Gives a member another role, as a new signed version; only an owner may (`mayChangeSpace`), and a space keeps an owner. */
export async function changeRole(session: AccountSession, space: string, user: string, role: Role): Promise<void> {
  if (role !== 'owner' && role !== 'editor' && role !== 'reader') throw new AccountError('the role is owner, editor or reader');
  await changeMembers(session, space, user, (members) => members.map((m) => (m.user === user ? { user, role } : m)));
}

async function changeMembers(
  session: AccountSession,
  space: string,
  user: string,
  change: (members: SpaceDoc['members']) => SpaceDoc['members'],
): Promise<void> {
  const state = stateOf(session);
  const info = state.spaces.find((s) => s.doc.id === space && s.status[state.user.id] === 'joined');
  if (!info) throw new AccountError(`you are not a member of space ${space}`);
  const doc = info.doc;
  if (!doc.members.some((m) => m.user === user)) throw new AccountError('that user is not a member of the space');
  if (user === state.user.id) throw new AccountError('to give up your own place, leave the space');
  const members = change(doc.members);
  if (!members.some((m) => m.role === 'owner')) throw new AccountError('a space keeps at least one owner');
  const next = signSpaceDoc(session, { id: doc.id, kind: doc.kind, version: doc.version + 1, members });
  if (!mayChangeSpace(doc, next, state.user.id)) throw new AccountError('only an owner of the space may remove members or change roles');
  await session.client.request({ t: 'putSpace', doc: next });
}

/**
 * Stops sharing a space, for everyone: the owner signs a version whose only member is itself,
 * which takes the space out of every other member's account state (their devices stop syncing
 * it and keep their files), then leaves it too.
 */
export async function stopSharing(session: AccountSession, space: string): Promise<void> {
  const state = stateOf(session);
  const info = state.spaces.find((s) => s.doc.id === space);
  if (!info || info.doc.members.find((m) => m.user === state.user.id)?.role !== 'owner')
    throw new AccountError('only an owner of the space can stop sharing it');
  if (info.doc.members.length > 1) {
    const next = signSpaceDoc(session, {
      id: info.doc.id,
      kind: info.doc.kind,
      version: info.doc.version + 1,
      members: [{ user: state.user.id, role: 'owner' }],
    });
    await session.client.request({ t: 'putSpace', doc: next });
  }
  await leaveSpace(session, space);
}

export async function removeContact(session: AccountSession, user: string): Promise<void> {
  const state = stateOf(session);
  const [contact] = contactsByName(state, [user]);
  await session.client.request({ t: 'removeContact', user: contact!.id });
}

// ---- chat -----------------------------------------------------------------------------------

/**
 * Sends a chat message to a contact (name or user id) or a group (a joined space's id) and files
 * it in this device's history. Resolves once the server holds it for every recipient device.
 */
export async function sendChatMessage(session: AccountSession, to: string, text: string): Promise<ChatEntry> {
  if (!text) throw new AccountError('a chat message needs text');
  const state = stateOf(session);
  // A group's conversation is its space: every member who joined, and this user's other devices.
  const space = state.spaces.find((s) => s.doc.id === to && s.status[state.user.id] === 'joined');
  const [conversation, recipients] = space
    ? [space.doc.id, space.users.filter((u) => space.status[u.id] === 'joined')]
    : ((c: UserInfo): [string, UserInfo[]] => [c.id, [c, state.user]])(contactsByName(state, [to])[0]!);
  const { entry, devices } = sendChat(session.client, session.identity.keys, state.user, recipients, conversation, text);
  if (devices === 0) throw new AccountError(`${to} has no devices`);
  appendChatHistory(session.home, entry);
  // The deposits are sent; a request answered after them means the server has them all.
  await session.client.request({ t: 'state' });
  return entry;
}

// ---- status ---------------------------------------------------------------------------------
