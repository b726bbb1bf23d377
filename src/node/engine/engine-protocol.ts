/**
 * The messages between the VS Code extension and the engine host: a child process the extension
 * owns (Node's `child_process.fork`, IPC channel), which runs the device agent, so hashing,
 * scanning and transfers never run on the extension host's thread. Plain JSON values only; both
 * sides import these types, so a change here is a change on both sides at once.
 *
 * Flow: the extension forks the host, sends `start` (with the device keys it keeps in
 * SecretStorage, if it has an identity yet), then calls methods; the host pushes events.
 */
import type { Presence, Role, SpaceKind } from '../../sync/protocol/rendezvous';
import type { AgentStatus } from '../agent/agent-status';
import type { ChatEntry } from '../agent/chat';
import type { ConnectFailureReason } from '../net/connect-failure';

export const ENGINE_PROTOCOL_VERSION = 1;

// ---- what the UI shows ----------------------------------------------------------------------

export interface EngineIdentity {
  readonly device: string;
  readonly user: string;
  readonly name: string;
  readonly server: string;
  /** Short fingerprint of this device's keys, for users to compare. */
  readonly fingerprint: string;
}

export interface ContactView {
  readonly id: string;
  readonly name: string;
  readonly presence: Presence;
  /** Fingerprints of the contact's devices. */
  readonly fingerprints: readonly string[];
}

/** An invite code opened (pasted or from a vscode:// link) but not yet accepted or declined. */
export interface PendingContactView {
  readonly code: string;
  readonly server: string;
  readonly fingerprint: string;
}

export interface MemberView {
  readonly user: string;
  readonly name: string;
  readonly role: Role;
  readonly status: 'invited' | 'joined' | 'declined' | 'left' | 'unknown';
  readonly presence: Presence;
  /** Workspace-relative path of the file this member has active, when known (co-editing). */
  readonly activeFile?: string;
  /**
   * How this device reaches the member's devices now, when a channel to one is up: `direct`
   * when one of them is on a direct link (PROTOCOL.md R8), else `relay` (through the server).
   */
  readonly path?: 'direct' | 'relay';
}

export type SyncStateView =
  | { readonly kind: 'inSync' }
  | { readonly kind: 'syncing'; readonly files: number; readonly bytes: number }
  | { readonly kind: 'offline' }
  | { readonly kind: 'paused'; readonly reason: 'user' | 'massDelete' }
  | { readonly kind: 'error'; readonly message: string };

/** Who wrote one side of a conflict, by display name, and when (ms since the epoch, the author's clock). */
export interface ConflictAuthorView {
  readonly name: string;
  readonly at: number;
}

export interface ConflictView {
  readonly space: string;
  /** Space-relative, `/`-separated. */
  readonly path: string;
  /** The conflict copy holding the other version, space-relative. */
  readonly copy: string;
  /** Who wrote the version at `path`, and when. Absent in views rebuilt from a URI. */
  readonly fileAuthor?: ConflictAuthorView;
  /** Who wrote the version in the copy, and when. */
  readonly copyAuthor?: ConflictAuthorView;
  /**
   * Content hash (hex) of the last version both sides share, when this device keeps its bytes
   * (small text files): `conflictBase` returns them, for a three-way merge. Absent for binary
   * files and when either side was edited since.
   */
  readonly base?: string;
}

export interface SpaceView {
  readonly id: string;
  /** This device's name for its copy (the folder's base name); the server never sees it. */
  readonly name: string;
  readonly path: string;
  readonly kind: SpaceKind;
  readonly role: Role | undefined;
  readonly members: readonly MemberView[];
  readonly state: SyncStateView;
  readonly conflicts: readonly ConflictView[];
  readonly errors: readonly { readonly path: string; readonly message: string }[];
  /** Activity entries of this space the user has not seen (without `ActivityView.seen`): what the badge counts. */
  readonly unseen: number;
}

/** A space shared with this user that it has not accepted or declined yet. */
export interface InvitationView {
  readonly space: string;
  readonly kind: SpaceKind;
  readonly role: Role;
  readonly from: string;
  readonly members: readonly string[];
  /** The folder's name as the sharer called it (its space note), once that has arrived. */
  readonly name?: string;
}

export interface EngineStatus {
  readonly identity: EngineIdentity | undefined;
  readonly connected: boolean;
  /**
   * While not connected: why the last attempt to reach the server failed, in one line (absent
   * before the first failure). Contacts and spaces are then the last known ones.
   */
  readonly serverProblem?: string;
  readonly contacts: readonly ContactView[];
  readonly pendingContacts: readonly PendingContactView[];
  readonly spaces: readonly SpaceView[];
  readonly invitations: readonly InvitationView[];
  readonly bytesSent: number;
  readonly bytesReceived: number;
}

