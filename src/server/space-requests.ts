import {
  mayChangeSpace,
  RendezvousError,
  spaceDocSigningBytes,
  type ClientRequest,
  type MemberStatus,
  type SpaceDoc,
} from '../sync/protocol/rendezvous';
import { pushState } from './account-state';
import { send, type Connection } from './connection';
import { verifyEd25519 } from './device-proof';
import type { ServerContext } from './server-context';

export type SpaceRequest = Extract<ClientRequest, { t: 'putSpace' | 'respondSpace' | 'leaveSpace' | 'vector' }>;

/** Space documents, members' answers to them, and the vectors members announce (docs/PROTOCOL.md R3). */
export async function spaceRequest(ctx: ServerContext, conn: Connection, request: SpaceRequest): Promise<Record<string, unknown>> {
  const { store } = ctx;
  const user = conn.user!;
  switch (request.t) {
    case 'putSpace':
      return putSpace(ctx, conn, request.doc);
    case 'respondSpace':
    case 'leaveSpace': {
      const space = await store.space(request.space);
      if (!space || space.status[user] === undefined) throw new RendezvousError('notFound', 'no such space for this user');
      const status: MemberStatus = request.t === 'leaveSpace' ? 'left' : request.accept ? 'joined' : 'declined';
      await store.setMemberStatus(request.space, user, status);
      await pushState(
        ctx,
        space.doc.members.map((m) => m.user),
      );
      return {};
    }
    case 'vector': {
      const space = await store.space(request.space);
      if (!space || space.status[user] !== 'joined') throw new RendezvousError('forbidden', 'not a member of this space');
      await store.putVector(request.space, conn.device!.id, request.hash);
      const message = { t: 'vector', space: request.space, device: conn.device!.id, hash: request.hash } as const;
      const joined = space.doc.members.map((m) => m.user).filter((u) => space.status[u] === 'joined');
      for (const u of joined) for (const other of ctx.signedIn.of(u) ?? []) if (other !== conn) send(other, message);
      ctx.cluster.pushToUsers(joined, message);
      return {};
    }
  }
}

async function putSpace(ctx: ServerContext, conn: Connection, doc: SpaceDoc): Promise<Record<string, unknown>> {
  const { store } = ctx;
  const user = conn.user!;
  if (doc.author !== conn.device!.id) throw new RendezvousError('forbidden', 'a space document must be signed by the device that sends it');
  const { signature, ...unsigned } = doc;
  if (!verifyEd25519(conn.device!.signPublic, spaceDocSigningBytes(unsigned), signature)) {
    throw new RendezvousError('badSignature', 'the space document signature does not verify');
  }
  const previous = await store.space(doc.id);
  if (!mayChangeSpace(previous?.doc, doc, user))
    throw new RendezvousError('forbidden', 'this change of the space is not allowed for this user');
  const contacts = new Set(await store.contactsOf(user));
  const statuses = new Map<string, MemberStatus>();
  for (const m of doc.members) {
    const was = previous?.status[m.user];
    if (was !== undefined) statuses.set(m.user, was);
    else if (m.user === user) statuses.set(m.user, 'joined');
    else if (contacts.has(m.user)) statuses.set(m.user, 'invited');
    else throw new RendezvousError('forbidden', `user ${m.user} is not a contact of the author`);
  }
  if (!(await store.putSpace(doc, statuses))) throw new RendezvousError('conflict', `space version ${doc.version} is not the next one`);
  ctx.log('spaceChanged', { space: doc.id, version: doc.version, members: doc.members.length });
  await pushState(ctx, [...new Set([...(previous?.doc.members ?? []).map((m) => m.user), ...doc.members.map((m) => m.user)])]);
  return { version: doc.version };
}
