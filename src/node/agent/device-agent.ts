import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { equalBytes, fromHex, toHex } from '../../sync/util/bytes';
import { decodeMessage, encodeMessage } from '../../sync/protocol/codec';
import type { Message } from '../../sync/protocol/messages';
import type { AccountState, Presence, Role, SpaceInfo, UserInfo } from '../../sync/protocol/rendezvous';
import { DiskReplica } from '../disk/disk-replica';
import { DiskStore } from '../disk/disk-store';
import { encodeSpaceNote, isFolderName, parseSpaceNote } from './space-note';
import { depositSealed } from '../net/sealed-deposit';
import { trustFilter } from '../crypto/device-trust';
import type { Replica } from '../../sync/replica/replica';
import type { ReplicaEvent } from '../../sync/replica/replica-events';
import type { ConflictInfo, ReplicaState } from '../../sync/replica/replica-status';
import { sameRecord, type FileRecord } from '../../sync/model/file-record';
import type { DeviceHome, Identity, LocalSpace } from './device-home';
import { writeAtomic } from '../disk/durable-write';
import type { DeviceKeys, DevicePublicKeys } from '../crypto/device-keys';
import { FsWorkerPool } from '../workers/fs-worker-pool';
import { PeerChannels } from '../net/peer-channels';
import { RendezvousClient } from '../net/rendezvous-client';
import { appendChatHistory, parseChat, type ChatEntry } from './chat';
import { openSealed, sealFor } from '../crypto/sealed-box';
import { decodeMailItem, MAIL_SYNC, MailBlockCache, MailPositions, mailItems } from '../net/mail-sync';
import { NodeHasher } from '../workers/node-hasher';
import { describeReplicaEvent } from './replica-event-text';
import { CoeditRouter } from '../coedit/coedit-router';
import { KIND_COEDIT } from '../coedit/coedit-notice';
import type { ActiveEditorView, CoeditPeerView } from '../engine/engine-protocol';

/** First byte of a decrypted device-to-device message. */
const KIND_SYNC = 1;
/** A live notice that a user is typing in a conversation; never mailed. */
const KIND_TYPING = 3;

/** How long a member device must have been away before its changes go to the mailbox. */
const MAIL_AFTER_OFFLINE_MS = 3000;

/** How long after starting a space joined on another device waits for its name to arrive. */
const NOTE_WAIT_MS = 10_000;

/** Blocks that came by mail and whose index never followed are dropped after this long. */
const MAIL_BLOCK_MAX_AGE_MS = 30 * 24 * 3600 * 1000;

/** Mailbox bytes queued on the socket before the next item is built. */
const MAIL_BUFFER_BYTES = 8 * 1024 * 1024;

export interface AgentOptions {
  readonly log?: (message: string) => void;
  /** How often replicas tick and vectors are announced. */
  readonly tickMs?: number;
  readonly rescanMs?: number;
  readonly onChat?: (message: ChatEntry) => void;
  /** Bandwidth limits for this device's traffic, bytes per second. */
  readonly limitUp?: number;
  readonly limitDown?: number;
  /**
   * Where spaces this user joined on another device land on this one, each in a folder named as
   * its space note says. Without it, this device syncs only the spaces joined here.
   */
  readonly folders?: string;
  /** The device keys, when the home keeps none (the extension holds them in SecretStorage). */
  readonly keys?: DeviceKeys;
  /** Start without waiting for the first sign-in (the server may be down; the client keeps trying). */
  readonly connectInBackground?: boolean;
  /** What each space's engine reports: conflicts, errors, pauses. */
  readonly onReplicaEvent?: (space: string, event: ReplicaEvent) => void;
  /** Changes made elsewhere, as they arrive (before they are applied), by the user who made them. */
  readonly onRemoteChanges?: (space: string, author: string, paths: readonly string[]) => void;
  /** A member of a conversation is typing: a contact's user id, or a space id for a group. */
  readonly onTyping?: (conversation: string, from: UserInfo) => void;
  /** Co-editing (docs/COEDIT.md §3): who has a file open, frames for an open file, where members' users are. */
  readonly onCoeditPeers?: (space: string, path: string, peers: readonly CoeditPeerView[]) => void;
  readonly onCoeditFrame?: (space: string, path: string, session: string, from: string, frame: Uint8Array) => void;
  readonly onActiveEditor?: (editor: ActiveEditorView) => void;
}

export interface SpaceStatus {
  readonly id: string;
  readonly path: string;
  readonly role: Role | undefined;
  readonly members: { user: string; name: string; role: Role; status: string; presence: Presence }[];
  readonly inSync: boolean;
  readonly summary: string;
}

