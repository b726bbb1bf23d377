import { decodeRelay, encodeRelay, RendezvousError } from '../sync/protocol/rendezvous';
import { mayReach } from './account-state';
import type { Connection } from './connection';
import type { ServerContext } from './server-context';

/** Passes a relay frame on to a device signed in now (docs/PROTOCOL.md R4); never stores it. */
export async function onRelay(ctx: ServerContext, conn: Connection, frame: Uint8Array): Promise<void> {
  const { device, payload } = decodeRelay(frame);
  if (!(await mayReach(ctx, conn, device))) throw new RendezvousError('malformed', 'relay to a device this one may not reach');
  const target = ctx.signedIn.device(device);
  if (!target) return; // Offline: the sender learns it from presence and uses the mailbox.
  ctx.metrics.routedMessages++;
  ctx.metrics.routedBytes += frame.length;
  target.socket.send(encodeRelay(conn.device!.id, payload));
}
