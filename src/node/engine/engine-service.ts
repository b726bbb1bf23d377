import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { AccountState } from '../../sync/protocol/rendezvous';
import type { ReplicaEvent } from '../../sync/replica/replica-events';
import * as account from '../agent/account';
import { ActivityLog, type PriorVersion } from './activity-log';
import { chatHistory, type ChatEntry } from '../agent/chat';
import { parseConflictCopyPath } from '../../sync/model/conflict';
import { ConflictCache } from './conflict-cache';
import { resolveConflict, ConflictGone } from '../disk/conflict-resolution';
import { DeviceAgent, type AgentOptions } from '../agent/device-agent';
import { DirectListenError, parseAddress } from '../net/direct-links';
import { DeviceHome } from '../agent/device-home';
import { writeAtomic } from '../disk/durable-write';
import { decodeDeviceKeys, encodeDeviceKeys, fingerprintOf, type DeviceKeys } from '../crypto/device-keys';
import { EngineError } from './engine-error';
import { EngineDispatcher, type EngineHandlers } from './engine-dispatch';
import { ControlServer } from './control-server';
import { claimHome, type HomeClaim } from './home-claim';
import type { AgentStatus } from '../agent/agent-status';
import type { ChatMessageView, EngineEvent, EngineIdentity, EngineStatus } from './engine-protocol';
import { buildStatus, invitationsOf } from './engine-status';
import { membershipChanges } from './membership-changes';
import { PendingInvites } from '../agent/pending-invites';
import { ReportedOnce } from './reported-once';
import { checkAddress } from '../net/rendezvous-client';
import { ResolvedConflicts } from './resolved-conflicts';
import { fromHex } from '../../sync/util/bytes';

/** Status pushes at most this often. */
const STATUS_EVERY_MS = 250;
/** Progress of a space's transfer at most this often. */
const PROGRESS_EVERY_MS = 1000;
/** A typing notice per conversation at most this often. */
const TYPING_EVERY_MS = 2000;
/** How long a request waits for a sign-in under way before it fails as 'server'. */
const SIGN_IN_WAIT_MS = 15_000;

export type { EngineHandlers };

/** Events without the envelope's `kind`, which the host adds. */
type EventBody = EngineEvent extends infer E ? (E extends { kind: 'event' } ? Omit<E, 'kind'> : never) : never;

/**
 * What the engine host does for the extension: every method of `EngineMethods` over one device
 * agent and the account operations, and every event pushed as it happens. Knows nothing of the
 * process it runs in; `engine-host.ts` connects it to the IPC channel.
 */
export class EngineService {
  private home: DeviceHome | undefined;
  private agent: DeviceAgent | undefined;
  private pending: PendingInvites | undefined;
  private readonly activityLog: ActivityLog;
  private limits: { limitUp?: number; limitDown?: number } = {};
  private presence: 'online' | 'away' = 'online';
  private lastStatus = '';
  private lastState: AccountState | undefined;
  /**
   * The latest account state the server sent, kept in the home (known-state.json): while the
   * server cannot be reached, even after a restart, the status still lists contacts and spaces.
   */
  private knownState: AccountState | undefined;
  private knownStateFile: { load(): AccountState | undefined; save(value: AccountState | undefined): void } | undefined;
  private readonly progressAt = new Map<string, { at: number; total: number; receivedAtStart: number }>();
  private timer: NodeJS.Timeout | undefined;
  /** Set while setServer replaces the agent. */
  private switchingServer = false;
  private stopped = false;
  private readonly conflicts = new ConflictCache();
  private readonly resolvedConflicts = new ResolvedConflicts();
  private readonly typingSent = new Map<string, number>();
  /** Folder names of the spaces this device had, kept for activity about spaces that are gone. */
  private readonly spaceNames = new Map<string, string>();
  /**
   * Spaces this device stopped sharing: what that does to their membership is one entry, not one
   * per member. Kept after the call, since the account states that show it may come later.
   */
  private readonly stoppedHere = new Set<string>();
  /** Conflicts and invitations the user was told about, kept in the home. */
  private reported: ReportedOnce | undefined;
  /** This process's hold on the home (one daemon per home), and the control socket it serves. */
  private claim: HomeClaim | undefined;
  private control: ControlServer | undefined;
  private folders: string | undefined;
  private caFile: string | undefined;
  /** Direct links: where to listen, or undefined when they are off. */
  private direct: AgentOptions['direct'];
  private readonly emit: (event: EventBody) => void;

