import * as fs from 'node:fs';
import type { AccountState, Presence, Role } from '../../sync/protocol/rendezvous';
import type { ConflictAuthor, ConflictInfo } from '../../sync/replica/replica-status';
import { ForeignSpaceError } from '../../sync/replica/root-identity';
import { DiskReplica } from '../disk/disk-replica';
import { joinedDevices, spaceInfo } from '../net/account-directory';
import { spaceDocRefusals } from '../crypto/space-doc-trust';
import type { DeviceHome } from './device-home';

export interface SpaceStatus {
  readonly id: string;
  readonly path: string;
  readonly role: Role | undefined;
  readonly members: { user: string; name: string; role: Role; status: string; presence: Presence }[];
  readonly inSync: boolean;
  readonly summary: string;
  /** Blocks that came through the mailbox and wait for the files that need them (a running daemon only). */
  readonly mailCache?: { readonly bytes: number; readonly blocks: number; readonly budget: number };
}

/** A conflict as a device reports it: the file, its copy, who wrote each side and the merge base kept (hex), if any. */
export interface AgentConflict {
  readonly space: string;
  readonly path: string;
  readonly copy: string;
  readonly fileAuthor?: ConflictAuthor;
  readonly copyAuthor?: ConflictAuthor;
  readonly base?: string;
}

/** The report of one replica's conflict. */
export function agentConflict(space: string, c: ConflictInfo): AgentConflict {
  return {
    space,
    path: c.path,
    copy: c.copyPath,
    ...(c.fileAuthor ? { fileAuthor: c.fileAuthor } : {}),
    copyAuthor: c.copyAuthor,
    ...(c.base ? { base: c.base } : {}),
  };
}

/** What a device reports about itself: the CLI writes it to status.json, the engine host shows it. */
export interface AgentStatus {
  readonly user: { id: string; name: string } | undefined;
  readonly device: string;
  readonly connected: boolean;
  readonly spaces: SpaceStatus[];
  readonly conflicts: AgentConflict[];
  readonly errors: { space: string; path: string; message: string }[];
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly contacts: { id: string; name: string; presence: Presence }[];
  /** The other devices with a secure channel up (a running daemon only), and how it goes: a direct link or the server's relay. */
  readonly peers: PeerStatus[];
  /** Direct links (PROTOCOL.md R8): on or off, where this device accepts them, and the bytes sent each way. */
  readonly direct?: DirectStatus;
}

export interface PeerStatus {
  readonly device: string;
  readonly user: string;
  readonly name: string;
  readonly path: 'direct' | 'relay';
}

export interface DirectStatus {
  readonly enabled: boolean;
  readonly listening: string[];
  readonly bytesSentDirect: number;
  readonly bytesSentRelay: number;
}

/** What a running agent knows better than the account state: its replicas' summaries, the latest vectors and presence. */
export interface LiveStatus {
  summary(space: string): string | undefined;
  vector(space: string, device: string): string | undefined;
  presence(user: string): Presence | undefined;
}

/**
 * Status from the account state alone, as far as it goes: a space is in sync when this device's
 * summary (or, without a running replica, the vector it last announced) equals every other
 * member device's announced vector.
 */
export function statusFrom(
  home: DeviceHome,
  device: string,
  state: AccountState | undefined,
  connected: boolean,
  live?: LiveStatus,
): AgentStatus {
  const announced = (space: string, d: string): string | undefined =>
    live?.vector(space, d) ?? state?.vectors.find((v) => v.space === space && v.device === d)?.hash;
  const presenceOf = (user: string): Presence =>
    user === state?.user.id ? 'online' : (live?.presence(user) ?? state?.contacts.find((c) => c.id === user)?.presence ?? 'offline');
  const spaces: SpaceStatus[] = home.spaces().map((local) => {
    const info = spaceInfo(state, local.id);
    const mine = live ? live.summary(local.id) : announced(local.id, device);
    const others = info ? joinedDevices(info).filter((d) => d !== device) : [];
    const known = others.map((d) => announced(local.id, d)).filter((v): v is string => v !== undefined);
    return {
      id: local.id,
      path: local.path,
      role: info?.doc.members.find((m) => m.user === state?.user.id)?.role,
      members: (info?.doc.members ?? []).map((m) => ({
        user: m.user,
        name: info!.users.find((u) => u.id === m.user)?.name ?? m.user,
        role: m.role,
        status: info!.status[m.user] ?? 'unknown',
        presence: presenceOf(m.user),
      })),
      inSync: mine !== undefined && known.length > 0 && known.every((v) => v === mine),
      summary: mine ?? '',
    };
  });
  return {
    user: state ? { id: state.user.id, name: state.user.name } : undefined,
    device,
    connected,
    spaces,
    conflicts: [],
    // A space document this device refused is an error of the space as a whole: no path.
    errors: spaceDocRefusals(home)
      .filter((r) => home.spaces().some((s) => s.id === r.space))
      .map((r) => ({ space: r.space, path: '', message: r.message })),
    bytesSent: 0,
    bytesReceived: 0,
    contacts: (state?.contacts ?? []).map((c) => ({ id: c.id, name: c.name, presence: presenceOf(c.id) })),
    peers: [],
  };
}

/** Conflicts recorded in the saved replica states (no daemon running). */
export async function savedConflicts(home: DeviceHome): Promise<AgentStatus['conflicts']> {
  const out: AgentStatus['conflicts'] = [];
  for (const local of home.spaces()) {
    if (!fs.existsSync(local.path)) continue;
    const disk = await DiskReplica.open({
      root: local.path,
      stateDir: home.stateDir(local.id),
      space: local.id,
      user: '',
      watch: false,
      port: { send: () => undefined },
    }).catch((err: unknown) => {
      // The folder holds another space's marker: this space has no replica there to ask.
      if (err instanceof ForeignSpaceError) return undefined;
      throw err;
    });
    if (!disk) continue;
    try {
      for (const c of disk.replica.conflicts()) out.push(agentConflict(local.id, c));
    } finally {
      await disk.close();
    }
  }
  return out;
}