/** A chat message as kept in each device's history (see `ChatEntry`). */
export type ChatMessageView = ChatEntry;

export interface ActivityView {
  readonly id: string;
  readonly at: number;
  readonly space: string;
  /** 'stopped': the space is no longer shared with this user (`user` stopped sharing it, or removed this user). */
  readonly kind: 'changed' | 'joined' | 'left' | 'conflict' | 'merged' | 'invited' | 'error' | 'stopped';
  /** Who did it, by display name, when known. */
  readonly user?: string;
  /** Files concerned, space-relative; a coalesced entry lists several. */
  readonly paths: readonly string[];
  /** For 'changed': when each of `paths` last changed here (ms), in the same order. */
  readonly changedAt?: readonly number[];
  /** For 'invited': this user is the one invited, and `user` invited them; otherwise `user` is the member invited. */
  readonly invitedMe?: true;
  /** The space's folder name when the entry was made, for when the space is gone from the status (unshared, left). */
  readonly spaceName?: string;
  /**
   * The user has looked at it (`markSeen`). Entries without it are what `SpaceView.unseen` counts.
   * An entry is sent again, with the same id, when it is seen or when a 'changed' entry grows:
   * its `paths` then list the most recently changed file first, and `at` is the last change.
   */
  readonly seen?: true;
}

/** Another device that has a file of a space open (co-editing). */
export interface CoeditPeerView {
  readonly device: string;
  readonly user: string;
  readonly name: string;
  /** Readers may watch a session; their edits are dropped by every other device. */
  readonly readOnly: boolean;
  /** The session that device announced (its seed hash) and whether it had members then. */
  readonly session: string;
  readonly live: boolean;
  /** SHA-256 of that device's saved file, when it said (docs/COEDIT.md §3). */
  readonly disk?: string;
}

/** Where a member device's user is: its active editor (none when `path` is absent). */
export interface ActiveEditorView {
  readonly device: string;
  readonly user: string;
  readonly name: string;
  readonly space: string;
  readonly path?: string;
  readonly top?: number;
  /** The user (an id) whose editor this device's user follows; absent when not following. */
  readonly following?: string;
}

// ---- requests (extension to host) -----------------------------------------------------------

