import * as fs from 'node:fs';
import type { DeviceHome } from '../node/agent/device-home';
import { connectDaemon, type DaemonConnection } from '../node/engine/daemon-connection';
import { claimHome, HomeBusyError } from '../node/engine/home-claim';

export type { DaemonConnection };

/** A daemon that is starting may hold the home before it answers on its socket: retry this long. */
const DAEMON_STARTING_MS = 30_000;

/**
 * Runs a command in the home's daemon when one runs, so it takes effect there at once (the daemon
 * owns the home's replicas and its sign-in); otherwise as a one-shot, holding the home meanwhile
 * so that no daemon starts halfway through and works on the same state.
 */
export async function viaDaemonOr<T>(home: DeviceHome, daemon: (d: DaemonConnection) => Promise<T>, oneShot: () => Promise<T>): Promise<T> {
  // A home that does not exist yet has no daemon; the one-shot says what is missing.
  if (!fs.existsSync(home.dir)) return oneShot();
  const deadline = Date.now() + DAEMON_STARTING_MS;
  for (;;) {
    const d = await connectDaemon(home);
    if (d) {
      try {
        return await daemon(d);
      } finally {
        d.close();
      }
    }
    let claim;
    try {
      claim = await claimHome(home, 'command');
    } catch (err) {
      // A daemon took the home between the two looks.
      if (err instanceof HomeBusyError && err.kind === 'daemon' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      throw err;
    }
    try {
      return await oneShot();
    } finally {
      await claim.release();
    }
  }
}
