/**
 * src/node/agent: one device of one user, running. The device agent here signs in, keeps a replica
 * per joined space and syncs each with the other member devices; beside it are the account
 * operations a user asks for (account.ts), the device's home on disk, chat, space notes,
 * invitation codes and the mailbox. The CLI's `run` and the engine host both drive the agent.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { toHex } from '../../sync/util/bytes';
import { printable } from '../../sync/util/printable';
import { SerialQueue } from '../../sync/util/serial-queue';
import type { Message } from '../../sync/protocol/messages';
import type { AccountState, Presence, UserInfo } from '../../sync/protocol/rendezvous';
import { DiskReplica } from '../disk/disk-replica';
import { trustFilter } from '../crypto/device-trust';
import type { Replica } from '../../sync/replica/replica';
import type { ReplicaEvent } from '../../sync/replica/replica-events';
import { ForeignSpaceError } from '../../sync/replica/root-identity';
import type { ConflictInfo, ReplicaState } from '../../sync/replica/replica-status';
import type { DeviceHome, Identity, LocalSpace } from './device-home';
import type { DeviceKeys } from '../crypto/device-keys';
import { FsWorkerPool } from '../workers/fs-worker-pool';
import { PeerChannels } from '../net/peer-channels';
import { DirectLinks, type ListenAddress } from '../net/direct-links';
import { LanDiscovery } from '../net/lan-discovery';
import { RendezvousClient } from '../net/rendezvous-client';
import type { ChatEntry } from './chat';
import { MAIL_CACHE_BUDGET_BYTES, MailBlockCache, MailPositions } from '../net/mail-sync';
import { describeReplicaEvent } from './replica-event-text';
import { CoeditRouter } from '../coedit/coedit-router';
import type { ActiveEditorView, CoeditPeerView } from '../engine/engine-protocol';
import { devicesOf, joinedDevices, publicKeysOf, roleOf, spaceInfo, userOfDevice } from '../net/account-directory';
import { DeviceRouter } from '../net/device-router';
import { agentConflict, statusFrom, type AgentStatus } from './agent-status';
import { MAIL_BLOCK_MAX_AGE_MS, Mailbox } from './mailbox';
import type { OpenSpace } from './open-space';
import { RemoteChanges, describeRemoteChanges } from './remote-changes';
import { SiblingSpaces } from './sibling-spaces';

/** How often blocks from the mailbox that no pending version needs any more are dropped. */
const MAIL_CACHE_PRUNE_MS = 5_000;

export interface AgentOptions {
  readonly log?: (message: string) => void;
  /** How often replicas tick and vectors are announced. */
  readonly tickMs?: number;
  readonly rescanMs?: number;
  readonly onChat?: (message: ChatEntry) => void;
  /** Bandwidth limits for this device's traffic, bytes per second. */
  readonly limitUp?: number;
  /** A private CA's PEM file to trust for wss://. */
  readonly caFile?: string;
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
  /**
   * Direct links to other devices (PROTOCOL.md R8): where to listen, and (tests only) the
   * addresses to announce instead. Without it every byte goes through the server's relay.
   */
  readonly direct?: { readonly listen: ListenAddress; readonly advertise?: readonly string[] };
}

/** How often the addresses this device listens at are looked at again (an interface came or went). */
const ADDRESSES_CHECK_MS = 30_000;

/**
 * One device, running: signed in to the server, holding a replica per joined space, and
 * syncing each with the other member devices over end-to-end encrypted channels. It composes
 * the channels, the message router, the mailbox and the co-editing router, and feeds them the
 * account state as the server sends it.
 */