export interface EngineMethods {
  /**
   * First call. `keys` are the device keys as kept in SecretStorage, when there is an identity.
   * Returns without waiting for the server (status shows `connected`); `identity` is absent when
   * the home has none yet. EngineClient replays it into a restarted host: call it once.
   * Claims the home first: fails with 'busy' while another process (a CLI daemon, another
   * window's host) runs it. `folders` is where spaces this user joined on another device land
   * (the CLI daemon's `--folders`); without it, only spaces joined on this device sync.
   * `caFile` is a private CA's PEM file to trust for a wss:// server (`--ca`, sharedFolders.caFile).
   * `direct` false keeps every byte on the server's relay (`--no-direct`, sharedFolders.directConnections);
   * otherwise the device accepts direct links on `listen` ("HOST:PORT", `--listen`, sharedFolders.listenAddress;
   * default every IPv4 address, any free port) and dials the other devices' (PROTOCOL.md R8).
   */
  start(p: {
    home: string;
    keys?: string;
    limitUp?: number;
    limitDown?: number;
    folders?: string;
    caFile?: string;
    direct?: boolean;
    listen?: string;
  }): {
    identity: EngineIdentity | undefined;
  };
  /**
   * Creates the device identity (a new user) and signs in; the caller stores `keys` in SecretStorage.
   * With `link` (a code from `createLink` on another device of the same user) the device joins
   * that user instead, and `name` is ignored.
   */
  createIdentity(p: { server: string; name: string; link?: string }): { identity: EngineIdentity; keys: string };
  /** A one-time code that adds another device (another VS Code, a CLI home) to this user. */
  createLink(p: Record<string, never>): { code: string };
  /**
   * Moves this device to the server at `server` (`ws://` or `wss://`): the same server at a new
   * address. The identity keeps its keys and user; the agent signs in there from now on.
   */
  setServer(p: { server: string }): { identity: EngineIdentity };
  status(p: Record<string, never>): EngineStatus;
  /** The device's status in the shape `shared-folders status --json` prints; fails before the agent runs. */
  agentStatus(p: Record<string, never>): AgentStatus;
  createInvite(p: Record<string, never>): { code: string };
  /** Puts an invite code among the pending contact requests (from a pasted code or a vscode:// link). */
  openInvite(p: { code: string }): { pending: PendingContactView };
  acceptInvite(p: { code: string }): { contact: string };
  declineInvite(p: { code: string }): Record<string, never>;
  removeContact(p: { user: string }): Record<string, never>;
  /**
   * Shares a folder. `ignore` (`.gitignore` patterns) becomes the folder's `.sharedignore` when it
   * has none yet, so every member skips those files; an existing `.sharedignore` is left as it is.
   */
  share(p: { path: string; with: readonly string[]; role: 'editor' | 'reader'; ignore?: readonly string[] }): { space: string };
  /**
   * Joins a space at `path`. A folder that already has files is refused with code `notEmpty`
   * unless `merge` is set: then its files merge with the space's, conflicting ones keep both.
   */
  join(p: { space: string; path: string; merge?: boolean }): Record<string, never>;
  decline(p: { space: string }): Record<string, never>;
  addMember(p: { space: string; user: string; role: 'editor' | 'reader' }): Record<string, never>;
  /** Takes a member out of a space; only an owner may (`mayChangeSpace`). Their copy stays, unsynced. */
  removeMember(p: { space: string; user: string }): Record<string, never>;
  /** Gives a member another role; only an owner may (`mayChangeSpace`), and a space keeps an owner. */
  changeRole(p: { space: string; user: string; role: Role }): Record<string, never>;
  leave(p: { space: string }): Record<string, never>;
  stopSharing(p: { space: string }): Record<string, never>;
  setPaused(p: { space: string; paused: boolean }): Record<string, never>;
  /**
   * Settles a conflict on every replica, with ordinary edits: 'mine' keeps the file at the path
   * (whoever wrote it) and deletes the copy; 'theirs' puts the copy's bytes at the path and
   * deletes the copy; 'both' renames the copy to `name (user).ext`. Replaced bytes go to the
   * versions folder. `path` is the file or, to pick one of several copies of it, the copy itself
   * (with the file's path, the oldest copy is resolved).
   */
  resolveConflict(p: { space: string; path: string; choice: 'mine' | 'theirs' | 'both' }): Record<string, never>;
  /**
   * The bytes (base64) of the version both sides of a conflict were edited from, named by its
   * copy; absent when this device keeps no such base (`ConflictView.base`). Fails with 'usage'
   * when the copy names no open conflict.
   */
  conflictBase(p: { space: string; copy: string }): { base?: string };
  /** The user's answer when a scan that would delete much of a folder paused it (state paused, reason massDelete). */
  resolveMassDelete(p: { space: string; choice: 'delete' | 'restore' }): Record<string, never>;
  /** The user looked at the space's activity, or at one entry of it (`entry`, an ActivityView id). */
  markSeen(p: { space: string; entry?: string }): Record<string, never>;
  /**
   * The version of `path` an activity entry replaced: its file in the space's versions folder
   * (absolute), kept when the entry's first change to `path` arrived. None when the file was new
   * or the version is gone (pruned, or the entry predates this record).
   */
  previousVersion(p: { activity: string; path: string }): { file?: string };
  /** Remote changes by one member in one space within `groupWithinMs` of the previous one join its entry (default 60 s). */
  setActivityOptions(p: { groupWithinMs: number }): Record<string, never>;
  /** The last activity entries (at most 200, oldest first), kept in the home across restarts. */
  activityHistory(p: Record<string, never>): { activities: readonly ActivityView[] };
  sendChat(p: { conversation: string; text: string }): { message: ChatMessageView };
  chatHistory(p: { conversation: string }): { messages: readonly ChatMessageView[] };
  /** Tells the conversation's online members this user is typing (live only, never mailed; sent at most every 2 s per conversation). */
  sendTyping(p: { conversation: string }): Record<string, never>;
  setPresence(p: { presence: 'online' | 'away' }): Record<string, never>;
  /** Files open in editors, as absolute paths: their blocks are fetched first. */
  setOpenFiles(p: { paths: readonly string[] }): Record<string, never>;
  setLimits(p: { limitUp?: number; limitDown?: number }): Record<string, never>;
  /**
   * The file this device's user has in the active editor (`path` space-relative), or none. Member
   * devices of the space learn it (MemberView.activeFile, `activeEditor` events, so others can
   * Follow); `top` is the first visible line, sent at most every 100 ms by the caller.
   * `following` (with `space`): the member whose editor this user follows, who is told so
   * (`ActiveEditorView.following` in their `activeEditor` events) until a call without it.
   */
  setActiveEditor(p: { space?: string; path?: string; top?: number; following?: string }): Record<string, never>;
  /**
   * Announces (or updates) this device's live session of a file it has open: `session` names the
   * session's seed (docs/COEDIT.md §3), `live` says the session has other members already. The
   * host tells every online member device of the space and answers their announcements;
   * `coeditPeers` events follow. Refused for a space this device has not joined.
   */
  coeditOpen(p: { space: string; path: string; session: string; live: boolean; disk?: string }): Record<string, never>;
  /** This device closed the file: the peers drop it from the session. */
  coeditClose(p: { space: string; path: string }): Record<string, never>;
  /**
   * Sends co-editing frames (base64) to the peers in the same session (`session` equal), or to one
   * device (`to`). Live only, over the encrypted channels; never mailed.
   */
  coeditSend(p: { space: string; path: string; session: string; frames: readonly string[]; to?: string }): Record<string, never>;
  stop(p: Record<string, never>): Record<string, never>;
}

