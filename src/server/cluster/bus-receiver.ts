import { SerialQueue } from '../../sync/util/serial-queue';
import { peersOf, sendPresence, sendState } from '../account-state';
import { CLOSE_REPLACED, send } from '../connection';
import { deliverMailbox } from '../mailbox';
import { RelaysFromElsewhere } from '../relay';
import type { ServerContext } from '../server-context';
import type { ClusterReceiver } from './cluster';

/**
 * What this process does with what the other processes send: keeps the directory of their
 * sessions, hands pushes, kicks, relay frames and mailbox notices to its own connections.
 */
export function busReceiver(ctx: ServerContext): ClusterReceiver {
  const { signedIn } = ctx;
  const relays = new RelaysFromElsewhere();
  /** Presence pushes that need the database (a process gone, a snapshot) run one at a time. */
  const background = new SerialQueue();
  const onError = (err: unknown): void => ctx.log('internalError', { message: (err as Error)?.message ?? String(err) });

  /** The directory changed without a push from the process concerned: tell this process's connections. */
  const presenceChanged = (users: Iterable<string>): void => {
    const list = [...users];
    if (list.length === 0) return;
    void background
      .run(async () => {
        for (const user of list) {
          if (signedIn.localCount === 0) return;
          sendPresence(ctx, user, await peersOf(ctx, user));
        }
      })
      .catch(onError);
  };

  return {
    localSessions: () => signedIn.localSessions(),
    sessionUp: (session) => signedIn.addRemote(session),
    sessionDown: (node, device, session) => void signedIn.removeRemote(node, device, session),
    sessionPresence: (node, device, session, presence) => void signedIn.setRemotePresence(node, device, session, presence),
    nodeSessions: (node, sessions) => presenceChanged(signedIn.replaceNode(node, sessions)),
    nodeGone: (node) => presenceChanged(signedIn.dropNode(node)),
    presence: (user, peers) => sendPresence(ctx, user, peers),
    push: (users, message) => {
      for (const user of new Set(users)) for (const c of signedIn.of(user) ?? []) send(c, message);
    },
    rights: (states) => {
      ctx.rights.version++;
      for (const { user, state } of states) sendState(ctx, user, state);
    },
    kick: (device, session) => {
      const conn = signedIn.device(device);
      if (!conn || signedIn.sessionOf(conn) !== session) return;
      conn.socket.close(CLOSE_REPLACED, 'signed in elsewhere');
      void ctx.unregister(conn, CLOSE_REPLACED).catch(onError);
    },
    relay: (device, frame) => relays.deliver(ctx, device, frame),
    mailbox: (device) => {
      const conn = signedIn.device(device);
      if (conn) void conn.queue.run(() => deliverMailbox(ctx, conn)).catch(onError);
    },
  };
}