export class DeviceAgent {
  private readonly spaces = new Map<string, OpenSpace>();
  private readonly vectors = new Map<string, string>();
  private readonly online = new Set<string>();
  private readonly presence = new Map<string, Presence>();
  private readonly pool = new FsWorkerPool();
  private readonly channels: PeerChannels;
  private links: DirectLinks | undefined;
  private lan: LanDiscovery | undefined;
  /** The addresses last told to other devices, joined; and when they were last looked at. */
  private announcedAddresses = '';
  private addressesCheckedAt = 0;
  private readonly router: DeviceRouter;
  private readonly mailbox: Mailbox;
  private readonly siblings: SiblingSpaces;
  private readonly remoteChanges: RemoteChanges;
  /** Live co-editing notices between member devices (channel kind 4). */
  readonly coedit: CoeditRouter;
  /** Passes that open and close replicas as the home and the account state change, one at a time. */
  private readonly reconciling = new SerialQueue();
  private timer: NodeJS.Timeout | undefined;
  private stopWatching: (() => void) | undefined;
  private closed = false;
  /** Spaces (id and path) refused because the folder belongs to another space: said once each. */
  private readonly refused = new Set<string>();
  /** Absolute paths of files open in editors: their blocks are fetched first. */
  private openFiles = new Set<string>();