export type EngineMethod = keyof EngineMethods;
/** What a method takes, and what it answers. */
export type EngineParams<M extends EngineMethod> = Parameters<EngineMethods[M]>[0];
export type EngineResult<M extends EngineMethod> = ReturnType<EngineMethods[M]>;

export interface EngineRequest<M extends EngineMethod = EngineMethod> {
  readonly kind: 'request';
  readonly id: number;
  readonly method: M;
  readonly params: EngineParams<M>;
}

/** Error codes the extension maps to messages in its one command wrapper. `notEmpty`: a join into a folder that
 * already has files (asking to merge and retrying may do); `busy`: another process runs this home. */
export type EngineErrorCode = 'usage' | 'notEmpty' | 'notSetUp' | 'busy' | 'server' | 'crypto' | 'disk' | 'internal';

/** With code `server`: why the server could not be reached (refused, no such host, a TLS problem, ...). */
export type ServerFailureReason = ConnectFailureReason;

export type EngineResponse =
  | { readonly kind: 'response'; readonly id: number; readonly ok: true; readonly result: unknown }
  | {
      readonly kind: 'response';
      readonly id: number;
      readonly ok: false;
      readonly code: EngineErrorCode;
      readonly message: string;
      readonly reason?: ServerFailureReason;
    };

// ---- events (host to extension) -------------------------------------------------------------

export type EngineEvent =
  | { readonly kind: 'event'; readonly event: 'status'; readonly status: EngineStatus }
  | { readonly kind: 'event'; readonly event: 'chat'; readonly message: ChatMessageView }
  | { readonly kind: 'event'; readonly event: 'typing'; readonly conversation: string; readonly user: string; readonly name: string }
  | { readonly kind: 'event'; readonly event: 'activity'; readonly activity: ActivityView }
  | { readonly kind: 'event'; readonly event: 'conflict'; readonly conflict: ConflictView }
  /**
   * A conflict this host listed is gone: its copy was deleted or renamed, here or on another
   * device. `by` names who did it (the author of the copy's deletion), when known.
   */
  | { readonly kind: 'event'; readonly event: 'conflictResolved'; readonly conflict: ConflictView; readonly by?: string }
  | { readonly kind: 'event'; readonly event: 'invitation'; readonly invitation: InvitationView }
  | {
      readonly kind: 'event';
      readonly event: 'progress';
      readonly space: string;
      readonly files: number;
      readonly bytes: number;
      readonly totalBytes: number;
    }
  | {
      readonly kind: 'event';
      readonly event: 'coeditPeers';
      readonly space: string;
      readonly path: string;
      readonly peers: readonly CoeditPeerView[];
    }
  | {
      readonly kind: 'event';
      readonly event: 'coeditFrame';
      readonly space: string;
      readonly path: string;
      readonly session: string;
      readonly from: string;
      readonly frame: string;
    }
  | { readonly kind: 'event'; readonly event: 'activeEditor'; readonly editor: ActiveEditorView }
  | { readonly kind: 'event'; readonly event: 'log'; readonly level: 'trace' | 'info' | 'warn' | 'error'; readonly message: string };

/** Every event the host sends, in one place; a record so that a new event cannot be left out. */
const EVENT_NAMES: Record<EngineEvent['event'], true> = {
  status: true,
  chat: true,
  typing: true,
  activity: true,
  conflict: true,
  conflictResolved: true,
  invitation: true,
  progress: true,
  coeditPeers: true,
  coeditFrame: true,
  activeEditor: true,
  log: true,
};
export const ENGINE_EVENTS = Object.keys(EVENT_NAMES) as readonly EngineEvent['event'][];

export type HostMessage = EngineResponse | EngineEvent;