export interface AgentStatus {
  readonly user: { id: string; name: string } | undefined;
  readonly device: string;
  readonly connected: boolean;
  readonly spaces: SpaceStatus[];
  readonly conflicts: { space: string; path: string; copy: string }[];
  readonly errors: { space: string; path: string; message: string }[];
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly contacts: { id: string; name: string; presence: Presence }[];
}

interface OpenSpace {
  readonly local: LocalSpace;
  readonly disk: DiskReplica;
  /** Devices with an engine session in this space. */
  readonly up: Set<string>;
  lastAnnounced: string;
  readonly mailed: MailPositions;
  readonly cache: MailBlockCache;
  /** An index from the mailbox was applied (or the space just opened): cached blocks may be done with. */
  cacheUsed: boolean;
  mailing: boolean;
}

/**
 * One device, running: signed in to the server, holding a replica per joined space, and
 * syncing each with the other member devices over end-to-end encrypted channels. The CLI's
 * `run` and the extension both drive this.
 */
export class DeviceAgent {
  private readonly spaces = new Map<string, OpenSpace>();
  private readonly vectors = new Map<string, string>();
  private readonly online = new Set<string>();
  private readonly presence = new Map<string, Presence>();
  private readonly pool = new FsWorkerPool();
  private readonly channels: PeerChannels;
  /** Live co-editing notices between member devices (message kind 4). */
  readonly coedit: CoeditRouter;
  private timer: NodeJS.Timeout | undefined;
  private stopWatching: (() => void) | undefined;
  private closed = false;
  private quotaProblems = 0;
  private readonly offlineSince = new Map<string, number>();
  private deliveries: Promise<void> = Promise.resolve();
  private readonly hasher = new NodeHasher();
  private reconcile: Promise<void> = Promise.resolve();
  private readonly startedAt = Date.now();
  private noteTimer: NodeJS.Timeout | undefined;
  /** Absolute paths of files open in editors: their blocks are fetched first. */
  private openFiles = new Set<string>();
  /** The version last reported per space and path, so a change forwarded by several peers counts once. */
  private readonly reported = new Map<string, string>();

  private constructor(
    readonly home: DeviceHome,
    readonly identity: Identity,
    readonly client: RendezvousClient,
    private readonly options: AgentOptions,
  ) {
    this.channels = new PeerChannels({
      keys: identity.keys,
      deviceId: client.device.id,
      lookup: (device) => this.publicKeys(device),
      relay: (device, payload) => client.relay(device, payload),
      onMessage: (device, plaintext) => this.onPlaintext(device, plaintext),
      onReady: (device) => {
        this.log(`secure channel to device ${device} is up`);
        this.coedit.channelReady(device);
      },
      log: (m) => this.log(m),
    });
    this.coedit = new CoeditRouter({
      directory: {
        member: (space, device) => {
          const info = this.client.state?.spaces.find((s) => s.doc.id === space);
          if (!info || device === this.client.device.id) return undefined;
          const { author, role } = this.roleOf(device, info);
          return author && role ? { user: author, role } : undefined;
        },
        reachable: (space) => {
          const info = this.client.state?.spaces.find((s) => s.doc.id === space);
          return info ? joinedDevices(info).filter((d) => d !== this.client.device.id && this.online.has(d)) : [];
        },
        // A paused space, or one whose folder is missing, is not co-edited either.
        joinedHere: (space) => {
          const state = this.client.state;
          return this.spaces.has(space) && state?.spaces.find((s) => s.doc.id === space)?.status[state.user.id] === 'joined';
        },
      },
      send: (device, payload) => void this.channels.send(device, payload),
      onPeers: (space, path, peers) => options.onCoeditPeers?.(space, path, peers),
      onFrame: (space, path, session, from, frame) => options.onCoeditFrame?.(space, path, session, from, frame),
      onActiveEditor: (editor) => options.onActiveEditor?.(editor),
      log: (m) => this.log(m),
    });
  }

