import { decodeRelay, encodeRelay, RendezvousError } from '../sync/protocol/rendezvous';
import { SerialQueue } from '../sync/util/serial-queue';
import { mayReach } from './account-state';
import type { RelayOutcome } from './cluster/cluster';
import { send, type Connection } from './connection';
import { roomToward, waitForRoom } from './room-toward';
import type { ServerContext } from './server-context';

/** Passes a relay frame on to a device signed in now (docs/PROTOCOL.md R4); never stores it. */
export async function onRelay(ctx: ServerContext, conn: Connection, frame: Uint8Array): Promise<void> {
  const { device, payload } = decodeRelay(frame);
  if (!(await mayReach(ctx, conn, device))) throw new RendezvousError('malformed', 'relay to a device this one may not reach');
  const target = ctx.signedIn.device(device);
  const out = encodeRelay(conn.device!.id, payload);
  if (!target) {
    const remote = ctx.signedIn.remote(device);
    if (!remote) {
      // Not known here: offline (the sender learns it from presence and uses the mailbox), or
      // signed in elsewhere so recently that word of it has not come yet.
      ctx.cluster.relayAnywhere(device, out);
      return;
    }
    // On another process: its answer comes later, while this connection's next frames go on.
    await ctx.cluster.relay(conn, remote, out, (outcome) => {
      if (outcome === 'busy' || outcome === 'unanswered') refuseBusy(ctx, conn, device, out.byteLength, outcome);
    });
    return;
  }
  if (!(await roomToward(ctx, conn, target, out.byteLength))) return refuseBusy(ctx, conn, device, out.byteLength);
  ctx.metrics.routedMessages++;
  ctx.metrics.routedBytes += frame.length;
  target.outbound.sendBinary(out);
}

/**
 * Relay frames from devices on other processes for devices signed in here: queued toward each
 * target in the order they came (one queue per target), waiting up to the relay wait for room.
 */
export class RelaysFromElsewhere {
  /** Frames waiting for room, by target: a later frame never overtakes them. */
  private readonly queues = new WeakMap<Connection, { queue: SerialQueue; waiting: number }>();
  /** Bytes of frames waiting here, bounded like the bytes queued toward all connections. */
  private waiting = 0;

  async deliver(ctx: ServerContext, device: string, out: Uint8Array): Promise<RelayOutcome> {
    const target = ctx.signedIn.device(device);
    if (!target) return 'gone';
    let entry = this.queues.get(target);
    if (!entry) this.queues.set(target, (entry = { queue: new SerialQueue(), waiting: 0 }));
    // Nothing waits toward this target and the frame fits: it goes at once.
    if (entry.waiting === 0 && target.outbound.fits(out.byteLength)) return this.send(ctx, target, out);
    if (this.waiting > 0 && this.waiting + out.byteLength > ctx.limits.queuedBytesTotal) return 'busy';
    const waiting = entry;
    waiting.waiting++;
    this.waiting += out.byteLength;
    try {
      return await waiting.queue.run(async () => {
        if (!(await waitForRoom(ctx, target, out.byteLength, () => true))) {
          return ctx.signedIn.device(device) === target ? 'busy' : 'gone';
        }
        return this.send(ctx, target, out);
      });
    } finally {
      waiting.waiting--;
      this.waiting -= out.byteLength;
    }
  }

  private send(ctx: ServerContext, target: Connection, out: Uint8Array): 'ok' {
    ctx.metrics.routedMessages++;
    ctx.metrics.routedBytes += out.byteLength;
    target.outbound.sendBinary(out);
    return 'ok';
  }
}

/**
 * The target has taken nothing for a while ('busy': the frame is dropped), or its process did not
 * answer in time ('unanswered': the frame may be lost); either way its sender is told
 * (docs/PROTOCOL.md R1, limits; R7).
 */
function refuseBusy(ctx: ServerContext, conn: Connection, device: string, bytes: number, why: 'busy' | 'unanswered' = 'busy'): void {
  ctx.metrics.relaysRefused++;
  const reason = why === 'busy' ? 'target not reading' : 'no answer from its process';
  ctx.bursts.note('relayRefused', device, { device, sender: conn.device!.id, reason });
  send(conn, {
    t: 'error',
    code: 'busy',
    message:
      why === 'busy'
        ? `device ${device} is not reading what is sent to it; a relay frame of ${bytes} bytes was dropped`
        : `the server process of device ${device} did not answer in time; a relay frame of ${bytes} bytes may have been lost`,
  });
}
