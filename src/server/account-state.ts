import {
  RendezvousError,
  type AccountState,
  type ContactInfo,
  type MemberStatus,
  type SpaceInfo,
  type UserInfo,
} from '../sync/protocol/rendezvous';
import type { UserState } from './cluster/cluster';
import { send, type Connection } from './connection';
import type { ServerContext } from './server-context';

/**
 * What each user sees of the others: the account state sent at sign-in and pushed on every
 * change, presence, and which users' devices a device may reach at all.
 */

export async function accountState(ctx: ServerContext, user: string): Promise<AccountState> {
  const { store, signedIn } = ctx;
  const me = await store.user(user);
  if (!me) throw new RendezvousError('notFound', `user ${user} is gone`);
  const contacts: ContactInfo[] = [];
  for (const id of await store.contactsOf(user)) {
    const u = await store.user(id);
    if (u) contacts.push({ ...u, devices: await store.devicesOf(id), presence: signedIn.presenceOf(id) });
  }
  const spaces: SpaceInfo[] = [];
  const vectors: { space: string; device: string; hash: string }[] = [];
  for (const id of await store.spacesOf(user)) {
    const space = await store.space(id);
    if (!space) continue;
    const users: UserInfo[] = [];
    for (const m of space.doc.members) {
      const u = await store.user(m.user);
      if (u) users.push({ ...u, devices: await store.devicesOf(m.user) });
    }
    spaces.push({ ...space, users });
    if (space.status[user] === 'joined') for (const v of await store.vectors(id)) vectors.push({ space: id, ...v });
  }
  const online = [...(await peersOf(ctx, user))].flatMap((u) => signedIn.onlineDevices(u));
  return { user: { ...me, devices: await store.devicesOf(user) }, contacts, spaces, online, vectors };
}

/**
 * Users whose devices this user's devices may reach: itself, contacts, fellow members (neither
 * of the two having left or declined the space).
 */
export async function peersOf(ctx: ServerContext, user: string): Promise<Set<string>> {
  const peers = new Set<string>([user, ...(await ctx.store.contactsOf(user))]);
  for (const id of await ctx.store.spacesOf(user)) {
    const space = await ctx.store.space(id);
    if (!space || !stillMember(space.status[user])) continue;
    for (const m of space.doc.members) if (stillMember(space.status[m.user])) peers.add(m.user);
  }
  return peers;
}

function stillMember(status: MemberStatus | undefined): boolean {
  return status !== undefined && status !== 'left' && status !== 'declined';
}

/**
 * Whether this connection's device may send to `device` now. Checked on every relay and deposit,
 * against rights no older than the last change of anyone's contacts, spaces or devices: a
 * connection opened before a contact was removed loses the right with everyone else's.
 */
export async function mayReach(ctx: ServerContext, conn: Connection, device: string): Promise<boolean> {
  const target = ctx.signedIn.userOf(device) ?? (await ctx.store.device(device))?.user;
  if (target === undefined) return false;
  if (conn.peers?.version !== ctx.rights.version) {
    // Read before the look-up: a change while it runs leaves the result stale, not current.
    const version = ctx.rights.version;
    conn.peers = { version, users: await peersOf(ctx, conn.user!) };
  }
  return conn.peers.users.has(target);
}

/** Tells the connections of `user`'s peers, on every process, its presence and devices online. */
export async function pushPresence(ctx: ServerContext, user: string): Promise<void> {
  const peers = [...(await peersOf(ctx, user))];
  sendPresence(ctx, user, peers);
  ctx.cluster.pushPresence(user, peers);
}

/**
 * Sends `user`'s presence to this process's connections of `peers`. Each process reads presence
 * from its own directory when it sends, so the last push anywhere tells the last state.
 */
export function sendPresence(ctx: ServerContext, user: string, peers: Iterable<string>): void {
  const presence = ctx.signedIn.presenceOf(user);
  const devices = ctx.signedIn.onlineDevices(user);
  for (const u of peers) for (const c of ctx.signedIn.of(u) ?? []) send(c, { t: 'presence', user, presence, devices });
}

/**
 * Sends the users their new account state; called right after every change of contacts, spaces,
 * memberships or devices, so it is also where every connection's cached rights become stale, on
 * every process. The state is computed once, here, for the users signed in anywhere.
 */
export async function pushState(ctx: ServerContext, users: readonly string[]): Promise<void> {
  ctx.rights.version++;
  const states: UserState[] = [];
  for (const user of new Set(users)) {
    if (!ctx.signedIn.signedInAnywhere(user)) continue;
    const state = await accountState(ctx, user);
    states.push({ user, state });
    sendState(ctx, user, state);
  }
  ctx.cluster.pushRights(states);
}

/** Sends a user's state to this process's connections of it. */
export function sendState(ctx: ServerContext, user: string, state: AccountState): void {
  for (const c of ctx.signedIn.of(user) ?? []) send(c, { t: 'state', state });
}
