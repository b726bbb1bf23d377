import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { fromHex, toHex } from '../sync/bytes';
import { RendezvousError, spaceDocSigningBytes, type AccountState, type ContactInfo, type Role, type SpaceDoc, type UserInfo } from '../sync/protocol/rendezvous';
import { appendChatHistory, sendChat, type ChatEntry } from './chat';
import { CodeError, decodeInvite, decodeLink, encodeInvite, encodeLink } from './codes';
import { DeviceAgent, type AgentStatus } from './device-agent';
import { HomeError, type DeviceHome, type Identity } from './device-home';
import { CryptoError, fingerprintOf, generateDeviceKeys, signWith, type DeviceKeys } from './device-keys';
import { DiskStore } from './disk-store';
import { RendezvousClient } from './rendezvous-client';

/**
 * The account operations a user asks for (new identity, invite, accept, share, join, chat,
 * status), as free functions over a device home and a signed-in connection. The CLI runs each
 * over a one-shot connection; the engine host over its running agent's session. No output:
 * results are returned, failures thrown as typed errors.
 */

/** A request the user made that cannot be done as asked (an unknown contact, a missing folder). */
export class AccountError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccountError';
  }
}

/** A signed-in connection and the device it speaks for. */
export interface AccountSession {
  readonly home: DeviceHome;
  readonly identity: Identity;
  readonly client: RendezvousClient;
}

