import * as crypto from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as nodePath from 'node:path';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  authSigningBytes,
  decodeDeposit,
  decodeRelay,
  encodeDelivery,
  encodeRelay,
  endorsementSigningBytes,
  FRAME_DEPOSIT,
  FRAME_RELAY,
  linkKeySigningBytes,
  mayChangeSpace,
  parseClientMessage,
  RENDEZVOUS_VERSION,
  RendezvousError,
  spaceDocSigningBytes,
  type AccountState,
  type ClientRequest,
  type ContactInfo,
  type DeviceInfo,
  type MemberStatus,
  type Presence,
  type ServerMessage,
  type SpaceInfo,
  type UserInfo,
} from '../sync/protocol/rendezvous';
import { deviceIdMatches, verifyEd25519 } from './device-proof';
import { jsonLog, type JsonLog } from './json-log';
import type { ServerStore } from './server-store';
import { ServerMetrics } from './server-metrics';
import { SqliteStore } from './sqlite-store';
import { TokenBucket } from '../sync/util/token-bucket';

export interface ServerLimits {
  /** Largest WebSocket message; larger ones close the connection (1009). */
  readonly maxFrameBytes: number;
  /** Time a connection has to sign in. */
  readonly authTimeoutMs: number;
  readonly messagesPerSecond: number;
  readonly bytesPerSecond: number;
  /** Bytes a user's devices may have waiting in the mailbox. */
  readonly mailboxQuotaBytes: number;
  readonly heartbeatMs: number;
  readonly tokenTtlMs: number;
  /** Mailbox items sent to a device before it acknowledges. */
  readonly mailboxWindow: number;
  /** Payload bytes sent to a device before it acknowledges (one item is always allowed). */
  readonly mailboxWindowBytes: number;
  /** Undelivered mailbox items are dropped after this long. */
  readonly mailboxTtlMs: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxFrameBytes: 16 * 1024 * 1024,
  authTimeoutMs: 10_000,
  messagesPerSecond: 5_000,
  bytesPerSecond: 256 * 1024 * 1024,
  mailboxQuotaBytes: 1024 * 1024 * 1024,
  heartbeatMs: 30_000,
  tokenTtlMs: 7 * 24 * 3600 * 1000,
  mailboxWindow: 32,
  mailboxWindowBytes: 32 * 1024 * 1024,
  mailboxTtlMs: 90 * 24 * 3600 * 1000,
};

export interface ServerOptions {
  readonly host?: string;
  readonly port?: number;
  /** Where the SQLite file lives, unless `store` is given. */
  readonly dataDir?: string;
  readonly store?: ServerStore;
  readonly limits?: Partial<ServerLimits>;
  readonly log?: JsonLog;
}

/** WebSocket close codes used for bad input. */
export const CLOSE_POLICY = 1008;
export const CLOSE_TOO_BIG = 1009;
export const CLOSE_AUTH_TIMEOUT = 4001;
export const CLOSE_RATE = 4002;
export const CLOSE_REPLACED = 4003;

interface Connection {
  readonly socket: WebSocket;
  readonly remote: string;
  nonce?: string;
  hello?: DeviceInfo;
  device?: DeviceInfo;
  user?: string;
  presence: 'online' | 'away';
  alive: boolean;
  readonly messages: TokenBucket;
  readonly bytes: TokenBucket;
  /** Mailbox items sent and not yet acknowledged. */
  /** Mailbox items delivered and not yet acknowledged, with their sizes. */
  readonly inFlight: Map<string, number>;
  /** Users whose devices this one may reach: itself, contacts, fellow members. */
  peers?: Set<string>;
  authTimer?: NodeJS.Timeout;
  /** Requests are handled one at a time per connection, in order. */
  queue: Promise<void>;
}

/**
 * The rendezvous server: devices sign in by key, find their contacts and spaces, and exchange
 * end-to-end encrypted frames through it, live (relay) or later (mailbox). It routes by device
 * id and never sees plaintext.
 */
export class RendezvousServer {
  private readonly byDevice = new Map<string, Connection>();
  private readonly byUser = new Map<string, Set<Connection>>();
  readonly metrics = new ServerMetrics();
  private heartbeat: NodeJS.Timeout | undefined;

