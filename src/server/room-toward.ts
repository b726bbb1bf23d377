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
    return await waitForRoom(ctx, target, bytes, () => sender.socket.readyState === sender.socket.OPEN);
  } finally {
    if (!wasPaused) sender.socket.resume();
  }
}

/**
 * Waits until a frame of `bytes` fits the queue toward `target`. False when the target has taken
 * nothing for `relayWaitMs`, it signed out, or `senderThere` turns false. A sender on another
 * process is slowed by its own process's relay window (cluster/relay-window.ts).
 */
export async function waitForRoom(ctx: ServerContext, target: Connection, bytes: number, senderThere: () => boolean): Promise<boolean> {
  for (;;) {
    const now = Date.now();
    if (ctx.signedIn.device(target.device!.id) !== target || !senderThere()) return false;
    if (target.outbound.fits(bytes)) return true;
    target.outbound.noteFull(now);
    if (target.outbound.stalledFor(now) >= ctx.limits.relayWaitMs) return false;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
