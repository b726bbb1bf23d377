import * as fs from 'node:fs';
import { withServer } from '../../node/agent/account';
import { savedConflicts, statusFrom, type AgentStatus } from '../../node/agent/agent-status';
import type { DeviceHome } from '../../node/agent/device-home';
import type { EngineStatus } from '../../node/engine/engine-protocol';
import { viaDaemonOr } from '../via-daemon';

/** A status and where it comes from: a running daemon (live), or the server's word when no daemon runs. */
export interface StatusReport {
  readonly status: AgentStatus;
  readonly daemon: boolean;
  /** When the status was true: the daemon's last write, or the moment the server answered. */
  readonly asOf: number;
}

/** A daemon that stopped writing its status this long ago is taken for gone. */
const DAEMON_SILENT_MS = 5000;

export async function statusReport(home: DeviceHome): Promise<StatusReport> {
  return (
    written(home) ??
    viaDaemonOr(
      home,
      async (d) => ({ status: fromEngine(await d.call('status', {})), daemon: true, asOf: Date.now() }),
      () => fromServer(home),
    )
  );
}

/** The status a running `run` daemon of this home keeps writing (status.json, with its pid in run.pid). */
function written(home: DeviceHome): StatusReport | undefined {
  try {
    const pid = Number(fs.readFileSync(home.file('run.pid'), 'utf8'));
    process.kill(pid, 0);
    const asOf = fs.statSync(home.file('status.json')).mtimeMs;
    if (Date.now() - asOf > DAEMON_SILENT_MS) return undefined;
    return { status: JSON.parse(fs.readFileSync(home.file('status.json'), 'utf8')) as AgentStatus, daemon: true, asOf };
  } catch {
    return undefined;
  }
}

/**
 * Without a daemon: presence as the server has it now, and no claim about sync, which only a
 * running replica can check (vectors announced before a daemon stopped say nothing about files
 * changed since). This device is not online; its user is when another of its devices is.
 */
async function fromServer(home: DeviceHome): Promise<StatusReport> {
  return withServer(home, home.identity(), async (session, state) => {
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
  });
}

/** The engine's status in the shape `status --json` has always had. */
function fromEngine(s: EngineStatus): AgentStatus {
  return {
    user: s.identity ? { id: s.identity.user, name: s.identity.name } : undefined,
    device: s.identity?.device ?? '',
    connected: s.connected,
    spaces: s.spaces.map((v) => ({
      id: v.id,
      path: v.path,
      role: v.role,
      members: v.members.map((m) => ({ user: m.user, name: m.name, role: m.role, status: m.status, presence: m.presence })),
      inSync: v.state.kind === 'inSync',
      summary: '',
    })),
    conflicts: s.spaces.flatMap((v) => v.conflicts.map((c) => ({ space: c.space, path: c.path, copy: c.copy }))),
    errors: s.spaces.flatMap((v) => v.errors.map((e) => ({ space: v.id, path: e.path, message: e.message }))),
    bytesSent: s.bytesSent,
    bytesReceived: s.bytesReceived,
    contacts: s.contacts.map((c) => ({ id: c.id, name: c.name, presence: c.presence })),
  };
}