  constructor(emit: (event: EventBody) => void) {
    this.emit = (event) => {
      emit(event);
      this.control?.broadcast({ kind: 'event', ...event } as EngineEvent);
    };
    this.activityLog = new ActivityLog((activity) => this.emit({ event: 'activity', activity }));
    this.activityLog.nameOf = (space) => this.spaceName(space);
  }

  readonly handlers: EngineHandlers = {
    start: async (p) => {
      if (this.home) throw new EngineError('usage', 'the engine is already started');
      if (typeof p?.home !== 'string' || p.home === '') throw new EngineError('usage', 'start needs the home folder');
      if (p.folders !== undefined && (typeof p.folders !== 'string' || p.folders === ''))
        throw new EngineError('usage', 'folders is a folder path');
      if (p.caFile !== undefined && (typeof p.caFile !== 'string' || p.caFile === ''))
        throw new EngineError('usage', 'caFile is the path of a PEM file');
      const direct = directOption(p.direct, p.listen);
      const home = new DeviceHome(nodePath.resolve(p.home));
      fs.mkdirSync(home.dir, { recursive: true, mode: 0o700 });
      // Before signing in: a second daemon must not knock the first one off the server.
      const claim = await claimHome(home, 'daemon');
      let started!: () => void;
      this.control = new ControlServer(claim.server, this.dispatcher, new Promise<void>((resolve) => (started = resolve)));
      this.claim = claim;
      this.home = home;
      this.folders = p.folders === undefined ? undefined : nodePath.resolve(p.folders);
      this.caFile = p.caFile === undefined ? undefined : nodePath.resolve(p.caFile);
      this.direct = direct;
      this.pending = new PendingInvites(home);
      this.reported = new ReportedOnce(home.file('reported.json'));
      this.activityLog.keepRecentIn(jsonFile<unknown>(home.file('activity.json'), []));
      this.knownStateFile = jsonFile<AccountState | undefined>(home.file('known-state.json'), undefined);
      this.limits = { ...(p.limitUp ? { limitUp: p.limitUp } : {}), ...(p.limitDown ? { limitDown: p.limitDown } : {}) };
      this.timer = setInterval(() => this.tick(), STATUS_EVERY_MS);
      try {
        if (home.exists) {
          const keys = p.keys ? decodeDeviceKeys(p.keys) : undefined;
          if (!keys && !home.keepsKeys) throw new EngineError('notSetUp', 'this device has an identity but its keys were not given');
          await this.startAgent(keys);
        }
      } catch (err) {
        // Not started after all: the caller may try again with other keys.
        clearInterval(this.timer);
        this.home = undefined;
        await this.unclaim();
        throw err;
      }
      started();
      return { identity: this.identityView() };
    },

    createIdentity: async (p) => {
      const home = this.needHome();
      if (home.exists) throw new EngineError('usage', 'this device already has an identity');
      if (!p?.server || (!p?.name && !p?.link)) throw new EngineError('usage', 'a new identity needs a server and a name');
      const created = await account.createIdentity(home, {
        server: p.server,
        ...(p.link ? { link: p.link } : { name: p.name }),
        keysInHome: false,
        ...(this.caFile ? { caFile: this.caFile } : {}),
      });
      await this.startAgent(created.identity.keys);
      return { identity: this.identityView()!, keys: encodeDeviceKeys(created.identity.keys) };
    },

    status: async () => this.status(),

    agentStatus: async () => {
      const status = this.agentStatus();
      if (!status) throw new EngineError('notSetUp', 'the engine has not started its agent yet');
      return status;
    },

    createLink: async () => ({ code: await account.createLinkCode(await this.session()) }),

    setServer: async (p) => {
      const server = typeof p?.server === 'string' ? p.server.trim() : '';
      const invalid = checkAddress(server);
      if (invalid) throw new EngineError('usage', invalid);
      const home = this.needHome();
      const agent = this.needAgent();
      home.saveIdentity({ ...agent.identity, server }, { withKeys: home.keepsKeys });
      // The client's address is fixed at its start: a new agent signs in at the new address. No
      // status goes out meanwhile: without an agent it would say there is no identity.
      this.switchingServer = true;
      try {
        this.agent = undefined;
        await agent.close();
        await this.startAgent(agent.identity.keys);
      } finally {
        this.switchingServer = false;
      }
      return { identity: this.identityView()! };
    },

    createInvite: async () => ({ code: await account.createInviteCode(await this.session()) }),

    openInvite: async (p) => {
      const pending = this.needPending().open(String(p?.code ?? ''));
      return { pending };
    },

    acceptInvite: async (p) => {
      const code = String(p?.code ?? '').trim();
      const contact = await account.acceptInvite(await this.session(), code);
      this.needPending().remove(code);
      return { contact: contact.id };
    },

    declineInvite: async (p) => {
      this.needPending().remove(String(p?.code ?? ''));
      return {};
    },

    removeContact: async (p) => {
      await account.removeContact(await this.session(), p.user);
      return {};
    },

    share: async (p) => {
      if (!Array.isArray(p?.with) || p.with.length === 0) throw new EngineError('usage', 'share with at least one contact');
      const ignore = p.ignore ?? [];
      if (!Array.isArray(ignore) || ignore.some((x) => typeof x !== 'string' || /[\r\n]/.test(x)))
        throw new EngineError('usage', 'ignore patterns are single-line strings');
      const space = await account.shareFolder(await this.session(), nodePath.resolve(p.path), p.with, p.role, { ignore });
      await this.agent!.refresh();
      return { space };
    },

    join: async (p) => {
      await account.joinSpace(await this.session(), p.space, nodePath.resolve(p.path), { merge: p.merge === true });
      await this.agent!.refresh();
      return {};
    },

    decline: async (p) => {
      await account.declineSpace(await this.session(), p.space);
      return {};
    },

    addMember: async (p) => {
      await account.addMember(await this.session(), p.space, p.user, p.role);
      return {};
    },

    removeMember: async (p) => {
      await account.removeMember(await this.session(), String(p?.space ?? ''), String(p?.user ?? ''));
      return {};
    },

    changeRole: async (p) => {
      await account.changeRole(await this.session(), String(p?.space ?? ''), String(p?.user ?? ''), p?.role);
      return {};
    },

    leave: async (p) => {
      await account.leaveSpace(await this.session(), p.space);
      await this.agent!.refresh();
      return {};
    },

    stopSharing: async (p) => {
      const name = this.spaceName(p.space);
      if (name !== undefined) this.spaceNames.set(p.space, name);
      this.stoppedHere.add(p.space);
      try {
        await account.stopSharing(await this.session(), p.space);
      } catch (err) {
        this.stoppedHere.delete(p.space);
        throw err;
      }
      await this.agent!.refresh();
      this.activityLog.add('stopped', p.space, [], this.agent?.state?.user.id);
      return {};
    },

    setPaused: async (p) => {
      const home = this.needHome();
      if (!home.spaces().some((s) => s.id === p.space)) throw new EngineError('usage', `no space ${p.space} on this device`);
      home.setPaused(p.space, Boolean(p.paused));
      await this.agent?.refresh();
      return {};
    },

    resolveConflict: async (p) => {
      const agent = this.needAgent();
      const disk = agent.replica(p.space);
      if (!disk) throw new EngineError('usage', 'the space is not syncing on this device (paused, or its folder is missing)');
      if (p.choice !== 'mine' && p.choice !== 'theirs' && p.choice !== 'both')
        throw new EngineError('usage', 'choose mine, theirs or both');
      const conflict = disk.replica.conflicts().find((c) => c.path === p.path || c.copyPath === p.path);
      if (!conflict) throw new EngineError('usage', `${p.path} has no conflict`);
      try {
        await resolveConflict(disk, conflict, p.choice);
      } catch (err) {
        if (err instanceof ConflictGone) throw new EngineError('usage', err.message);
        throw err;
      } finally {
        this.conflicts.invalidate(p.space);
      }
      return {};
    },

    conflictBase: async (p) => {
      const disk = this.needAgent().replica(p.space);
      if (!disk) throw new EngineError('usage', 'the space is not syncing on this device (paused, or its folder is missing)');
      const conflict = disk.replica.conflicts().find((c) => c.copyPath === p.copy);
      if (!conflict) throw new EngineError('usage', `${p.copy} is not the copy of an open conflict`);
      const base = conflict.base ? await disk.replica.readBase(fromHex(conflict.base)) : undefined;
      return base ? { base: Buffer.from(base).toString('base64') } : {};
    },

    resolveMassDelete: async (p) => {
      const disk = this.needAgent().replica(p.space);
      if (!disk) throw new EngineError('usage', 'the space is not syncing on this device');
      if (p.choice !== 'delete' && p.choice !== 'restore') throw new EngineError('usage', 'choose delete or restore');
      if (disk.replica.state() !== 'paused') throw new EngineError('usage', 'the space is not waiting for an answer about deleted files');
      await disk.replica.resolveMassDelete(p.choice);
      return {};
    },

    activityHistory: async () => ({ activities: [...this.activityLog.recentActivity()] }),

    markSeen: async (p) => {
      this.activityLog.markSeen(p.space, optional(p?.entry, 'entry'));
      return {};
    },

    previousVersion: async (p) => {
      const entry = this.activityLog.entry(String(p?.activity ?? ''));
      if (!entry) throw new EngineError('usage', 'no such activity entry');
      const prior = this.activityLog.priorVersion(entry.id, String(p?.path ?? ''));
      const disk = this.needAgent().replica(entry.space);
      if (!prior || !disk) return {};
      const file = await disk.store.versions.replacedSince(p.path, prior.notedAt, prior.inode);
      return file === undefined ? {} : { file };
    },

    setActivityOptions: async (p) => {
      if (typeof p?.groupWithinMs !== 'number' || !(p.groupWithinMs >= 0))
        throw new EngineError('usage', 'groupWithinMs is a number of milliseconds');
      this.activityLog.groupWithin(p.groupWithinMs);
      return {};
    },

    sendChat: async (p) => {
      const entry = await account.sendChatMessage(await this.session(), p.conversation, String(p.text ?? ''));
      return { message: chatView(entry) };
    },

    chatHistory: async (p) => ({ messages: chatHistory(this.needHome(), p.conversation).map(chatView) }),

    sendTyping: async (p) => {
      const agent = this.needAgent();
      // Editors call this on every keystroke; a notice every couple of seconds says as much.
      const last = this.typingSent.get(p.conversation) ?? 0;
      if (Date.now() - last >= TYPING_EVERY_MS) {
        this.typingSent.set(p.conversation, Date.now());
        agent.sendTyping(p.conversation);
      }
      return {};
    },

    setPresence: async (p) => {
      if (p.presence !== 'online' && p.presence !== 'away') throw new EngineError('usage', 'presence is online or away');
      this.presence = p.presence;
      await (await this.session()).client.request({ t: 'presence', status: p.presence });
      return {};
    },

    setOpenFiles: async (p) => {
      this.needAgent().setOpenFiles(Array.isArray(p?.paths) ? p.paths : []);
      return {};
    },

    setLimits: async (p) => {
      this.limits = { ...(p.limitUp ? { limitUp: p.limitUp } : {}), ...(p.limitDown ? { limitDown: p.limitDown } : {}) };
      this.agent?.setLimits(this.limits.limitUp, this.limits.limitDown);
      return {};
    },

    setActiveEditor: async (p) => {
      this.needAgent().coedit.setActiveEditor(
        optional(p?.space, 'space'),
        optional(p?.path, 'path'),
        p?.top === undefined ? undefined : Number(p.top),
        optional(p?.following, 'following'),
      );
      return {};
    },

    coeditOpen: async (p) => {
      this.needAgent().coedit.open(p?.space, p?.path, p?.session, p?.live === true, p?.disk);
      return {};
    },

    coeditClose: async (p) => {
      this.needAgent().coedit.close(p?.space, p?.path);
      return {};
    },

    coeditSend: async (p) => {
      if (!Array.isArray(p?.frames) || p.frames.some((f) => typeof f !== 'string'))
        throw new EngineError('usage', 'frames are base64 strings');
      if (p.to !== undefined && typeof p.to !== 'string') throw new EngineError('usage', 'to is a device id');
      this.needAgent().coedit.send(
        p.space,
        p.path,
        p.session,
        p.frames.map((f) => new Uint8Array(Buffer.from(f, 'base64'))),
        p.to,
      );
      return {};
    },

    stop: async () => {
      await this.close();
      return {};
    },
  };

