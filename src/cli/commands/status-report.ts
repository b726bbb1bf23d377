import { withServer, type ServerConnection } from '../../node/agent/account';
import { savedConflicts, statusFrom, type AgentStatus } from '../../node/agent/agent-status';
import type { DeviceHome } from '../../node/agent/device-home';
import { viaDaemonOr } from '../via-daemon';

/** A status and where it comes from: a running daemon (live), or the server's word when no daemon runs. */
export interface StatusReport {
  readonly status: AgentStatus;
  readonly daemon: boolean;
  /** When the status was true: the moment the daemon or the server answered. */
  readonly asOf: number;
}

/** The running daemon's live status (the claim on the home says whether one runs), else the server's word. */
export async function statusReport(home: DeviceHome, connection: ServerConnection = {}): Promise<StatusReport> {
  return viaDaemonOr(
    home,
    async (d) => ({ status: await d.call('agentStatus', {}), daemon: true, asOf: Date.now() }),
    () => fromServer(home, connection),
  );
}

/**
 * Without a daemon: presence as the server has it now, and no claim about sync, which only a
 * running replica can check (vectors announced before a daemon stopped say nothing about files
 * changed since). This device is not online; its user is when another of its devices is.
 */
async function fromServer(home: DeviceHome, connection: ServerConnection): Promise<StatusReport> {
  return withServer(
    home,
    home.identity(),
    async (session, state) => {
      const asOf = Date.now();
      const device = session.client.device.id;
      const base = statusFrom(home, device, state, false);
      const me = state.user.id;
      const userOnline = state.user.devices.some((d) => d.id !== device && state.online.includes(d.id));
      const status: AgentStatus = {
        ...base,
        spaces: base.spaces.map((s) => ({
          ...s,
          inSync: false,
          members: s.members.map((m) => (m.user === me ? { ...m, presence: userOnline ? 'online' : 'offline' } : m)),
        })),
        conflicts: await savedConflicts(home),
      };
      return { status, daemon: false, asOf };
    },
    connection,
  );
}