  private constructor(
    private readonly http: http.Server,
    private readonly wss: WebSocketServer,
    readonly store: ServerStore,
    private readonly limits: ServerLimits,
    private readonly log: JsonLog,
  ) {}

  static async start(options: ServerOptions = {}): Promise<RendezvousServer> {
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    const store = options.store ?? SqliteStore.open(options.dataDir ?? nodePath.join(process.cwd(), 'shared-folders-data'));
    const log = options.log ?? jsonLog();
    const server = http.createServer();
    const wss = new WebSocketServer({ server, maxPayload: limits.maxFrameBytes });
    const rendezvous = new RendezvousServer(server, wss, store, limits, log);
    server.on('request', (req, res) => void rendezvous.onHttp(req, res));
    wss.on('connection', (socket, req) => rendezvous.onConnection(socket, req.socket.remoteAddress ?? '?'));
    wss.on('error', (err) => log('wsError', { message: err.message }));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 7070, options.host ?? '127.0.0.1', () => resolve());
    });
    rendezvous.heartbeat = setInterval(() => rendezvous.beat(), limits.heartbeatMs);
    rendezvous.heartbeat.unref();
    log('listening', { host: options.host ?? '127.0.0.1', port: rendezvous.port });
    return rendezvous;
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  get url(): string {
    const a = this.http.address() as AddressInfo;
    return `ws://${a.address}:${a.port}`;
  }

  async close(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
    await this.store.close();
    this.log('closed');
  }

  // ---- HTTP ---------------------------------------------------------------------------------

  private async onHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      if (req.method === 'GET' && req.url === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', version: RENDEZVOUS_VERSION }));
      } else if (req.method === 'GET' && req.url === '/metrics') {
        const body = this.metrics.render(await this.store.mailboxTotals());
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
      } else if (!res.headersSent && req.headers.upgrade === undefined) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
    } catch (err) {
      this.log('httpError', { message: (err as Error).message });
      if (!res.headersSent) res.writeHead(500).end();
    }
  }

  // ---- connections --------------------------------------------------------------------------

  private onConnection(socket: WebSocket, remote: string): void {
    const now = Date.now();
    const conn: Connection = {
      socket,
      remote,
      presence: 'online',
      alive: true,
      messages: new TokenBucket(this.limits.messagesPerSecond, this.limits.messagesPerSecond * 2, now),
      bytes: new TokenBucket(this.limits.bytesPerSecond, this.limits.bytesPerSecond * 2, now),
      inFlight: new Map(),
      queue: Promise.resolve(),
    };
    this.metrics.connections++;
    conn.authTimer = setTimeout(() => this.closeFor(conn, CLOSE_AUTH_TIMEOUT, 'not signed in in time'), this.limits.authTimeoutMs);
    socket.on('pong', () => (conn.alive = true));
    socket.on('message', (data, isBinary) => {
      const bytes = toBytes(data);
      const t = Date.now();
      if (!conn.messages.take(1, t) || !conn.bytes.take(bytes.length, t)) {
        this.closeFor(conn, CLOSE_RATE, 'rate limit exceeded');
        return;
      }
      conn.queue = conn.queue.then(() => this.onMessage(conn, bytes, isBinary)).catch((err: unknown) => this.onError(conn, err));
    });
    socket.on('error', (err) => {
      // ws reports oversized and malformed frames here, then closes with the right code.
      this.metrics.closedForErrors++;
      this.log('socketError', { device: conn.device?.id, message: err.message });
    });
    socket.on('close', (code) => void this.onClose(conn, code));
  }

  private beat(): void {
    for (const conn of this.connections()) {
      if (!conn.alive) {
        this.log('heartbeatLost', { device: conn.device?.id });
        conn.socket.terminate();
        continue;
      }
      conn.alive = false;
      conn.socket.ping();
    }
  }

  private *connections(): Iterable<Connection> {
    for (const set of this.byUser.values()) yield* set;
  }

  private async onClose(conn: Connection, code: number): Promise<void> {
    clearTimeout(conn.authTimer);
    this.metrics.connections--;
    await this.unregister(conn, code);
  }

  /** Takes a session connection out of routing and tells its contacts; once per connection. */
  private async unregister(conn: Connection, code: number): Promise<void> {
    if (!conn.device || this.byDevice.get(conn.device.id) !== conn) return;
    this.metrics.authenticated--;
    this.byDevice.delete(conn.device.id);
    const set = this.byUser.get(conn.user!);
    set?.delete(conn);
    if (set?.size === 0) this.byUser.delete(conn.user!);
    this.log('signedOut', { device: conn.device.id, code });
    await this.pushPresence(conn.user!).catch((err: unknown) => this.onError(undefined, err));
  }

  private closeFor(conn: Connection, code: number, reason: string): void {
    this.metrics.closedForErrors++;
    this.log('closedForError', { device: conn.device?.id, remote: conn.remote, code, reason });
    conn.socket.close(code, reason.slice(0, 120));
  }

  private onError(conn: Connection | undefined, err: unknown): void {
    if (conn && err instanceof RendezvousError && err.code === 'malformed') {
      this.closeFor(conn, CLOSE_POLICY, err.message);
      return;
    }
    this.log('internalError', { device: conn?.device?.id, message: (err as Error)?.message ?? String(err) });
    if (conn) this.closeFor(conn, 1011, 'internal error');
  }

  private send(conn: Connection, message: ServerMessage): void {
    if (conn.socket.readyState === conn.socket.OPEN) conn.socket.send(JSON.stringify(message));
  }

  // ---- messages -----------------------------------------------------------------------------

  private async onMessage(conn: Connection, bytes: Uint8Array, isBinary: boolean): Promise<void> {
    if (conn.socket.readyState !== conn.socket.OPEN) return;
    if (isBinary) {
      if (!conn.device) throw new RendezvousError('malformed', 'binary frame before sign-in');
      if (bytes[0] === FRAME_RELAY) return this.onRelay(conn, bytes);
      if (bytes[0] === FRAME_DEPOSIT) return this.onDeposit(conn, bytes);
      throw new RendezvousError('malformed', `unknown binary frame type ${bytes[0]}`);
    }
    const message = parseClientMessage(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    if (message.t === 'hello') return this.onHello(conn, message.v, message.device);
    if (message.t === 'auth') return this.onAuth(conn, message.signature, message.mode, message.join);
    if (!conn.device) throw new RendezvousError('malformed', `${message.t} before sign-in`);
    try {
      const result = await this.onRequest(conn, message);
      this.send(conn, { t: 'reply', id: message.id, result });
    } catch (err) {
      if (!(err instanceof RendezvousError) || err.code === 'malformed') throw err;
      this.send(conn, { t: 'error', id: message.id, code: err.code, message: err.message });
    }
  }

  private onHello(conn: Connection, version: number, device: DeviceInfo): void {
    if (conn.hello) throw new RendezvousError('malformed', 'second hello');
    if (version !== RENDEZVOUS_VERSION) {
      this.send(conn, { t: 'error', code: 'version', message: `server speaks version ${RENDEZVOUS_VERSION}, device ${version}` });
      conn.socket.close(CLOSE_POLICY, 'protocol version');
      return;
    }
    if (!deviceIdMatches(device)) throw new RendezvousError('malformed', 'device id does not match its keys');
    conn.hello = device;
    conn.nonce = crypto.randomBytes(32).toString('hex');
    this.send(conn, { t: 'challenge', nonce: conn.nonce, v: RENDEZVOUS_VERSION });
  }

  /**
   * Devices check endorsements themselves and trust only chains back to a user's pinned first
   * device; the server checks the first link of the chain so a damaged code fails at once.
   */
  private async endorsedFor(user: string, device: DeviceInfo): Promise<boolean> {
    const e = device.endorsement;
    if (!e) return false;
    const issuer = (await this.store.devicesOf(user)).find((d) => d.id === e.by);
    return (
      issuer !== undefined &&
      verifyEd25519(issuer.signPublic, linkKeySigningBytes(user, e.key), e.keySig) &&
      verifyEd25519(e.key, endorsementSigningBytes(user, device), e.sig)
    );
  }

  private async onAuth(conn: Connection, signature: string, mode: 'session' | 'command', join: { name: string } | { link: string } | undefined): Promise<void> {
    const device = conn.hello;
    if (!device || !conn.nonce || conn.device) throw new RendezvousError('malformed', 'auth out of order');
    if (!verifyEd25519(device.signPublic, authSigningBytes(conn.nonce, device.id), signature)) {
      this.send(conn, { t: 'error', code: 'badSignature', message: 'the challenge signature does not verify' });
      conn.socket.close(CLOSE_POLICY, 'bad signature');
      return;
    }
    let known = await this.store.device(device.id);
    if (!known && join && 'name' in join) {
      const user = crypto.randomBytes(16).toString('hex');
      await this.store.createUser({ id: user, name: join.name }, device, Date.now());
      known = { ...device, user };
      this.log('userCreated', { user, device: device.id });
    } else if (!known && join && 'link' in join) {
      const user = await this.store.takeToken(join.link, 'link', Date.now());
      if (!user) {
        this.send(conn, { t: 'error', code: 'badToken', message: 'the link code is unknown, used or expired' });
        conn.socket.close(CLOSE_POLICY, 'bad link');
        return;
      }
      if (!(await this.endorsedFor(user, device))) {
        this.send(conn, { t: 'error', code: 'badSignature', message: 'a linked device must carry an endorsement from the device that made the link code' });
        conn.socket.close(CLOSE_POLICY, 'bad endorsement');
        return;
      }
      await this.store.addDevice(user, device, Date.now());
      known = { ...device, user };
      this.log('deviceLinked', { user, device: device.id });
      await this.pushState([user]);
    }
    if (!known) {
      this.send(conn, { t: 'error', code: 'unknownDevice', message: 'this device is not registered on this server' });
      conn.socket.close(CLOSE_POLICY, 'unknown device');
      return;
    }
    clearTimeout(conn.authTimer);
    conn.device = device;
    conn.user = known.user;
    if (mode === 'command') {
      this.send(conn, { t: 'welcome', state: await this.accountState(known.user) });
      return;
    }
    const previous = this.byDevice.get(device.id);
    if (previous) {
      // The same device signing in again (a reconnect racing the old socket): the newest wins.
      previous.socket.close(CLOSE_REPLACED, 'signed in elsewhere');
      await this.unregister(previous, CLOSE_REPLACED);
    }
    this.byDevice.set(device.id, conn);
    let set = this.byUser.get(known.user);
    if (!set) this.byUser.set(known.user, (set = new Set()));
    set.add(conn);
    this.metrics.authenticated++;
    this.log('signedIn', { user: known.user, device: device.id });
    this.send(conn, { t: 'welcome', state: await this.accountState(known.user) });
    await this.pushPresence(known.user);
    await this.deliverMailbox(conn);
  }

  private async onRequest(conn: Connection, request: ClientRequest): Promise<Record<string, unknown>> {
    const user = conn.user!;
    const now = Date.now();
    switch (request.t) {
      case 'state':
        return { state: await this.accountState(user) };
      case 'createInvite': {
        const token = crypto.randomBytes(16).toString('hex');
        await this.store.putToken(token, 'invite', user, now + this.limits.tokenTtlMs);
        return { token };
      }
      case 'createLink': {
        const token = crypto.randomBytes(16).toString('hex');
        await this.store.putToken(token, 'link', user, now + this.limits.tokenTtlMs);
        return { token };
      }
      case 'acceptInvite': {
        const inviter = await this.store.takeToken(request.token, 'invite', now);
        if (!inviter) throw new RendezvousError('badToken', 'the invite code is unknown, used or expired');
        if (inviter === user) throw new RendezvousError('forbidden', 'an invite code cannot be accepted by the user who made it');
        await this.store.addContact(user, inviter);
        this.log('contactAdded', { a: user, b: inviter });
        await this.pushState([user, inviter]);
        return { user: inviter };
      }
      case 'removeContact':
        await this.store.removeContact(user, request.user);
        await this.pushState([user, request.user]);
        return {};
      case 'presence':
        conn.presence = request.status;
        await this.pushPresence(user);
        return {};
      case 'putSpace':
        return this.putSpace(conn, request.doc);
      case 'respondSpace':
      case 'leaveSpace': {
        const space = await this.store.space(request.space);
        if (!space || space.status[user] === undefined) throw new RendezvousError('notFound', 'no such space for this user');
        const status: MemberStatus = request.t === 'leaveSpace' ? 'left' : request.accept ? 'joined' : 'declined';
        await this.store.setMemberStatus(request.space, user, status);
        await this.pushState(space.doc.members.map((m) => m.user));
        return {};
      }
      case 'vector': {
        const space = await this.store.space(request.space);
        if (!space || space.status[user] !== 'joined') throw new RendezvousError('forbidden', 'not a member of this space');
        await this.store.putVector(request.space, conn.device!.id, request.hash);
        for (const m of space.doc.members) {
          if (space.status[m.user] !== 'joined') continue;
          for (const other of this.byUser.get(m.user) ?? []) {
            if (other !== conn) this.send(other, { t: 'vector', space: request.space, device: conn.device!.id, hash: request.hash });
          }
        }
        return {};
      }
      case 'fetchMailbox':
        // Everything unacknowledged again: the device may have set items aside it can use now.
        conn.inFlight.clear();
        await this.deliverMailbox(conn);
        return {};
      case 'ack':
        await this.store.acknowledge(conn.device!.id, request.items);
        for (const item of request.items) conn.inFlight.delete(item);
        await this.deliverMailbox(conn);
        return {};
    }
  }

  private async putSpace(conn: Connection, doc: import('../sync/protocol/rendezvous').SpaceDoc): Promise<Record<string, unknown>> {
    const user = conn.user!;
    if (doc.author !== conn.device!.id) throw new RendezvousError('forbidden', 'a space document must be signed by the device that sends it');
    const { signature, ...unsigned } = doc;
    if (!verifyEd25519(conn.device!.signPublic, spaceDocSigningBytes(unsigned), signature)) {
      throw new RendezvousError('badSignature', 'the space document signature does not verify');
    }
    const previous = await this.store.space(doc.id);
    if (!mayChangeSpace(previous?.doc, doc, user)) throw new RendezvousError('forbidden', 'this change of the space is not allowed for this user');
    const contacts = new Set(await this.store.contactsOf(user));
    const statuses = new Map<string, MemberStatus>();
    for (const m of doc.members) {
      const was = previous?.status[m.user];
      if (was !== undefined) statuses.set(m.user, was);
      else if (m.user === user) statuses.set(m.user, 'joined');
      else if (contacts.has(m.user)) statuses.set(m.user, 'invited');
      else throw new RendezvousError('forbidden', `user ${m.user} is not a contact of the author`);
    }
    if (!(await this.store.putSpace(doc, statuses))) throw new RendezvousError('conflict', `space version ${doc.version} is not the next one`);
    this.log('spaceChanged', { space: doc.id, version: doc.version, members: doc.members.length });
    await this.pushState([...new Set([...(previous?.doc.members ?? []).map((m) => m.user), ...doc.members.map((m) => m.user)])]);
    return { version: doc.version };
  }

  // ---- relay and mailbox --------------------------------------------------------------------

  private async mayReach(conn: Connection, device: string): Promise<boolean> {
    const target = this.byDevice.get(device)?.user ?? (await this.store.device(device))?.user;
    if (target === undefined) return false;
    conn.peers ??= await this.peersOf(conn.user!);
    return conn.peers.has(target);
  }

  private async peersOf(user: string): Promise<Set<string>> {
    const peers = new Set<string>([user, ...(await this.store.contactsOf(user))]);
    for (const id of await this.store.spacesOf(user)) {
      const space = await this.store.space(id);
      if (!space || space.status[user] === 'left' || space.status[user] === 'declined') continue;
      for (const m of space.doc.members) peers.add(m.user);
    }
    return peers;
  }

  private async onRelay(conn: Connection, frame: Uint8Array): Promise<void> {
    const { device, payload } = decodeRelay(frame);
    if (!(await this.mayReach(conn, device))) throw new RendezvousError('malformed', 'relay to a device this one may not reach');
    const target = this.byDevice.get(device);
    if (!target) return; // Offline: the sender learns it from presence and uses the mailbox.
    this.metrics.routedMessages++;
    this.metrics.routedBytes += frame.length;
    target.socket.send(encodeRelay(conn.device!.id, payload));
  }

  private async onDeposit(conn: Connection, frame: Uint8Array): Promise<void> {
    const { item, recipients, payload } = decodeDeposit(frame);
    for (const r of recipients) {
      if (!(await this.mayReach(conn, r))) throw new RendezvousError('malformed', 'deposit for a device this one may not reach');
    }
    const stored = await this.store.deposit(
      { id: item, sender: conn.device!.id, senderUser: conn.user!, payload: payload.slice(), created: Date.now() },
      recipients,
      this.limits.mailboxQuotaBytes,
    );
    if (!stored) {
      this.send(conn, { t: 'error', code: 'quota', message: `mailbox quota of ${this.limits.mailboxQuotaBytes} bytes exceeded; item ${item} not stored` });
      return;
    }
    this.metrics.deposits++;
    for (const r of recipients) {
      const target = this.byDevice.get(r);
      if (target) await this.deliverMailbox(target);
    }
  }

  private async deliverMailbox(conn: Connection): Promise<void> {
    const room = this.limits.mailboxWindow - conn.inFlight.size;
    if (room <= 0 || !conn.device) return;
    let bytes = 0;
    for (const size of conn.inFlight.values()) bytes += size;
    const items = await this.store.pendingFor(conn.device.id, this.limits.mailboxWindow);
    let sent = 0;
    for (const item of items) {
      if (sent >= room) break;
      if (conn.inFlight.has(item.id)) continue;
      // A device applies items one at a time: more bytes than this in flight would only sit in its memory.
      if (conn.inFlight.size > 0 && bytes + item.bytes > this.limits.mailboxWindowBytes) break;
      conn.inFlight.set(item.id, item.bytes);
      bytes += item.bytes;
      const payload = await this.store.mailboxPayload(item.id);
      if (!payload) {
        conn.inFlight.delete(item.id);
        continue;
      }
      conn.socket.send(encodeDelivery(item.id, item.sender, payload));
      this.metrics.deliveries++;
      sent++;
    }
  }

  /** Undelivered mailbox items and their bytes, as `/metrics` reports them. */
  mailboxTotals(): Promise<{ items: number; bytes: number }> {
    return this.store.mailboxTotals();
  }

  /** Drops mailbox items nobody fetched within the time limit. */
  async expireMailbox(): Promise<number> {
    return this.store.expireMailbox(Date.now() - this.limits.mailboxTtlMs);
  }

  // ---- state pushes -------------------------------------------------------------------------

  private presenceOf(user: string): Presence {
    const set = this.byUser.get(user);
    if (!set || set.size === 0) return 'offline';
    for (const c of set) if (c.presence === 'online') return 'online';
    return 'away';
  }

  private async pushPresence(user: string): Promise<void> {
    const presence = this.presenceOf(user);
    const devices = this.onlineDevices(user);
    for (const u of await this.peersOf(user)) for (const c of this.byUser.get(u) ?? []) this.send(c, { t: 'presence', user, presence, devices });
  }

  private onlineDevices(user: string): string[] {
    return [...(this.byUser.get(user) ?? [])].map((c) => c.device!.id);
  }

  private async pushState(users: readonly string[]): Promise<void> {
    for (const user of new Set(users)) {
      const set = this.byUser.get(user);
      if (!set) continue;
      const state = await this.accountState(user);
      for (const c of set) {
        c.peers = undefined;
        this.send(c, { t: 'state', state });
      }
    }
  }

  private async accountState(user: string): Promise<AccountState> {
    const me = await this.store.user(user);
    if (!me) throw new RendezvousError('notFound', `user ${user} is gone`);
    const contacts: ContactInfo[] = [];
    for (const id of await this.store.contactsOf(user)) {
      const u = await this.store.user(id);
      if (u) contacts.push({ ...u, devices: await this.store.devicesOf(id), presence: this.presenceOf(id) });
    }
    const spaces: SpaceInfo[] = [];
    const vectors: { space: string; device: string; hash: string }[] = [];
    for (const id of await this.store.spacesOf(user)) {
      const space = await this.store.space(id);
      if (!space) continue;
      const users: UserInfo[] = [];
      for (const m of space.doc.members) {
        const u = await this.store.user(m.user);
        if (u) users.push({ ...u, devices: await this.store.devicesOf(m.user) });
      }
      spaces.push({ ...space, users });
      if (space.status[user] === 'joined') for (const v of await this.store.vectors(id)) vectors.push({ space: id, ...v });
    }
    const online = [...(await this.peersOf(user))].flatMap((u) => this.onlineDevices(u));
    return { user: { ...me, devices: await this.store.devicesOf(user) }, contacts, spaces, online, vectors };
  }
}

function toBytes(data: RawData): Uint8Array {
  const buf = Array.isArray(data) ? Buffer.concat(data.map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength))) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