  /** Answers requests from any channel through one queue (see engine-dispatch.ts). */
  readonly dispatcher = new EngineDispatcher(this.handlers, (method, err) =>
    this.emit({ event: 'log', level: 'error', message: `${method} failed: ${(err as Error)?.stack ?? String(err)}` }),
  );

  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    const agent = this.agent;
    this.agent = undefined;
    try {
      await agent?.close();
    } finally {
      await this.unclaim();
    }
  }

  /** What `status --json` prints and the CLI daemon keeps in HOME/status.json; undefined before the agent runs. */
  agentStatus(): AgentStatus | undefined {
    return this.agent?.status({ conflicts: (space, replica) => this.conflicts.conflicts(space, replica) });
  }

  private async unclaim(): Promise<void> {
    const claim = this.claim;
    this.claim = undefined;
    this.control?.close();
    this.control = undefined;
    await claim?.release();
  }

  // ---- the agent ----------------------------------------------------------------------------

  private async startAgent(keys: DeviceKeys | undefined): Promise<void> {
    const home = this.needHome();
    this.knownState ??= this.knownStateFile?.load();
    const agent = await DeviceAgent.start(home, {
      ...(keys ? { keys } : {}),
      ...(this.direct ? { direct: this.direct } : {}),
      ...this.limits,
      ...(this.folders ? { folders: this.folders } : {}),
      ...(this.caFile ? { caFile: this.caFile } : {}),
      connectInBackground: true,
      log: (message) => this.emit({ event: 'log', level: levelOf(message), message }),
      onChat: (entry) => this.emit({ event: 'chat', message: chatView(entry) }),
      onReplicaEvent: (space, event) => this.onReplicaEvent(space, event),
      onRemoteChanges: (space, author, paths) => this.activityLog.changed(space, author, paths, (path) => this.priorOf(space, path)),
      onTyping: (conversation, from) => this.emit({ event: 'typing', conversation, user: from.id, name: from.name }),
      onCoeditPeers: (space, path, peers) => this.emit({ event: 'coeditPeers', space, path, peers }),
      onCoeditFrame: (space, path, session, from, frame) =>
        this.emit({
          event: 'coeditFrame',
          space,
          path,
          session,
          from,
          frame: Buffer.from(frame.buffer, frame.byteOffset, frame.length).toString('base64'),
        }),
      onActiveEditor: (editor) => this.emit({ event: 'activeEditor', editor }),
    }).catch((err: unknown) => {
      throw err instanceof DirectListenError ? new EngineError('usage', err.message) : err;
    });
    this.agent = agent;
    agent.client.on('connected', (state) => {
      // The server forgets presence with the connection.
      if (this.presence === 'away') agent.client.request({ t: 'presence', status: 'away' }).catch(() => undefined);
      this.onState(state);
    });
    agent.client.on('state', (state) => this.onState(state));
  }

  /** What `path` holds here as a remote change to it is noted: the bytes its diff will show as before. */
  private priorOf(space: string, path: string): PriorVersion {
    const record = this.agent?.replica(space)?.replica.record(path);
    if (!record || record.deleted) return null;
    return { notedAt: Date.now(), ...(record.inode !== undefined ? { inode: record.inode } : {}) };
  }

  /** Conflicts are reported from the status (see `noteConflicts`): a replica that receives a conflict copy made elsewhere has no event of its own. */
  private onReplicaEvent(space: string, event: ReplicaEvent): void {
    if (event.kind === 'error') this.activityLog.add('error', space, [event.path]);
    // Only the replica that merged has the event; the others see the merged version as a change.
    if (event.kind === 'merged') this.activityLog.add('merged', space, [event.path]);
  }

  /**
   * Conflicts not reported before, as `conflict` events and activity. What was reported is kept
   * in the home, so a restart reports only what is new, and a conflict that arrived while the
   * host was down is reported when it comes back. Only open spaces list conflicts. Conflicts
   * listed before and gone now are `conflictResolved` events (a paused space lists none, and is
   * skipped).
   */
  private noteConflicts(status: EngineStatus): void {
    const reported = this.reported;
    if (!reported || !this.agent) return;
    for (const space of status.spaces) {
      if (!this.agent.replica(space.id)) continue;
      const fresh = new Set(
        reported.fresh(
          `conflicts/${space.id}`,
          space.conflicts.map((c) => c.copy),
        ),
      );
      for (const conflict of space.conflicts) {
        if (!fresh.has(conflict.copy)) continue;
        this.emit({ event: 'conflict', conflict });
        this.activityLog.add('conflict', space.id, [conflict.path], parseConflictCopyPath(conflict.copy)?.user);
      }
      for (const conflict of this.resolvedConflicts.gone(space.id, space.conflicts)) {
        // The copy's tombstone names who deleted (or renamed) it: whoever settled the conflict.
        const copy = this.agent.replica(space.id)?.replica.record(conflict.copy);
        this.emit({ event: 'conflictResolved', conflict, ...(copy?.deleted ? { by: copy.modifiedBy } : {}) });
      }
    }
  }

  /** What changed between two account states, as events: invitations, members joining and leaving, spaces that went away. */
  private onState(state: AccountState): void {
    const before = this.lastState;
    this.lastState = state;
    this.knownState = state;
    this.knownStateFile?.save(state);
    const invitations = invitationsOf(state, this.home?.spaceNames() ?? {});
    const fresh = new Set(
      this.reported?.fresh(
        'invitations',
        invitations.map((i) => i.space),
      ) ?? [],
    );
    for (const invitation of invitations) {
      if (!fresh.has(invitation.space)) continue;
      this.emit({ event: 'invitation', invitation });
      this.activityLog.add('invited', invitation.space, [], invitation.from, { invitedMe: true });
    }
    if (!before) return;
    for (const change of membershipChanges(before, state)) {
      // This user's own Stop Sharing takes every other member out: its one entry says so.
      if (this.stoppedHere.has(change.space)) continue;
      if (change.kind === 'gone') {
        // Stopped by its owner, or this user was removed: the files stay, syncing ends.
        const name = this.spaceName(change.space);
        if (name !== undefined) this.spaceNames.set(change.space, name);
        this.activityLog.add('stopped', change.space, [], change.user);
        this.home?.removeSpace(change.space);
      } else this.activityLog.add(change.kind, change.space, [], change.user);
    }
  }

  // ---- status and progress ------------------------------------------------------------------

  status(): EngineStatus {
    const home = this.home;
    const agent = this.agent;
    const connected = agent?.client.connected ?? false;
    const problem = connected ? undefined : agent?.client.lastFailure?.message;
    return buildStatus({
      identity: this.identityView(),
      state: agent ? (agent.state ?? this.knownState) : undefined,
      connected,
      ...(problem !== undefined ? { serverProblem: problem } : {}),
      agent: agent?.status({ conflicts: (space, replica) => this.conflicts.conflicts(space, replica) }),
      local: home?.spaces() ?? [],
      progress: (space) => agent?.progress(space),
      folderExists: (path) => fs.existsSync(path),
      unseen: (space) => this.activityLog.unseen(space),
      pending: this.pending?.list() ?? [],
      names: home?.spaceNames() ?? {},
      activeFile: (space, user) => agent?.coedit.activeFile(space, user),
    });
  }

  /** Sends the status when it changed since the last push: at most every 250 ms, the timer's period. */
  private tick(): void {
    if (this.stopped || this.switchingServer) return;
    try {
      const status = this.status();
      const text = JSON.stringify(status);
      if (text !== this.lastStatus) {
        this.lastStatus = text;
        this.emit({ event: 'status', status });
        this.noteConflicts(status);
      }
      this.sendProgress(status);
    } catch (err) {
      this.emit({ event: 'log', level: 'error', message: `status failed: ${(err as Error).message}` });
    }
  }

  /** Progress of long transfers: the files and bytes still to come against the total since the transfer began. */
  private sendProgress(status: EngineStatus): void {
    const now = Date.now();
    const received = status.bytesReceived;
    for (const space of status.spaces) {
      const state = space.state;
      const track = this.progressAt.get(space.id);
      if (state.kind !== 'syncing' || state.files === 0) {
        if (track) {
          this.progressAt.delete(space.id);
          this.emit({ event: 'progress', space: space.id, files: 0, bytes: track.total, totalBytes: track.total });
        }
        continue;
      }
      if (!track) {
        this.progressAt.set(space.id, { at: now, total: state.bytes, receivedAtStart: received });
        continue;
      }
      track.total = Math.max(track.total, state.bytes);
      if (now - track.at < PROGRESS_EVERY_MS) continue;
      track.at = now;
      const done = Math.min(track.total, Math.max(track.total - state.bytes, received - track.receivedAtStart));
      this.emit({ event: 'progress', space: space.id, files: state.files, bytes: done, totalBytes: track.total });
    }
  }

  // ---- helpers ------------------------------------------------------------------------------

  /** A space's folder name: of its local copy, or as it was when this device last had one, or from its space note. */
  private spaceName(space: string): string | undefined {
    const local = this.home?.spaces().find((s) => s.id === space);
    if (local) return nodePath.basename(local.path);
    return this.spaceNames.get(space) ?? this.home?.spaceNames()[space];
  }

  private identityView(): EngineIdentity | undefined {
    const agent = this.agent;
    if (!agent) return undefined;
    const identity = agent.identity;
    return {
      device: agent.client.device.id,
      user: agent.state?.user.id ?? identity.user ?? this.knownState?.user.id ?? '',
      name: agent.state?.user.name ?? identity.name,
      server: identity.server,
      fingerprint: fingerprintOf(identity.keys),
    };
  }

  private needHome(): DeviceHome {
    if (!this.home) throw new EngineError('notSetUp', 'the engine has not been started');
    return this.home;
  }

  private needPending(): PendingInvites {
    this.needHome();
    return this.pending!;
  }

  private needAgent(): DeviceAgent {
    this.needHome();
    if (!this.agent) throw new EngineError('notSetUp', 'this device has no identity yet');
    return this.agent;
  }

  /** The running agent's session, once signed in; waits a little for a sign-in under way. */
  private async session(): Promise<account.AccountSession> {
    const agent = this.needAgent();
    if (!agent.client.connected) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, SIGN_IN_WAIT_MS);
        const off = agent.client.on('connected', done);
        function done(): void {
          clearTimeout(timer);
          off();
          resolve();
        }
      });
      if (!agent.client.connected) throw new EngineError('server', `not connected to the server ${agent.identity.server}`);
    }
    return { home: agent.home, identity: agent.identity, client: agent.client };
  }
}

