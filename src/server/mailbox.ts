import { decodeDeposit, encodeDelivery, RendezvousError, type ClientRequest } from '../sync/protocol/rendezvous';
import { mayReach } from './account-state';
import { send, type Connection } from './connection';
import type { ServerContext } from './server-context';

/**
 * The mailbox (docs/PROTOCOL.md R4): sealed items deposited for devices, delivered at once to
 * those signed in, a window at a time, and kept for the others until they acknowledge them.
 */

export async function onDeposit(ctx: ServerContext, conn: Connection, frame: Uint8Array): Promise<void> {
  const { item, recipients, payload } = decodeDeposit(frame);
  for (const r of recipients) {
    // The sending device has the item already: storing it for itself would only use up the mailbox.
    if (r === conn.device!.id) throw new RendezvousError('malformed', 'deposit for the sending device itself');
    if (!(await mayReach(ctx, conn, r))) throw new RendezvousError('malformed', 'deposit for a device this one may not reach');
  }
  const { mailboxQuotaBytes, mailboxTotalBytes } = ctx.limits;
  const result = await ctx.store.deposit(
    { id: item, sender: conn.device!.id, senderUser: conn.user!, payload: payload.slice(), created: Date.now() },
    recipients,
    { user: mailboxQuotaBytes, total: mailboxTotalBytes },
  );
  if (result !== 'stored') {
    const message =
      result === 'quota'
        ? `mailbox quota of ${mailboxQuotaBytes} bytes exceeded; item ${item} not stored`
        : `the server's mailbox is full (${mailboxTotalBytes} bytes for all users); item ${item} not stored`;
    ctx.metrics.depositsRefused++;
    if (result === 'full') ctx.log('mailboxFull', { user: conn.user, device: conn.device!.id, bytes: payload.length });
    send(conn, { t: 'error', code: 'quota', message });
    return;
  }
  ctx.metrics.deposits++;
  for (const r of recipients) {
    const target = ctx.signedIn.device(r);
    if (target) await deliverMailbox(ctx, target);
    else {
      // Signed in on another process: that process delivers from the shared store.
      const remote = ctx.signedIn.remote(r);
      if (remote) ctx.cluster.notifyMailbox(remote);
    }
  }
}

export async function mailboxRequest(
  ctx: ServerContext,
  conn: Connection,
  request: Extract<ClientRequest, { t: 'fetchMailbox' | 'ack' }>,
): Promise<Record<string, unknown>> {
  switch (request.t) {
    case 'fetchMailbox':
      // Everything unacknowledged again: the device may have set items aside it can use now.
      conn.inFlight.clear();
      await deliverMailbox(ctx, conn);
      return {};
    case 'ack':
      await ctx.store.acknowledge(conn.device!.id, request.items);
      for (const item of request.items) conn.inFlight.delete(item);
      await deliverMailbox(ctx, conn);
      return {};
  }
}

export async function deliverMailbox(ctx: ServerContext, conn: Connection): Promise<void> {
  const { store, limits } = ctx;
  const room = limits.mailboxWindow - conn.inFlight.size;
  if (room <= 0 || !conn.device) return;
  let bytes = 0;
  for (const size of conn.inFlight.values()) bytes += size;
  const items = await store.pendingFor(conn.device.id, limits.mailboxWindow);
  let sent = 0;
  for (const item of items) {
    if (sent >= room) break;
    if (conn.inFlight.has(item.id)) continue;
    // A device applies items one at a time: more bytes than this in flight would only sit in its memory.
    if (conn.inFlight.size > 0 && bytes + item.bytes > limits.mailboxWindowBytes) break;
    if (!conn.outbound.fits(item.bytes)) return retryDelivery(ctx, conn);
    conn.inFlight.set(item.id, item.bytes);
    bytes += item.bytes;
    const payload = await store.mailboxPayload(item.id);
    if (!payload) {
      conn.inFlight.delete(item.id);
      continue;
    }
    conn.outbound.sendBinary(encodeDelivery(item.id, item.sender, payload));
    ctx.metrics.deliveries++;
    sent++;
  }
}

const RETRY_MS = 250;
const retrying = new WeakSet<Connection>();

/** The queue toward the device (or the server's) is full: delivery goes on once there is room. */
function retryDelivery(ctx: ServerContext, conn: Connection): void {
  if (retrying.has(conn)) return;
  retrying.add(conn);
  setTimeout(() => {
    retrying.delete(conn);
    if (ctx.signedIn.device(conn.device!.id) !== conn) return;
    void conn.queue
      .run(() => deliverMailbox(ctx, conn))
      .catch((err: unknown) => {
        ctx.log('internalError', { device: conn.device?.id, message: (err as Error)?.message ?? String(err) });
      });
  }, RETRY_MS).unref();
}
