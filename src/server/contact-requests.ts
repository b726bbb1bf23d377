import * as crypto from 'node:crypto';
import { OWN_INVITE, RendezvousError, type ClientRequest } from '../sync/protocol/rendezvous';
import { pushPresence, pushState } from './account-state';
import type { Connection } from './connection';
import type { ServerContext } from './server-context';

export type ContactRequest = Extract<ClientRequest, { t: 'createInvite' | 'createLink' | 'acceptInvite' | 'removeContact' | 'presence' }>;

/** Invite and link codes, contacts, and the presence contacts see. */
export async function contactRequest(ctx: ServerContext, conn: Connection, request: ContactRequest): Promise<Record<string, unknown>> {
  const { store, limits } = ctx;
  const user = conn.user!;
  const now = Date.now();
  switch (request.t) {
    case 'createInvite':
    case 'createLink': {
      await mayMakeCode(ctx, user, now);
      const token = crypto.randomBytes(16).toString('hex');
      await store.putToken(token, request.t === 'createInvite' ? 'invite' : 'link', user, now + limits.tokenTtlMs);
      return { token };
    }
    case 'acceptInvite': {
      // The maker's own attempt leaves the token in place, for the person it was meant for.
      const inviter = await store.takeToken(request.token, 'invite', now, user);
      if (!inviter) throw new RendezvousError('badToken', 'the invite code is unknown, used or expired');
      if (inviter === user) throw new RendezvousError('forbidden', OWN_INVITE);
      await store.addContact(user, inviter);
      ctx.log('contactAdded', { a: user, b: inviter });
      await pushState(ctx, [user, inviter]);
      return { user: inviter };
    }
    case 'removeContact':
      await store.removeContact(user, request.user);
      await pushState(ctx, [user, request.user]);
      return {};
    case 'presence':
      ctx.signedIn.setPresence(conn, request.status);
      await pushPresence(ctx, user);
      return {};
  }
}

/** Codes are rows the server keeps for days: a user may make a few an hour and hold a bounded number. */
async function mayMakeCode(ctx: ServerContext, user: string, now: number): Promise<void> {
  const { limits } = ctx;
  if ((await ctx.store.liveTokens(user, now)) >= limits.liveCodesPerUser) {
    ctx.metrics.codesRefused++;
    ctx.log('codeRefused', { user, reason: 'live' });
    throw new RendezvousError(
      'quota',
      `${limits.liveCodesPerUser} invite and link codes of this user are unused: no more until some are used or expire`,
    );
  }
  if (!(await ctx.rates.codesByUser.take(user, now))) {
    ctx.metrics.codesRefused++;
    ctx.log('codeRefused', { user, reason: 'rate' });
    throw new RendezvousError('rateLimited', `at most ${limits.codesPerUserPerHour} invite and link codes an hour: try again later`);
  }
}
