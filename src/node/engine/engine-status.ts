import * as nodePath from 'node:path';
import { fromHex } from '../../sync/util/bytes';
import type { AccountState, SpaceInfo } from '../../sync/protocol/rendezvous';
import type { AgentStatus } from '../agent/agent-status';
import type { LocalSpace } from '../agent/device-home';
import { fingerprintOf } from '../crypto/device-keys';
import type {
  EngineIdentity,
  EngineStatus,
  InvitationView,
  MemberView,
  PendingContactView,
  SpaceView,
  SyncStateView,
} from './engine-protocol';
import type { ReplicaState } from '../../sync/replica/replica-status';

/** What the running engine knows about one open space's transfers. */
export interface SpaceProgress {
  readonly files: number;
  readonly bytes: number;
  readonly state: ReplicaState;
  /** Online member devices (readers aside) whose announced vector differs from ours. */
  readonly behind: number;
}

export interface StatusParts {
  readonly identity: EngineIdentity | undefined;
  readonly state: AccountState | undefined;
  readonly connected: boolean;
  /** Why the server cannot be reached, while not connected. */
  readonly serverProblem?: string;
  /** The agent's own status; undefined before there is an identity. */
  readonly agent: AgentStatus | undefined;
  readonly local: readonly LocalSpace[];
  readonly progress: (space: string) => SpaceProgress | undefined;
  readonly folderExists: (path: string) => boolean;
  readonly unseen: (space: string) => number;
  readonly pending: readonly PendingContactView[];
  /** Space names from space notes. */
  readonly names: Readonly<Record<string, string>>;
  /** The file a member user has active in a space, from its devices' notices (co-editing). */
  readonly activeFile?: (space: string, user: string) => string | undefined;
}

/** The status the extension shows, from the account state, the home and the running replicas. */
export function buildStatus(parts: StatusParts): EngineStatus {
  const { state, agent } = parts;
  const me = state?.user.id;
  // Without the server nobody's presence is known: no one shows as online on stale news.
  const presenceOf = (user: string): MemberView['presence'] =>
    user === me
      ? 'online'
      : !parts.connected
        ? 'offline'
        : (agent?.contacts.find((c) => c.id === user)?.presence ??
          agent?.spaces.flatMap((s) => s.members).find((m) => m.user === user)?.presence ??
          'offline');
  const spaces: SpaceView[] = parts.local.map((local) => {
    const info = state?.spaces.find((s) => s.doc.id === local.id);
    return {
      id: local.id,
      name: nodePath.basename(local.path),
      path: local.path,
      kind: info?.doc.kind ?? 'pair',
      role: info?.doc.members.find((m) => m.user === me)?.role,
      members: info
        ? membersOf(
            info,
            presenceOf,
            (user) => parts.activeFile?.(local.id, user),
            (user) => pathTo(agent, user),
          )
        : [],
      state: syncState(local, info, me, parts),
      conflicts: (agent?.conflicts ?? []).filter((c) => c.space === local.id),
      errors: (agent?.errors ?? []).filter((e) => e.space === local.id).map((e) => ({ path: e.path, message: e.message })),
      unseen: parts.unseen(local.id),
    };
  });
  return {
    identity: parts.identity,
    connected: parts.connected,
    ...(!parts.connected && parts.serverProblem !== undefined ? { serverProblem: parts.serverProblem } : {}),
    contacts: (state?.contacts ?? []).map((c) => ({
      id: c.id,
      name: c.name,
      presence: presenceOf(c.id),
      fingerprints: c.devices.map((d) => fingerprintOf({ signPublic: fromHex(d.signPublic), agreePublic: fromHex(d.agreePublic) })),
    })),
    pendingContacts: parts.pending,
    spaces,
    invitations: state ? invitationsOf(state, parts.names) : [],
    bytesSent: agent?.bytesSent ?? 0,
    bytesReceived: agent?.bytesReceived ?? 0,
  };
}

function membersOf(
  info: SpaceInfo,
  presenceOf: (user: string) => MemberView['presence'],
  activeFile: (user: string) => string | undefined,
  pathOf: (user: string) => MemberView['path'],
): MemberView[] {
  return info.doc.members.map((m) => {
    const active = activeFile(m.user);
    const path = pathOf(m.user);
    return {
      user: m.user,
      name: info.users.find((u) => u.id === m.user)?.name ?? m.user,
      role: m.role,
      status: info.status[m.user] ?? 'unknown',
      presence: presenceOf(m.user),
      ...(active !== undefined ? { activeFile: active } : {}),
      ...(path !== undefined ? { path } : {}),
    };
  });
}

/** `direct` when a device of `user` is on a direct link, `relay` when channels to it go through the server, undefined without any. */
function pathTo(agent: AgentStatus | undefined, user: string): MemberView['path'] {
  const peers = (agent?.peers ?? []).filter((p) => p.user === user);
  if (peers.length === 0) return undefined;
  return peers.some((p) => p.path === 'direct') ? 'direct' : 'relay';
}

/** The one state a space is in, most pressing first: the user's pause, no server, a stopped engine, transfers. */
export function syncState(
  local: LocalSpace,
  info: SpaceInfo | undefined,
  me: string | undefined,
  parts: Pick<StatusParts, 'connected' | 'progress' | 'folderExists' | 'state'>,
): SyncStateView {
  if (local.paused) return { kind: 'paused', reason: 'user' };
  if (!parts.connected) return { kind: 'offline' };
  if (parts.state && (!info || me === undefined || info.status[me] !== 'joined'))
    return { kind: 'error', message: 'this folder is no longer shared with you' };
  const progress = parts.progress(local.id);
  if (!progress) {
    if (!parts.folderExists(local.path)) return { kind: 'error', message: `the folder ${local.path} is missing` };
    return { kind: 'syncing', files: 0, bytes: 0 };
  }
  if (progress.state === 'paused') return { kind: 'paused', reason: 'massDelete' };
  if (progress.state === 'stopped')
    return { kind: 'error', message: `the folder ${local.path} lost its .shared-folder marker (an unmounted disk?); syncing stopped` };
  if (progress.files > 0) return { kind: 'syncing', files: progress.files, bytes: progress.bytes };
  if (progress.behind > 0) return { kind: 'syncing', files: 0, bytes: 0 };
  return { kind: 'inSync' };
}

/** Spaces shared with this user that it has neither joined nor declined. */
export function invitationsOf(state: AccountState, names: Readonly<Record<string, string>>): InvitationView[] {
  const me = state.user.id;
  return state.spaces
    .filter((s) => s.status[me] === 'invited')
    .map((s) => {
      const author = s.users.find((u) => u.devices.some((d) => d.id === s.doc.author));
      const owner = s.doc.members.find((m) => m.role === 'owner');
      const nameOf = (user: string): string => s.users.find((u) => u.id === user)?.name ?? user;
      return {
        space: s.doc.id,
        kind: s.doc.kind,
        role: s.doc.members.find((m) => m.user === me)!.role,
        from: author?.name ?? (owner ? nameOf(owner.user) : ''),
        members: s.doc.members.map((m) => nameOf(m.user)),
        ...(names[s.doc.id] !== undefined ? { name: names[s.doc.id] } : {}),
      };
    });
}
