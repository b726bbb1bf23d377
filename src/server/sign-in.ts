import * as crypto from 'node:crypto';
import {
  authSigningBytes,
  endorsementSigningBytes,
  linkKeySigningBytes,
  RENDEZVOUS_VERSION,
  RendezvousError,
  type DeviceInfo,
} from '../sync/protocol/rendezvous';
import { accountState, pushPresence, pushState } from './account-state';
import { CLOSE_POLICY, CLOSE_RATE, CLOSE_REPLACED, send, welcome, type Connection } from './connection';
import { deviceIdMatches, verifyEd25519 } from './device-proof';
import { deliverMailbox } from './mailbox';
import type { ServerContext } from './server-context';

/**
 * Signing in (docs/PROTOCOL.md R1): a device says hello with its keys, signs the server's
 * challenge, and is known already, or joins as a new user, or as a device linked to one.
 */

export function onHello(conn: Connection, version: number, device: DeviceInfo): void {
  if (conn.hello) throw new RendezvousError('malformed', 'second hello');
  if (version !== RENDEZVOUS_VERSION) {
    send(conn, { t: 'error', code: 'version', message: `server speaks version ${RENDEZVOUS_VERSION}, device ${version}` });
    conn.socket.close(CLOSE_POLICY, 'protocol version');
    return;
  }
  if (!deviceIdMatches(device)) throw new RendezvousError('malformed', 'device id does not match its keys');
  conn.hello = device;
  conn.nonce = crypto.randomBytes(32).toString('hex');
  send(conn, { t: 'challenge', nonce: conn.nonce, v: RENDEZVOUS_VERSION });
}

export async function onAuth(
  ctx: ServerContext,
  conn: Connection,
  signature: string,
  mode: 'session' | 'command',
  join: { name: string } | { link: string } | undefined,
): Promise<void> {
  const { store, log } = ctx;
  const device = conn.hello;
  if (!device || !conn.nonce || conn.device) throw new RendezvousError('malformed', 'auth out of order');
  if (!verifyEd25519(device.signPublic, authSigningBytes(conn.nonce, device.id), signature)) {
    send(conn, { t: 'error', code: 'badSignature', message: 'the challenge signature does not verify' });
    conn.socket.close(CLOSE_POLICY, 'bad signature');
    return;
  }
  let known = await store.device(device.id);
  if (!known && join && 'name' in join) {
    const refusal = await accountRefusal(ctx, conn.remote, Date.now());
    if (refusal) {
      ctx.metrics.accountsRefused++;
      log('accountRefused', { remote: conn.remote, device: device.id, reason: refusal });
      send(conn, { t: 'error', code: 'rateLimited', message: refusal });
      conn.socket.close(CLOSE_RATE, 'too many new accounts');
      return;
    }
    const user = crypto.randomBytes(16).toString('hex');
    await store.createUser({ id: user, name: join.name }, device, Date.now());
    known = { ...device, user };
    log('userCreated', { user, device: device.id });
  } else if (!known && join && 'link' in join) {
    const user = await store.takeToken(join.link, 'link', Date.now());
    if (!user) {
      send(conn, { t: 'error', code: 'badToken', message: 'the link code is unknown, used or expired' });
      conn.socket.close(CLOSE_POLICY, 'bad link');
      return;
    }
    if (!(await endorsedFor(ctx, user, device))) {
      send(conn, {
        t: 'error',
        code: 'badSignature',
        message: 'a linked device must carry an endorsement from the device that made the link code',
      });
      conn.socket.close(CLOSE_POLICY, 'bad endorsement');
      return;
    }
    await store.addDevice(user, device, Date.now());
    known = { ...device, user };
    log('deviceLinked', { user, device: device.id });
    await pushState(ctx, [user]);
  }
  if (!known) {
    send(conn, { t: 'error', code: 'unknownDevice', message: 'this device is not registered on this server' });
    conn.socket.close(CLOSE_POLICY, 'unknown device');
    return;
  }
  clearTimeout(conn.authTimer);
  conn.device = device;
  conn.user = known.user;
  if (mode === 'command') {
    send(conn, { t: 'welcome', state: await accountState(ctx, known.user) });
    return;
  }
  const previous = ctx.signedIn.device(device.id);
  if (previous) {
    // The same device signing in again (a reconnect racing the old socket): the newest wins.
    previous.socket.close(CLOSE_REPLACED, 'signed in elsewhere');
    await ctx.unregister(previous, CLOSE_REPLACED);
  }
  // From here presence and state pushes reach this connection; those that come while its welcome
  // is read from the store (other processes' pushes, on PostgreSQL) wait behind the welcome.
  conn.held = [];
  ctx.signedIn.add(conn);
  // Signed in on another process too: that process closes its session, as above.
  for (const elsewhere of ctx.signedIn.remoteSessionsOf(device.id)) ctx.cluster.kick(elsewhere);
  ctx.metrics.authenticated++;
  log('signedIn', { user: known.user, device: device.id });
  welcome(conn, { t: 'welcome', state: await accountState(ctx, known.user) });
  await pushPresence(ctx, known.user);
  await deliverMailbox(ctx, conn);
}

/**
 * Devices check endorsements themselves and trust only chains back to a user's pinned first
 * device; the server checks the first link of the chain so a damaged code fails at once.
 */
async function endorsedFor(ctx: ServerContext, user: string, device: DeviceInfo): Promise<boolean> {
  const e = device.endorsement;
  if (!e) return false;
  const issuer = (await ctx.store.devicesOf(user)).find((d) => d.id === e.by);
  return (
    issuer !== undefined &&
    verifyEd25519(issuer.signPublic, linkKeySigningBytes(user, e.key), e.keySig) &&
    verifyEd25519(e.key, endorsementSigningBytes(user, device), e.sig)
  );
}

/** Accounts are free, so their creation is limited per remote address and server-wide; undefined: allowed. */
async function accountRefusal(ctx: ServerContext, remote: string, now: number): Promise<string | undefined> {
  const { limits, rates } = ctx;
  if (!(await rates.accountsByAddress.take(remote, now)))
    return `too many new accounts from this address (at most ${limits.accountsPerAddressPerHour} an hour): try again later`;
  if (!(await rates.accounts.take('', now)))
    return `this server accepts at most ${limits.accountsPerHour} new accounts an hour: try again later`;
  return undefined;
}