  private constructor(
    readonly home: DeviceHome,
    readonly identity: Identity,
    readonly client: RendezvousClient,
    private readonly options: AgentOptions,
  ) {
    const log = (m: string): void => this.log(m);
    this.channels = new PeerChannels({
      keys: identity.keys,
      deviceId: client.device.id,
      lookup: (device) => publicKeysOf(this.client.state, device),
      relay: (device, payload) => client.relay(device, payload),
      direct: (device, payload) => this.links?.send(device, payload) ?? false,
      onMessage: (device, plaintext) => this.router.receive(device, plaintext),
      onReady: (device) => {
        this.log(`secure channel to device ${device} is up`);
        this.coedit.channelReady(device);
        if (this.links) this.router.sendDirectAddresses(device, this.links.addresses());
      },
      log,
    });
    this.router = new DeviceRouter({
      deviceId: client.device.id,
      state: () => this.client.state,
      isOnline: (device) => this.online.has(device),
      send: (device, plaintext) => this.channels.send(device, plaintext),
      isOpen: (space) => this.spaces.has(space),
      onSync: (space, device, message) => this.onSync(space, device, message),
      onCoedit: (device, plaintext) => this.coedit.receive(device, plaintext),
      onDirectAddresses: (device, addresses) => this.links?.learn(device, addresses),
      onTyping: (conversation, from) => options.onTyping?.(conversation, from),
      log,
    });
    this.remoteChanges = new RemoteChanges((space, author, paths) => {
      this.log(`space ${space}: ${describeRemoteChanges(author, paths)}`);
      options.onRemoteChanges?.(space, author, paths);
    });
    this.mailbox = new Mailbox({
      home,
      keys: identity.keys,
      client,
      spaces: this.spaces,
      isOnline: (device) => this.online.has(device),
      spacesOpened: () => this.reconciling.idle(),
      remoteChanges: this.remoteChanges,
      onChat: (entry) => options.onChat?.(entry),
      log,
    });
    this.siblings = new SiblingSpaces({ home, keys: identity.keys, client, recheck: () => this.schedule(), log });
    this.coedit = new CoeditRouter({
      directory: {
        member: (space, device) => {
          const info = spaceInfo(this.client.state, space);
          if (!info || device === this.client.device.id) return undefined;
          const { author, role } = roleOf(device, info);
          return author && role ? { user: author, role } : undefined;
        },
        reachable: (space) => {
          const info = spaceInfo(this.client.state, space);
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
      log,
    });
  }

  static async start(home: DeviceHome, options: AgentOptions = {}): Promise<DeviceAgent> {
    const identity = home.identity(options.keys);
    const client = new RendezvousClient({
      url: identity.server,
      keys: identity.keys,
      mode: 'session',
      reconnect: true,
      trust: trustFilter(home, options.log),
      ...(options.log ? { log: options.log } : {}),
      ...(options.limitUp ? { limitUp: options.limitUp } : {}),
      ...(options.limitDown ? { limitDown: options.limitDown } : {}),
      ...(options.caFile !== undefined ? { caFile: options.caFile } : {}),
    });
    const agent = new DeviceAgent(home, identity, client, options);
    if (options.direct) {
      try {
        await agent.startDirect(options.direct);
      } catch (err) {
        await agent.close();
        throw err;
      }
    }
    client.on('connected', (state) => agent.onState(state, true));
    client.on('state', (state) => agent.onState(state, false));
    client.on('presence', (user, presence, devices) => agent.onPresence(user, presence, devices));
    client.on('vector', (space, device, hash) => agent.onVector(space, device, hash));
    client.on('relay', (device, payload) => agent.channels.onRelay(device, payload));
    client.on('delivery', (item, sender, payload) => agent.mailbox.deliver(item, sender, payload));
    client.on('disconnected', (reason) => agent.onDisconnected(reason));
    client.on('problem', (code, message) => {
      if (code === 'quota') agent.mailbox.quotaExceeded();
      agent.log(`server: ${code}: ${printable(message)}`);
    });
    const connecting = client.connect();
    if (options.connectInBackground)
      connecting.catch((err: unknown) => agent.log(`signing in failed: ${printable((err as Error).message)}`));
    else await connecting;
    agent.stopWatching = home.watchSpaces(() => agent.schedule());
    agent.timer = setInterval(() => void agent.tick(), options.tickMs ?? 500);
    return agent;
  }

  get state(): AccountState | undefined {
    return this.client.state;
  }

  /** Listens for direct links, and on the LAN for where other devices listen; throws DirectListenError. */
  private async startDirect(direct: NonNullable<AgentOptions['direct']>): Promise<void> {
    const log = (m: string): void => this.log(m);
    const lookup = (device: string): ReturnType<typeof publicKeysOf> => publicKeysOf(this.client.state, device);
    const links = await DirectLinks.start({
      keys: this.identity.keys,
      deviceId: this.client.device.id,
      lookup,
      listen: direct.listen,
      onPayload: (device, payload) => this.channels.onDirect(device, payload),
      fallback: (device, payloads) => {
        for (const p of payloads) this.channels.relayed(device, p);
      },
      onPathChange: () => undefined,
      limits: () => this.client.limiters,
      log,
      ...(direct.advertise ? { advertise: direct.advertise } : {}),
    });
    this.links = links;
    this.announcedAddresses = links.addresses().join(' ');
    this.addressesCheckedAt = Date.now();
    this.log(`accepting direct links on ${direct.listen.host}:${links.port}`);
    this.lan = await LanDiscovery.start({
      keys: this.identity.keys,
      deviceId: this.client.device.id,
      listenHost: direct.listen.host,
      tcpPort: () => links.port,
      lookup,
      onCandidate: (device, address) => links.learn(device, [address]),
      log,
    });
  }

  /** Tells the devices with a channel up where this one listens, when that changed. */
  private checkAddresses(): void {
    const links = this.links;
    if (!links || Date.now() - this.addressesCheckedAt < ADDRESSES_CHECK_MS) return;
    this.addressesCheckedAt = Date.now();
    const now = links.addresses();
    if (now.join(' ') === this.announcedAddresses) return;
    this.announcedAddresses = now.join(' ');
    this.log(`accepting direct links at ${now.join(', ') || 'no address'}`);
    for (const device of this.online) if (this.channels.isReady(device)) this.router.sendDirectAddresses(device, now);
    this.lan?.announce();
  }

  /** How this device reaches another now: its direct link, or the server's relay. */
  pathTo(device: string): 'direct' | 'relay' {
    return this.links?.isDirect(device) ? 'direct' : 'relay';
  }

  replica(space: string): DiskReplica | undefined {
    return this.spaces.get(space)?.disk;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.lan?.close();
    await this.links?.close();
    this.mailbox.close();
    clearInterval(this.timer);
    this.siblings.close();
    this.stopWatching?.();
    await this.reconciling.idle();
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
    this.links?.recheck();
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
    for (const device of devicesOf(this.client.state, user)) {
      const isOnline = devices.includes(device);
      if (isOnline) {
        if (!this.online.has(device)) {
          this.online.add(device);
          if (device !== this.client.device.id) this.coedit.deviceOnline(device);
        }
      } else if (this.online.delete(device)) {
        this.mailbox.wentOffline(device);
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
    this.log(`disconnected from the server: ${printable(reason)}`);
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
    void this.reconciling.run(() =>
      this.openSpaces().catch((err: unknown) => this.log(`opening spaces failed: ${printable((err as Error).message)}`)),
    );
  }

  /** Opens a replica for every local space this user has joined; closes those that went away. */
  private async openSpaces(): Promise<void> {
    if (this.closed) return;
    const state = this.client.state;
    if (!state) return;
    const joined = new Map(state.spaces.filter((s) => s.status[state.user.id] === 'joined').map((s) => [s.doc.id, s]));
    this.siblings.tellNewSiblings(state);
    if (this.options.folders) await this.siblings.join([...joined.keys()], this.options.folders);
    const local = this.home.spaces();
    // Closed first: a space left or paused, and one whose folder the home now names elsewhere
    // (another process changed it), which opens again below at its new path. The replica's state
    // goes with it; its root identity keeps that state off the new folder (root-identity.ts).
    for (const [id, open] of this.spaces) {
      const now = local.find((s) => s.id === id);
      if (joined.has(id) && now && !now.paused && now.path === open.local.path && sameSettings(now, open.local)) continue;
      this.spaces.delete(id);
      await open.disk.close();
      if (joined.has(id) && now && !now.paused && now.path !== open.local.path)
        this.log(`space ${id}: its folder is now ${now.path}, no longer ${open.local.path}`);
    }
    let opened = false;
    for (const space of local) {
      if (!joined.has(space.id) || this.spaces.has(space.id) || space.paused) continue;
      if (!fs.existsSync(space.path)) {
        this.log(`space ${space.id}: folder ${space.path} is missing; not syncing it`);
        continue;
      }
      const disk = await this.openReplica(space);
      if (!disk) continue;
      const stateDir = this.home.stateDir(space.id);
      opened = true;
      this.spaces.set(space.id, {
        local: space,
        disk,
        up: new Set(),
        lastAnnounced: '',
        mailed: new MailPositions(nodePath.join(stateDir, 'mail.json')),
        cache: new MailBlockCache(nodePath.join(stateDir, 'mailblocks'), space.mailCacheBytes ?? MAIL_CACHE_BUDGET_BYTES),
        mailing: false,
        cachePrunedAt: 0,
      });
      await disk.start();
      this.log(`space ${space.id}: syncing ${space.path}`);
    }
    for (const id of this.spaces.keys()) for (const device of joinedDevices(joined.get(id)!)) this.connectIfBehind(id, device);
    // Items left in the mailbox for a space that was not open yet can be applied now.
    if (opened) await this.client.request({ t: 'fetchMailbox' }).catch(() => undefined);
  }

  /** The space's replica at its folder; undefined, said once, when the folder belongs to another space. */
  private async openReplica(space: LocalSpace): Promise<DiskReplica | undefined> {
    try {
      return await DiskReplica.open({
        root: space.path,
        stateDir: this.home.stateDir(space.id),
        space: space.id,
        syncGit: space.syncGit ?? false,
        user: this.identity.name,
        pool: this.pool,
        port: { send: (peer, message) => this.sendSync(space.id, peer, message) },
        onEvent: (event) => {
          // The pause waits for the user: say how to answer it where they read this line.
          const answer =
            event.kind === 'paused'
              ? `; answer in the Shared Folders view or with "shared-folders deletes --space ${space.id} --answer apply|restore"`
              : '';
          const userOf = (device: string): string | undefined => userOfDevice(this.client.state, device)?.name;
          this.log(`space ${space.id}: ${describeReplicaEvent(event, userOf)}${answer}`);
          this.options.onReplicaEvent?.(space.id, event);
        },
        engine: {
          // Asked for every block a sync wants: no path is built while no file is open.
          isOpen: (path) => this.openFiles.size > 0 && this.openFiles.has(nodePath.join(space.path, ...path.split('/'))),
          // The others refuse a reader's versions, so a reader never merges a conflict itself.
          mergesEdits: () => {
            const info = spaceInfo(this.state, space.id);
            return info !== undefined && roleOf(this.client.device.id, info).role !== 'reader';
          },
        },
        onScan: (report, paths) => {
          if (paths === undefined) this.log(`space ${space.id}: full scan done, ${report.changed} changed`);
        },
        ...(this.options.rescanMs ? { rescanMs: this.options.rescanMs } : {}),
      });
    } catch (err) {
      if (!(err instanceof ForeignSpaceError)) throw err;
      const said = `${space.id}\n${space.path}`;
      if (!this.refused.has(said)) {
        this.refused.add(said);
        this.log(`space ${space.id}: folder ${space.path} belongs to another shared folder (space ${err.other}); not syncing it`);
      }
      return undefined;
    }
  }

  // ---- sync negotiation ---------------------------------------------------------------------

  private async tick(): Promise<void> {
    this.checkAddresses();
    if (!this.client.connected) return;
    for (const [id, open] of this.spaces) {
      // Blocks from the mailbox go soon after no version still to be written needs them: every
      // few seconds, as finding which are still needed walks every pending version (at every
      // tick, that was 2% of the engine's thread in a first sync of 10,000 files).
      if (open.cache.size > 0 && Date.now() - open.cachePrunedAt >= MAIL_CACHE_PRUNE_MS) {
        open.cachePrunedAt = Date.now();
        const pending = open.disk.replica.pendingBlocks();
        open.cache.prune((hash) => pending.has(hash), MAIL_BLOCK_MAX_AGE_MS);
      }
      if (open.disk.replica.neededPaths().length > 0) {
        const info = spaceInfo(this.client.state, id);
        if (info) for (const device of joinedDevices(info)) this.connectIfBehind(id, device);
      }
      if (!open.mailing) {
        open.mailing = true;
        void this.mailbox.mailOffline(id, open).finally(() => (open.mailing = false));
      }
      const summary = toHex(open.disk.replica.summary());
      if (summary === open.lastAnnounced) continue;
      open.lastAnnounced = summary;
      this.client
        .request({ t: 'vector', space: id, hash: summary })
        .catch((err: unknown) => this.log(`announcing space ${id}: ${printable((err as Error).message)}`));
      for (const device of open.up) this.channels.connect(device);
    }
  }

  /** Starts an engine session with a member device only when its vector differs from ours. */
  private connectIfBehind(space: string, device: string): void {
    const open = this.spaces.get(space);
    if (!open || open.up.has(device) || !this.online.has(device) || device === this.client.device.id) return;
    if (!publicKeysOf(this.client.state, device)) return; // Not a device this one trusts: never a session.
    // A device that never announced a vector has no replica of this space open (another device
    // of a member that did not join it here): nothing to sync with, and nobody to answer.
    const theirs = this.vectors.get(`${space}/${device}`);
    if (theirs === undefined) return;
    // Equal indexes can still leave blocks to fetch (a transfer cut short): those need a session too.
    if (theirs === toHex(open.disk.replica.summary()) && open.disk.replica.neededPaths().length === 0) return;
    open.up.add(device);
    void open.disk.replica.peerUp(device);
  }

  private sendSync(space: string, device: string, message: Message): void {
    if (message.type === 'blockRequest') {
      const open = this.spaces.get(space);
      const data = open?.cache.get(message.hash);
      if (open && data && data.length === message.size) {
        // Arrived by mail: answered here, as if from the device that was asked.
        setImmediate(
          () => void open.disk.replica.receive(device, { type: 'blockResponse', id: message.id, hash: message.hash, status: 'ok', data }),
        );
        return;
      }
    }
    this.router.sendSync(space, device, message);
  }

  /** A replica frame from a member device, checked by the router. */
  private onSync(space: string, device: string, message: Message): void {
    const open = this.spaces.get(space);
    if (!open) return;
    if (message.type === 'hello' && message.knownIndexId === open.disk.replica.indexId) {
      open.mailed.set(device, { indexId: message.knownIndexId, sequence: message.knownSequence });
    }
    if (message.type === 'index') this.remoteChanges.note(space, open.disk.replica, message.records);
    if (!open.up.has(device)) {
      open.up.add(device);
      void open.disk.replica.peerUp(device);
    }
    void open.disk.replica.receive(device, message);
  }

  // ---- what the extension asks for ----------------------------------------------------------

  /** Looks at the home and the account state again now (a space was added, paused or left). */
  refresh(): Promise<void> {
    this.schedule();
    return this.reconciling.idle();
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
    const info = spaceInfo(this.client.state, space);
    // A reader's copy may hold changes nobody takes from it, so it differs for good: between a
    // reader and the others, differing vectors say nothing about being in sync.
    const mine = info ? roleOf(this.client.device.id, info).role : undefined;
    const others =
      info && mine !== 'reader'
        ? joinedDevices(info).filter((d) => d !== this.client.device.id && this.online.has(d) && roleOf(d, info).role !== 'reader')
        : [];
    const behind = others.filter((d) => this.vectors.has(`${space}/${d}`) && this.vectors.get(`${space}/${d}`) !== summary).length;
    return { files: needed.length, bytes, state: replica.state(), behind };
  }

  /** Tells the online devices of a conversation that this user is typing; how many were told. */
  sendTyping(conversation: string): number {
    return this.router.sendTyping(conversation);
  }

  /** With `conflicts`, the caller lists each replica's conflicts (the extension's host caches them: listing walks the index). */
  status(options: { conflicts?: (space: string, replica: Replica) => readonly ConflictInfo[] } = {}): AgentStatus {
    const state = this.client.state;
    const base = statusFrom(this.home, this.client.device.id, state, this.client.connected, {
      summary: (space) => {
        const open = this.spaces.get(space);
        return open && open.disk.replica.neededPaths().length === 0 ? toHex(open.disk.replica.summary()) : undefined;
      },
      vector: (space, device) => this.vectors.get(`${space}/${device}`),
      presence: (user) => this.presence.get(user),
    });
    const conflicts: AgentStatus['conflicts'] = [];
    const errors: AgentStatus['errors'] = [...base.errors];
    for (const [id, open] of this.spaces) {
      for (const c of options.conflicts?.(id, open.disk.replica) ?? open.disk.replica.conflicts()) conflicts.push(agentConflict(id, c));
      for (const [path, problem] of open.disk.replica.errors()) errors.push({ space: id, path, message: problem.message });
    }
    const spaces = base.spaces.map((s) => {
      const cache = this.spaces.get(s.id)?.cache;
      return cache ? { ...s, mailCache: { bytes: cache.bytes, blocks: cache.size, budget: cache.budget } } : s;
    });
    const me = this.client.device.id;
    const peers = [...this.online]
      .filter((d) => d !== me && this.channels.isReady(d))
      .sort()
      .map((device) => {
        const user = userOfDevice(state, device);
        return { device, user: user?.id ?? '', name: user?.name ?? '', path: this.pathTo(device) };
      });
    return {
      ...base,
      spaces,
      conflicts,
      errors,
      bytesSent: this.channels.bytesSent,
      bytesReceived: this.channels.bytesReceived,
      peers,
      direct: {
        enabled: this.links !== undefined,
        listening: this.links ? this.links.addresses() : [],
        bytesSentDirect: this.channels.bytesDirect,
        bytesSentRelay: this.channels.bytesRelayed,
      },
    };
  }

  private log(message: string): void {
    this.options.log?.(message);
  }
}

/** Whether a space opened with `a`'s settings can stay open under `b`'s. */
function sameSettings(a: LocalSpace, b: LocalSpace): boolean {
  return (a.syncGit ?? false) === (b.syncGit ?? false) && a.mailCacheBytes === b.mailCacheBytes;
}