/** A string parameter that may be left out. */
function optional(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new EngineError('usage', `${name} is a string`);
  return value;
}

function chatView(entry: ChatEntry): ChatMessageView {
  return { conversation: entry.conversation, from: entry.from, fromName: entry.fromName, text: entry.text, sent: entry.sent, id: entry.id };
}

function levelOf(message: string): 'trace' | 'info' | 'warn' | 'error' {
  if (/failed|refused|dropped|cannot|missing/.test(message)) return 'warn';
  if (/secure channel|mailed changes|full scan done/.test(message)) return 'trace';
  return 'info';
}

/** A small JSON file in the home, read once and replaced whole on every save. */
function jsonFile<T>(file: string, empty: T): { load(): T; save(value: T): void } {
  return {
    load: () => {
      try {
        return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
      } catch {
        return empty;
      }
    },
    save: (value) => writeAtomic(file, JSON.stringify(value), 0o600),
  };
}

/**
 * Test only: SF_TEST_DIRECT_ADVERTISE="ip:port,..." makes the device announce those addresses
 * instead of its listen address (a TCP forwarder in front of it, which a test cuts).
 */
const ADVERTISE_VARIABLE = 'SF_TEST_DIRECT_ADVERTISE';

/** The agent's direct-link options from `start`'s `direct` and `listen`; undefined when off. */
function directOption(direct: unknown, listen: unknown): AgentOptions['direct'] {
  if (direct !== undefined && typeof direct !== 'boolean') throw new EngineError('usage', 'direct is true or false');
  if (listen !== undefined && typeof listen !== 'string') throw new EngineError('usage', 'listen is "HOST:PORT"');
  if (direct === false) return undefined;
  const text = listen === undefined || listen.trim() === '' ? '0.0.0.0:0' : listen;
  const address = parseAddress(text);
  if (!address)
    throw new EngineError('usage', `listen address "${text}" is not HOST:PORT with an IPv4 HOST (0.0.0.0 for every address) and a port`);
  const advertise = process.env[ADVERTISE_VARIABLE]?.split(',').filter((a) => parseAddress(a) !== undefined);
  return { listen: address, ...(advertise && advertise.length > 0 ? { advertise } : {}) };
}