  static async start(home: DeviceHome, options: AgentOptions = {}): Promise<DeviceAgent> {
    const identity = home.identity(options.keys);
    const client = new RendezvousClient({
      url: identity.server,
      keys: identity.keys,
      mode: 'session',
      reconnect: true,
      trust: trustFilter(home),
      ...(options.log ? { log: options.log } : {}),
      ...(options.limitUp ? { limitUp: options.limitUp } : {}),
      ...(options.limitDown ? { limitDown: options.limitDown } : {}),
    });
    const agent = new DeviceAgent(home, identity, client, options);
    client.on('connected', (state) => agent.onState(state, true));
    client.on('state', (state) => agent.onState(state, false));
    client.on('presence', (user, presence, devices) => agent.onPresence(user, presence, devices));
    client.on('vector', (space, device, hash) => agent.onVector(space, device, hash));
    client.on('relay', (device, payload) => agent.channels.onRelay(device, payload));
    // One at a time, after the replicas are open: an item's blocks must be cached before the
    // next item's index asks for them.
    client.on('delivery', (item, sender, payload) => {
      agent.deliveries = agent.deliveries.then(() => agent.reconcile).then(() => agent.onDelivery(item, sender, payload));
    });
    client.on('disconnected', (reason) => agent.onDisconnected(reason));
    client.on('problem', (code, message) => {
      if (code === 'quota') agent.quotaProblems++;
      agent.log(`server: ${code}: ${message}`);
    });
    const connecting = client.connect();
    if (options.connectInBackground) connecting.catch((err: unknown) => agent.log(`signing in failed: ${(err as Error).message}`));
    else await connecting;
    agent.stopWatching = home.watchSpaces(() => agent.schedule());
    agent.timer = setInterval(() => void agent.tick(), options.tickMs ?? 500);
    return agent;
  }

  get state(): AccountState | undefined {
    return this.client.state;
  }