/** Runs `work` over a one-shot connection that does not disturb a running session of the same device. */
export async function withServer<T>(home: DeviceHome, identity: Identity, work: (session: AccountSession, state: AccountState) => Promise<T>): Promise<T> {
  const client = new RendezvousClient({ url: identity.server, keys: identity.keys, mode: 'command' });
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

/** The account state as the server has it now (a one-shot connection is not sent updates). */
async function freshState(session: AccountSession): Promise<AccountState> {
  return (await session.client.request({ t: 'state' }))['state'] as AccountState;
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
  options: { readonly server?: string; readonly name?: string; readonly link?: string; readonly keys?: DeviceKeys; readonly keysInHome?: boolean },
): Promise<NewIdentity> {
  if (home.exists) throw new HomeError(`${home.dir} already holds a device identity`);
  const link = options.link ? decodeLink(options.link) : undefined;
  const server = options.server ?? link?.server;
  if (!server) throw new AccountError('a new identity needs a server address');
  if (link && link.server !== server) throw new CodeError(`the link code is for ${link.server}, not ${server}`);
  if (!link && !options.name) throw new AccountError('a new identity needs a name');
  const join = link ? { link: link.token } : { name: options.name! };
  const keys = options.keys ?? generateDeviceKeys();
  const client = new RendezvousClient({ url: server, keys, mode: 'command', join });
  const state = await client.connect();
  await client.close();
  const identity: Identity = { keys, server, name: state.user.name, user: state.user.id };
  home.saveIdentity(identity, { withKeys: options.keysInHome ?? true });
  return { identity, device: client.device.id, fingerprint: fingerprintOf(keys) };
}

/** A code another device of this user signs in with. */
export async function createLinkCode(session: AccountSession): Promise<string> {
  const token = String((await session.client.request({ t: 'createLink' }))['token']);
  return encodeLink({ server: session.identity.server, token });
}

// ---- contacts -------------------------------------------------------------------------------

/** A one-time invite code with this device's fingerprint, for a contact to accept. */
export async function createInviteCode(session: AccountSession): Promise<string> {
  const token = String((await session.client.request({ t: 'createInvite' }))['token']);
  return encodeInvite({ server: session.identity.server, token, fingerprint: fingerprintOf(session.identity.keys) });
}

/**
 * Accepts an invite code: becomes the inviter's contact, then checks that the inviter's keys
 * match the fingerprint in the code and undoes the contact if they do not (a server that
 * swapped keys must not get a foothold).
 */
export async function acceptInvite(session: AccountSession, codeText: string): Promise<ContactInfo> {
  const code = decodeInvite(codeText);
  if (code.server !== session.identity.server) throw new CodeError(`the invite is for server ${code.server}; this device uses ${session.identity.server}`);
  const result = await session.client.request({ t: 'acceptInvite', token: code.token, fingerprint: code.fingerprint });
  const inviter = String(result['user']);
  const contact = (await freshState(session)).contacts.find((c) => c.id === inviter);
  const matches = contact?.devices.some((d) => fingerprintOf({ signPublic: fromHex(d.signPublic), agreePublic: fromHex(d.agreePublic) }) === code.fingerprint);
  if (!contact || !matches) {
    await session.client.request({ t: 'removeContact', user: inviter });
    throw new CryptoError('badKey', 'the inviter\'s keys do not match the fingerprint in the code; the contact was not added');
  }
  return contact;
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

/** Shares a local folder with contacts (names or user ids); returns the new space's id. */
export async function shareFolder(session: AccountSession, path: string, withUsers: readonly string[], role: Role): Promise<string> {
  if (role !== 'editor' && role !== 'reader') throw new AccountError('the role is editor or reader');
  if (!fs.statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw new AccountError(`${path} is not a folder`);
  const state = stateOf(session);
  const members = contactsByName(state, withUsers);
  const doc = signSpaceDoc(session, {
    id: crypto.randomBytes(16).toString('hex'),
    kind: role === 'reader' ? 'publish' : members.length > 1 ? 'group' : 'pair',
    version: 1,
    members: [{ user: state.user.id, role: 'owner' }, ...members.map((m) => ({ user: m.id, role }))],
  });
  await session.client.request({ t: 'putSpace', doc });
  await DiskStore.initFolder(path);
  session.home.putSpace({ id: doc.id, path });
  return doc.id;
}

/** Accepts a space shared with this user and puts its copy at `path`. */
export async function joinSpace(session: AccountSession, space: string, path: string): Promise<void> {
  const state = stateOf(session);
  const info = state.spaces.find((s) => s.doc.id === space);
  if (!info || info.status[state.user.id] === undefined) throw new AccountError(`no space ${space} was shared with you`);
  if (info.status[state.user.id] !== 'joined') await session.client.request({ t: 'respondSpace', space, accept: true });
  fs.mkdirSync(path, { recursive: true });
  await DiskStore.initFolder(path);
  session.home.putSpace({ id: space, path });
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
  if (info && info.status[state.user.id] !== undefined && info.status[state.user.id] !== 'left') await session.client.request({ t: 'leaveSpace', space });
  session.home.removeSpace(space);
}

/**
 * Adds a contact to a space, as a new signed version of its document. Owners may add anyone;
 * in a group an editor may add editors and readers (the server and every replica check this
 * with `mayChangeSpace`).
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
  if (mine !== 'owner' && !(mine === 'editor' && doc.kind === 'group')) throw new AccountError('only an owner, or an editor of a group, may add members');
  const next = signSpaceDoc(session, { id: doc.id, kind: doc.kind, version: doc.version + 1, members: [...doc.members, { user: member!.id, role }] });
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
  if (!info || info.doc.members.find((m) => m.user === state.user.id)?.role !== 'owner') throw new AccountError('only an owner of the space can stop sharing it');
  if (info.doc.members.length > 1) {
    const next = signSpaceDoc(session, { id: info.doc.id, kind: info.doc.kind, version: info.doc.version + 1, members: [{ user: state.user.id, role: 'owner' }] });
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

/** Without a running agent: the server's view of presence and vectors, and the replicas' saved state. */
export async function offlineStatus(home: DeviceHome, identity: Identity): Promise<AgentStatus> {
  return withServer(home, identity, async (session, state) => {
    const status = DeviceAgent.statusFrom(home, session.client.device.id, state, false);
    return { ...status, conflicts: await DeviceAgent.savedConflicts(home) };
  });
}
