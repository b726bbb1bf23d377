import type { Connection } from './connection';
import type { ServerContext } from './server-context';

const POLL_MS = 20;

/**
 * Waits until a frame of `bytes` fits the queue toward `target`, reading nothing more from
 * `sender` meanwhile so that TCP slows the sender down to what the target takes. False when the
 * target has taken nothing for `relayWaitMs` (it is not reading), or either side went away.
 */
export async function roomToward(ctx: ServerContext, sender: Connection, target: Connection, bytes: number): Promise<boolean> {
  if (target.outbound.fits(bytes)) return true;
  const wasPaused = sender.socket.isPaused;
  sender.socket.pause();
  try {
    for (;;) {
      const now = Date.now();
      if (ctx.signedIn.device(target.device!.id) !== target || sender.socket.readyState !== sender.socket.OPEN) return false;
      if (target.outbound.fits(bytes)) return true;
      target.outbound.noteFull(now);
      if (target.outbound.stalledFor(now) >= ctx.limits.relayWaitMs) return false;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    if (!wasPaused) sender.socket.resume();
  }
}