  replica(space: string): DiskReplica | undefined {
    return this.spaces.get(space)?.disk;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.noteTimer);
    this.stopWatching?.();
    await this.reconcile;
    for (const s of this.spaces.values()) await s.disk.close();
    this.spaces.clear();
    await this.client.close();
    await this.pool.close();
  }

  // ---- account state ------------------------------------------------------------------------

  private onState(state: AccountState, fresh: boolean): void {
    if (fresh) {
      this.online.clear();
      for (const d of state.online) this.online.add(d);
      this.vectors.clear();
    }
    for (const v of state.vectors) this.vectors.set(`${v.space}/${v.device}`, v.hash);
    for (const c of state.contacts) this.presence.set(c.id, c.presence);
    this.coedit.membershipChanged();
    // A device met since the sign-in (a new contact, a new fellow member) comes online with the
    // state that introduces it: no presence push follows for it.
    const arrived = fresh ? [...this.online] : state.online.filter((d) => !this.online.has(d));
    for (const d of arrived) {
      this.online.add(d);
      if (d !== this.client.device.id) this.coedit.deviceOnline(d);
    }
    this.schedule();
  }

  private onPresence(user: string, presence: Presence, devices: readonly string[]): void {
    this.presence.set(user, presence);
    for (const device of this.devicesOf(user)) {
      const isOnline = devices.includes(device);
      if (isOnline) {
        if (!this.online.has(device)) {
          this.online.add(device);
          if (device !== this.client.device.id) this.coedit.deviceOnline(device);
        }
      } else if (this.online.delete(device)) {
        this.offlineSince.set(device, Date.now());
        this.peerGone(device);
      }
    }
    this.schedule();
  }

  private onVector(space: string, device: string, hash: string): void {
    this.vectors.set(`${space}/${device}`, hash);
    this.connectIfBehind(space, device);
  }

  private onDisconnected(reason: string): void {
    this.log(`disconnected from the server: ${reason}`);
    for (const device of [...this.online]) this.peerGone(device);
    this.online.clear();
  }

  private peerGone(device: string): void {
    this.channels.reset(device);
    this.coedit.deviceGone(device);
    for (const s of this.spaces.values()) {
      if (s.up.delete(device)) void s.disk.replica.peerDown(device);
    }
  }

  private schedule(): void {
    this.reconcile = this.reconcile.then(() => this.openSpaces()).catch((err: unknown) => this.log(`opening spaces failed: ${(err as Error).message}`));
  }

  /** Opens a replica for every local space this user has joined; closes those that went away. */
  private async openSpaces(): Promise<void> {
    if (this.closed) return;
    const state = this.client.state;
    if (!state) return;
    const joined = new Map(state.spaces.filter((s) => s.status[state.user.id] === 'joined').map((s) => [s.doc.id, s]));
    this.tellOwnDevicesNames(state);
    if (this.options.folders) await this.joinOwnSpaces([...joined.keys()], this.options.folders);
    const local = this.home.spaces();
    let opened = false;
    for (const space of local) {
      if (!joined.has(space.id) || this.spaces.has(space.id) || space.paused) continue;
      if (!fs.existsSync(space.path)) {
        this.log(`space ${space.id}: folder ${space.path} is missing; not syncing it`);
        continue;
      }
      const disk = await DiskReplica.open({
        root: space.path,
        stateDir: this.home.stateDir(space.id),
        user: this.identity.name,
        pool: this.pool,
        port: { send: (peer, message) => this.sendSync(space.id, peer, message) },
        onEvent: (event) => {
          this.log(`space ${space.id}: ${describeReplicaEvent(event)}`);
          this.options.onReplicaEvent?.(space.id, event);
        },
        engine: {
          isOpen: (path) => this.openFiles.has(nodePath.join(space.path, ...path.split('/'))),
          // The others refuse a reader's versions, so a reader never merges a conflict itself.
          mergesEdits: () => {
            const info = this.state?.spaces.find((s) => s.doc.id === space.id);
            return info !== undefined && this.roleOf(this.client.device.id, info).role !== 'reader';
          },
        },
        onScan: (report, paths) => {
          if (paths === undefined) this.log(`space ${space.id}: full scan done, ${report.changed} changed`);
        },
        ...(this.options.rescanMs ? { rescanMs: this.options.rescanMs } : {}),
      });
      const stateDir = this.home.stateDir(space.id);
      opened = true;
      this.spaces.set(space.id, {
        local: space,
        disk,
        up: new Set(),
        lastAnnounced: '',
        mailed: new MailPositions(nodePath.join(stateDir, 'mail.json')),
        cache: new MailBlockCache(nodePath.join(stateDir, 'mailblocks')),
        cacheUsed: true,
        mailing: false,
      });
      await disk.start();
      this.log(`space ${space.id}: syncing ${space.path}`);
    }
    for (const [id, open] of this.spaces) {
      if (joined.has(id) && local.some((s) => s.id === id && !s.paused)) continue;
      this.spaces.delete(id);
      await open.disk.close();
    }
    for (const id of this.spaces.keys()) for (const device of joinedDevices(joined.get(id)!)) this.connectIfBehind(id, device);
    // Items left in the mailbox for a space that was not open yet can be applied now.
    if (opened) await this.client.request({ t: 'fetchMailbox' }).catch(() => undefined);
  }

  /**
   * A user's devices sync every space the user joined: one joined on another device gets a
   * folder here too, named by its space note, or by its id until a note arrives.
   */
  private async joinOwnSpaces(joined: readonly string[], root: string): Promise<void> {
    const local = new Set(this.home.spaces().map((s) => s.id));
    const names = this.home.spaceNames();
    for (const id of joined) {
      if (local.has(id)) continue;
      if (names[id] === undefined && Date.now() - this.startedAt < NOTE_WAIT_MS) {
        // Its note may be on its way from a sibling device that signed in at the same moment.
        if (!this.noteTimer) this.noteTimer = setTimeout(() => this.schedule(), NOTE_WAIT_MS).unref();
        continue;
      }
      const path = freeFolder(root, names[id] ?? `shared-${id.slice(0, 8)}`);
      await DiskStore.initFolder(path);
      this.home.putSpace({ id, path });
      this.log(`space ${id}: joined on another device of this user; syncing it into ${path}`);
    }
  }

  /**
   * A device linked after a space was shared never got its note: this user's devices that know
   * the names tell each new sibling once.
   */
  private tellOwnDevicesNames(state: AccountState): void {
    const file = this.home.file('named-devices.json');
    let told: string[] = [];
    try {
      told = JSON.parse(fs.readFileSync(file, 'utf8')) as string[];
    } catch {
      // None told yet.
    }
    const fresh = state.user.devices.filter((d) => d.id !== this.client.device.id && !told.includes(d.id));
    if (fresh.length === 0) return;
    const names: Record<string, string> = { ...this.home.spaceNames() };
    for (const local of this.home.spaces()) names[local.id] = nodePath.basename(local.path);
    try {
      for (const [space, name] of Object.entries(names)) {
        if (isFolderName(name)) depositSealed(this.client, this.identity.keys, [{ ...state.user, devices: fresh }], encodeSpaceNote({ space, name }));
      }
    } catch {
      return; // Not connected: told at the next sign-in.
    }
    writeAtomic(file, JSON.stringify([...told, ...fresh.map((d) => d.id)]));
  }

  // ---- sync negotiation ---------------------------------------------------------------------

  private async tick(): Promise<void> {
    if (!this.client.connected) return;
    for (const [id, open] of this.spaces) {
      if (open.disk.replica.neededPaths().length === 0) {
        if (open.cacheUsed) {
          open.cacheUsed = false;
          open.cache.prune((hash) => open.disk.replica.holdsBlock(hash), MAIL_BLOCK_MAX_AGE_MS);
        }
      } else {
        const info = this.client.state?.spaces.find((x) => x.doc.id === id);
        if (info) for (const device of joinedDevices(info)) this.connectIfBehind(id, device);
      }
      if (!open.mailing) {
        open.mailing = true;
        void this.mailOffline(id, open).finally(() => (open.mailing = false));
      }
      const summary = toHex(open.disk.replica.summary());
      if (summary === open.lastAnnounced) continue;
      open.lastAnnounced = summary;
      this.client.request({ t: 'vector', space: id, hash: summary }).catch((err: unknown) => this.log(`announcing space ${id}: ${(err as Error).message}`));
      for (const device of open.up) this.channels.connect(device);
    }
  }

  /** Starts an engine session with a member device only when its vector differs from ours. */
  private connectIfBehind(space: string, device: string): void {
    const open = this.spaces.get(space);
    if (!open || open.up.has(device) || !this.online.has(device) || device === this.client.device.id) return;
    if (!this.publicKeys(device)) return; // Not a device this one trusts: never a session.
    // A device that never announced a vector has no replica of this space open (another device
    // of a member that did not join it here): nothing to sync with, and nobody to answer.
    const theirs = this.vectors.get(`${space}/${device}`);
    if (theirs === undefined) return;
    // Equal indexes can still leave blocks to fetch (a transfer cut short): those need a session too.
    if (theirs === toHex(open.disk.replica.summary()) && open.disk.replica.neededPaths().length === 0) return;
    open.up.add(device);
    void open.disk.replica.peerUp(device);
  }

  // ---- device-to-device messages ------------------------------------------------------------

  private sendSync(space: string, device: string, message: Message): void {
    if (message.type === 'blockRequest') {
      const open = this.spaces.get(space);
      const data = open?.cache.get(message.hash);
      if (open && data && data.length === message.size) {
        // Arrived by mail: answered here, as if from the device that was asked.
        setImmediate(() => void open.disk.replica.receive(device, { type: 'blockResponse', id: message.id, hash: message.hash, status: 'ok', data }));
        return;
      }
    }
    const frame = encodeMessage(message);
    const out = new Uint8Array(1 + 16 + frame.length);
    out[0] = KIND_SYNC;
    out.set(fromHex(space), 1);
    out.set(frame, 17);
    this.channels.send(device, out);
  }

  private onPlaintext(device: string, plaintext: Uint8Array): void {
    if (plaintext[0] === KIND_SYNC && plaintext.length > 17) {
      const space = toHex(plaintext.subarray(1, 17));
      const open = this.spaces.get(space);
      const info = this.state?.spaces.find((s) => s.doc.id === space);
      if (!open || !info) return;
      const { author, role } = this.roleOf(device, info);
      if (!role) {
        this.log(`space ${space}: refused a message from device ${device}, which is not a member`);
        return;
      }
      const message = decodeMessage(plaintext.subarray(17));
      if (role === 'reader' && message.type === 'index' && message.records.length > 0) {
        this.log(`space ${space}: refused ${message.records.length} changes from ${author!.name}, who may only read`);
        return;
      }
      if (message.type === 'hello' && message.knownIndexId === open.disk.replica.indexId) {
        open.mailed.set(device, { indexId: message.knownIndexId, sequence: message.knownSequence });
      }
      if (message.type === 'index') this.noteRemoteChanges(space, message.records);
      if (!open.up.has(device)) {
        open.up.add(device);
        void open.disk.replica.peerUp(device);
      }
      void open.disk.replica.receive(device, message);
    } else if (plaintext[0] === KIND_TYPING) this.onTypingNotice(device, plaintext.subarray(1));
    else if (plaintext[0] === KIND_COEDIT) this.coedit.receive(device, plaintext);
  }

  // ---- mailbox ------------------------------------------------------------------------------

  /** Deposits, for every offline member device, what it has not seen of this replica's index. */
  private async mailOffline(space: string, open: OpenSpace): Promise<void> {
    const info = this.client.state?.spaces.find((s) => s.doc.id === space);
    if (!info || this.roleOf(this.client.device.id, info).role === 'reader') return;
    const replica = open.disk.replica;
    for (const device of joinedDevices(info)) {
      if (device === this.client.device.id || this.online.has(device)) continue;
      // A device that is only reconnecting gets its changes live in a moment.
      if (Date.now() - (this.offlineSince.get(device) ?? 0) < MAIL_AFTER_OFFLINE_MS) continue;
      const at = open.mailed.get(device);
      const from = at && at.indexId === replica.indexId ? at.sequence : 0;
      if (replica.sequence <= from) continue;
      const keys = this.publicKeys(device);
      if (!keys) continue;
      const stillOffline = (): boolean => !this.online.has(device) && !this.closed;
      const { items, upTo, nothingNew } = mailItems(open.disk, space, from, device);
      if (nothingNew) {
        open.mailed.set(device, { indexId: replica.indexId, sequence: upTo });
        continue;
      }
      const problems = this.quotaProblems;
      let count = 0;
      for await (const item of items) {
        // Back meanwhile: the live session brings it up to date; what was deposited so far does no harm.
        if (!stillOffline()) return;
        const box = sealFor(this.identity.keys, this.client.device.id, keys, device, item);
        if (!this.client.deposit(crypto.randomBytes(16).toString('hex'), [device], box)) return;
        count++;
        // The next item is read from disk only once the socket has room: memory stays bounded.
        if (!(await this.client.drained(MAIL_BUFFER_BYTES))) return;
        if (this.quotaProblems !== problems) return;
      }
      // A reply after the deposits means the server has handled them; only then is the position kept.
      await this.client.request({ t: 'state' });
      if (this.quotaProblems !== problems) return;
      open.mailed.set(device, { indexId: replica.indexId, sequence: upTo });
      this.log(`space ${space}: mailed changes up to ${upTo} to offline device ${device} (${count} items)`);
    }
  }

  /** Applies a sync item from the mailbox; false when the space is not open here. */
  private async applyMail(sender: string, payload: Uint8Array): Promise<boolean> {
    const { space, messages } = decodeMailItem(payload);
    const open = this.spaces.get(space);
    const info = this.client.state?.spaces.find((s) => s.doc.id === space);
    if (!open || !info) return false;
    const { role } = this.roleOf(sender, info);
    if (!role || role === 'reader') throw new Error(`device ${sender} may not change space ${space}`);
    if (!open.up.has(sender)) {
      open.up.add(sender);
      await open.disk.replica.peerUp(sender);
    }
    for (const message of messages) {
      if (message.type === 'blockResponse') {
        if (message.status === 'ok' && equalBytes(this.hasher.sha256(message.data), message.hash)) open.cache.put(message.hash, message.data);
      } else if (message.type === 'index') {
        this.noteRemoteChanges(space, message.records);
        await open.disk.replica.receive(sender, message);
        open.cacheUsed = true;
      }
    }
    return true;
  }

  private async onDelivery(item: string, sender: string, box: Uint8Array): Promise<void> {
    const keys = this.publicKeys(sender);
    try {
      if (!keys) throw new Error(`unknown sender device ${sender}`);
      const payload = openSealed(this.identity.keys, this.client.device.id, keys, sender, box);
      const chat = parseChat(payload);
      const note = parseSpaceNote(payload);
      if (payload[0] === MAIL_SYNC) {
        if (!(await this.applyMail(sender, payload))) return; // Not joined here yet: left in the mailbox.
      } else if (chat) {
        const user = this.allUsers().find((u) => u.devices.some((d) => d.id === sender));
        if (!user || user.id !== chat.from) throw new Error(`chat from device ${sender} claims another user`);
        const me = this.client.state?.user.id;
        const group = this.client.state?.spaces.find((x) => x.doc.id === chat.conversation);
        const allowed = group ? group.status[user.id] === 'joined' : chat.conversation === me || user.id === me;
        if (!allowed) throw new Error(`chat from ${user.name} for a conversation they are not in`);
        // A direct message is filed under the sender; a group message under its space.
        const entry = { ...chat, conversation: chat.conversation === this.client.state?.user.id ? user.id : chat.conversation };
        if (appendChatHistory(this.home, entry)) this.options.onChat?.(entry);
      } else if (note) {
        const space = this.client.state?.spaces.find((x) => x.doc.id === note.space);
        if (!space || !this.roleOf(sender, space).role) throw new Error(`a note about space ${note.space} from a device that is not a member`);
        // This user's own name for its copy wins over the sharer's.
        const fromSibling = this.client.state?.user.devices.some((d) => d.id === sender) === true;
        const known = this.home.spaceNames()[note.space];
        if (known !== note.name && (known === undefined || fromSibling)) this.home.putSpaceName(note.space, note.name);
      } else throw new Error('unknown mailbox payload');
    } catch (err) {
      this.log(`mailbox item ${item} from ${sender} dropped: ${(err as Error).message}`);
    }
    // Acknowledged whether or not it could be used: a bad item must not block the mailbox.
    this.acknowledge(item);
  }

  private acknowledge(item: string): void {
    void this.client.request({ t: 'ack', items: [item] }).catch((err: unknown) => this.log(`ack ${item}: ${(err as Error).message}`));
  }

  // ---- what the extension asks for ----------------------------------------------------------

  /** Looks at the home and the account state again now (a space was added, paused or left). */
  refresh(): Promise<void> {
    this.schedule();
    return this.reconcile;
  }

  /** Files open in editors, as absolute paths. */
  setOpenFiles(paths: readonly string[]): void {
    this.openFiles = new Set(paths.map((p) => nodePath.resolve(p)));
  }

  setLimits(limitUp: number | undefined, limitDown: number | undefined): void {
    this.client.setLimits(limitUp, limitDown);
  }

  /** What a space still has to fetch, and its engine's state; undefined when it is not open. */
  progress(space: string): { files: number; bytes: number; state: ReplicaState; behind: number } | undefined {
    const open = this.spaces.get(space);
    if (!open) return undefined;
    const replica = open.disk.replica;
    const needed = replica.neededPaths();
    let bytes = 0;
    for (const path of needed) bytes += replica.record(path)?.size ?? 0;
    const summary = toHex(replica.summary());
    const info = this.client.state?.spaces.find((s) => s.doc.id === space);
    // A reader's copy may hold changes nobody takes from it, so it differs for good: between a
    // reader and the others, differing vectors say nothing about being in sync.
    const mine = info ? this.roleOf(this.client.device.id, info).role : undefined;
    const others = info && mine !== 'reader' ? joinedDevices(info).filter((d) => d !== this.client.device.id && this.online.has(d) && this.roleOf(d, info).role !== 'reader') : [];
    const behind = others.filter((d) => this.vectors.has(`${space}/${d}`) && this.vectors.get(`${space}/${d}`) !== summary).length;
    return { files: needed.length, bytes, state: replica.state(), behind };
  }

  /**
   * Tells the online devices of a conversation (a contact's user id or a joined space's id) that
   * this user is typing: over the encrypted channels only, so nobody offline ever gets it.
   */
  sendTyping(conversation: string): number {
    const state = this.client.state;
    if (!state) return 0;
    const space = state.spaces.find((s) => s.doc.id === conversation && s.status[state.user.id] === 'joined');
    const contact = state.contacts.find((c) => c.id === conversation);
    const users = space ? space.users.filter((u) => space.status[u.id] === 'joined') : contact ? [contact, state.user] : [];
    const body = new TextEncoder().encode(JSON.stringify({ conversation }));
    const payload = new Uint8Array(1 + body.length);
    payload[0] = KIND_TYPING;
    payload.set(body, 1);
    let sent = 0;
    for (const user of users) {
      for (const device of user.devices) {
        if (device.id === this.client.device.id || !this.online.has(device.id)) continue;
        if (this.channels.send(device.id, payload)) sent++;
      }
    }
    return sent;
  }

  private onTypingNotice(device: string, body: Uint8Array): void {
    const state = this.client.state;
    const user = this.allUsers().find((u) => u.devices.some((d) => d.id === device));
    if (!state || !user) return;
    let conversation: unknown;
    try {
      conversation = (JSON.parse(new TextDecoder().decode(body)) as { conversation?: unknown }).conversation;
    } catch {
      return;
    }
    if (typeof conversation !== 'string') return;
    const group = state.spaces.find((s) => s.doc.id === conversation);
    const allowed = group ? group.status[user.id] === 'joined' && group.status[state.user.id] === 'joined' : conversation === state.user.id || user.id === state.user.id;
    if (!allowed || user.id === state.user.id) return;
    // A direct conversation is filed under the other user, as chat is.
    this.options.onTyping?.(group ? conversation : user.id, user);
  }

  /** Reports the records of an index batch that change something here, by author, once per version. */
  private noteRemoteChanges(space: string, records: readonly FileRecord[]): void {
    const open = this.spaces.get(space);
    if (!open || !this.options.onRemoteChanges) return;
    const byAuthor = new Map<string, string[]>();
    for (const r of records) {
      if (r.type === 'directory' && !r.deleted) continue;
      const local = open.disk.replica.record(r.path);
      if (local && sameRecord(local, r)) continue;
      const key = `${space}/${r.path}`;
      const version = r.version.map((e) => `${e.id}:${e.counter}`).join(',');
      if (this.reported.get(key) === version) continue;
      if (this.reported.size > 100_000) this.reported.clear();
      this.reported.set(key, version);
      const paths = byAuthor.get(r.modifiedBy) ?? [];
      paths.push(r.path);
      byAuthor.set(r.modifiedBy, paths);
    }
    for (const [author, paths] of byAuthor) this.options.onRemoteChanges(space, author, paths);
  }

  // ---- status -------------------------------------------------------------------------------

  /** With `conflicts`, the caller lists each replica's conflicts (the extension's host caches them: listing walks the index). */
  status(options: { conflicts?: (space: string, replica: Replica) => readonly ConflictInfo[] } = {}): AgentStatus {
    const state = this.client.state;
    const base = DeviceAgent.statusFrom(this.home, this.client.device.id, state, this.client.connected, {
      summary: (space) => {
        const open = this.spaces.get(space);
        return open && open.disk.replica.neededPaths().length === 0 ? toHex(open.disk.replica.summary()) : undefined;
      },
      vector: (space, device) => this.vectors.get(`${space}/${device}`),
      presence: (user) => this.presence.get(user),
    });
    const conflicts: AgentStatus['conflicts'] = [];
    const errors: AgentStatus['errors'] = [];
    for (const [id, open] of this.spaces) {
      for (const c of options.conflicts?.(id, open.disk.replica) ?? open.disk.replica.conflicts()) conflicts.push({ space: id, path: c.path, copy: c.copyPath });
      for (const [path, problem] of open.disk.replica.errors()) errors.push({ space: id, path, message: problem.message });
    }
    return { ...base, conflicts, errors, bytesSent: this.channels.bytesSent, bytesReceived: this.channels.bytesReceived };
  }

  /**
   * Status from the account state alone, as far as it goes: a space is in sync when this device's
   * summary (or, without a running replica, the vector it last announced) equals every other
   * member device's announced vector.
   */
  static statusFrom(
    home: DeviceHome,
    device: string,
    state: AccountState | undefined,
    connected: boolean,
    live?: { summary(space: string): string | undefined; vector(space: string, device: string): string | undefined; presence(user: string): Presence | undefined },
  ): AgentStatus {
    const announced = (space: string, d: string): string | undefined => live?.vector(space, d) ?? state?.vectors.find((v) => v.space === space && v.device === d)?.hash;
    const presenceOf = (user: string): Presence =>
      user === state?.user.id ? 'online' : (live?.presence(user) ?? state?.contacts.find((c) => c.id === user)?.presence ?? 'offline');
    const spaces: SpaceStatus[] = home.spaces().map((local) => {
      const info = state?.spaces.find((s) => s.doc.id === local.id);
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
      errors: [],
      bytesSent: 0,
      bytesReceived: 0,
      contacts: (state?.contacts ?? []).map((c) => ({ id: c.id, name: c.name, presence: presenceOf(c.id) })),
    };
  }

  /** Conflicts recorded in the saved replica states (no daemon running). */
  static async savedConflicts(home: DeviceHome): Promise<AgentStatus['conflicts']> {
    const out: AgentStatus['conflicts'] = [];
    for (const local of home.spaces()) {
      if (!fs.existsSync(local.path)) continue;
      const disk = await DiskReplica.open({ root: local.path, stateDir: home.stateDir(local.id), user: '', watch: false, port: { send: () => undefined } });
      try {
        for (const c of disk.replica.conflicts()) out.push({ space: local.id, path: c.path, copy: c.copyPath });
      } finally {
        await disk.close();
      }
    }
    return out;
  }

  // ---- directory ----------------------------------------------------------------------------

  private allUsers(): UserInfo[] {
    const state = this.client.state;
    if (!state) return [];
    return [state.user, ...state.contacts, ...state.spaces.flatMap((s) => s.users)];
  }

  private devicesOf(user: string): string[] {
    const u = this.allUsers().find((x) => x.id === user);
    return u ? u.devices.map((d) => d.id) : [];
  }


  /** The member behind a device and its role, if it has joined the space. */
  private roleOf(device: string, info: SpaceInfo): { author: UserInfo | undefined; role: Role | undefined } {
    const author = info.users.find((u) => u.devices.some((d) => d.id === device));
    const role = author && info.status[author.id] === 'joined' ? info.doc.members.find((m) => m.user === author.id)?.role : undefined;
    return { author, role };
  }

  private publicKeys(device: string): DevicePublicKeys | undefined {
    for (const u of this.allUsers()) {
      const d = u.devices.find((x) => x.id === device);
      if (d) return { signPublic: fromHex(d.signPublic), agreePublic: fromHex(d.agreePublic) };
    }
    return undefined;
  }

  private log(message: string): void {
    this.options.log?.(message);
  }
}

/** `root/name`, or `root/name (2)` and so on when a folder that is not empty is already there. */
function freeFolder(root: string, name: string): string {
  for (let n = 1; ; n++) {
    const path = nodePath.join(root, n === 1 ? name : `${name} (${n})`);
    try {
      if (fs.readdirSync(path).length === 0) return path;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return path;
      if ((err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err;
    }
  }
}

/** Every device of every member who has joined the space. */
function joinedDevices(info: SpaceInfo): string[] {
  return info.doc.members.filter((m) => info.status[m.user] === 'joined').flatMap((m) => info.users.find((u) => u.id === m.user)?.devices.map((d) => d.id) ?? []);
}
