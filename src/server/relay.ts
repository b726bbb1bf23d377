import { decodeRelay, encodeRelay, RendezvousError } from '../sync/protocol/rendezvous';
import { mayReach } from './account-state';
import { send, type Connection } from './connection';
import { roomToward } from './room-toward';
import type { ServerContext } from './server-context';

/** Passes a relay frame on to a device signed in now (docs/PROTOCOL.md R4); never stores it. */
export async function onRelay(ctx: ServerContext, conn: Connection, frame: Uint8Array): Promise<void> {
  const { device, payload } = decodeRelay(frame);
  if (!(await mayReach(ctx, conn, device))) throw new RendezvousError('malformed', 'relay to a device this one may not reach');
  const target = ctx.signedIn.device(device);
  if (!target) return; // Offline: the sender learns it from presence and uses the mailbox.
  const out = encodeRelay(conn.device!.id, payload);
  if (!(await roomToward(ctx, conn, target, out.byteLength))) return refuseBusy(ctx, conn, device, out.byteLength);
  ctx.metrics.routedMessages++;
  ctx.metrics.routedBytes += frame.length;
  target.outbound.sendBinary(out);
}

/** The target has taken nothing for a while: the frame is dropped and its sender told (docs/PROTOCOL.md R1, limits). */
function refuseBusy(ctx: ServerContext, conn: Connection, device: string, bytes: number): void {
  ctx.metrics.relaysRefused++;
  ctx.bursts.note('relayRefused', device, { device, sender: conn.device!.id, reason: 'target not reading' });
  send(conn, {
    t: 'error',
    code: 'busy',
    message: `device ${device} is not reading what is sent to it; a relay frame of ${bytes} bytes was dropped`,
  });
}
