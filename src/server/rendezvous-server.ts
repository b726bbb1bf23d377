/**
 * src/server: the rendezvous server, the one piece that runs apart from users' devices. Devices
 * sign in by key, find their contacts and spaces, and exchange end-to-end encrypted frames
 * through it; it stores accounts, space documents and mailbox items (SQLite) and never sees
 * plaintext. This file is the connection life cycle; the requests are handled by area beside it.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import * as nodePath from 'node:path';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { FRAME_DEPOSIT, FRAME_RELAY, parseClientMessage, RendezvousError, type ClientRequest } from '../sync/protocol/rendezvous';
import { jsonLog, type JsonLog } from './json-log';
import type { ServerStore } from './server-store';
import { ServerMetrics } from './server-metrics';
import { SqliteStore } from './sqlite-store';
import { TokenBucket } from '../sync/util/token-bucket';
import { SerialQueue } from '../sync/util/serial-queue';
import { accountState, pushPresence } from './account-state';
import { BurstLog } from './burst-log';
import { CLOSE_AUTH_TIMEOUT, CLOSE_NOT_READING, CLOSE_POLICY, CLOSE_RATE, send, type Connection } from './connection';
import { ConnectionGate } from './connection-gate';
import { contactRequest } from './contact-requests';
import { clientAddress } from './client-address';
import { onMetricsHttp, onPublicHttp } from './http-endpoints';
import { mailboxRequest, onDeposit } from './mailbox';
import { OutboundQueue } from './outbound-queue';
import { onRelay } from './relay';
import type { ServerContext } from './server-context';
import { DEFAULT_LIMITS, type ServerLimits } from './server-limits';
import { serverRates } from './server-rates';
import { onAuth, onHello } from './sign-in';
import { limitBytesBeforeSignIn } from './sign-in-byte-limit';
import { SignedInDevices } from './signed-in-devices';
import { spaceRequest } from './space-requests';
import type { Cluster } from './cluster/cluster';
import { busReceiver } from './cluster/bus-receiver';
import { LocalCluster, defaultNodeId } from './cluster/local-cluster';
import { NatsCluster } from './cluster/nats-cluster';
import { DatabaseOpenError } from './cluster/unreachable';
import { PostgresStore } from './postgres-store';

export interface ServerOptions {
  readonly host?: string;
  readonly port?: number;
  /** Where the SQLite file lives, unless `store` is given. */
  readonly dataDir?: string;
  readonly store?: ServerStore;
  readonly limits?: Partial<ServerLimits>;
  readonly log?: JsonLog;
  /** A PEM certificate chain and its key: the public port serves wss:// and https:// instead of ws:// and http://. */
  readonly tls?: { readonly cert: string; readonly key: string };
  /** Where `/metrics` is served, on a listener of its own (plain HTTP); nowhere without it. */
  readonly metrics?: { readonly host: string; readonly port: number };
  /** Take a client's address from X-Forwarded-For (behind a reverse proxy); see client-address.ts. */
  readonly trustProxy?: boolean;
  /**
   * A PostgreSQL URL: durable state lives there (instead of `dataDir`), shared with the other
   * processes of a cluster. Needs `bus`.
   */
  readonly database?: string;
  /** A NATS URL: the processes on one database meet there (docs/PROTOCOL.md R7). Needs `database`. */
  readonly bus?: string;
  /** This process's name in the cluster; `<hostname>-<pid>` unless given. */
  readonly nodeId?: string;
  /** The other processes, ready made (tests); otherwise made from `bus`, or LocalCluster without it. */
  readonly cluster?: Cluster;
  /**
   * Time between the cluster's heartbeats: 1 s, or a quarter of `limits.heartbeatMs` when that is
   * shorter (at least 250 ms); a process silent for three is declared dead.
   */
  readonly clusterHeartbeatMs?: number;
}

/**
 * The rendezvous server: devices sign in by key, find their contacts and spaces, and exchange
 * end-to-end encrypted frames through it, live (relay) or later (mailbox). It routes by device
 * id and never sees plaintext.
 */
export class RendezvousServer {
  private readonly signedIn: SignedInDevices;
  /** Every open connection, signed in or not, session or command: all of them are pinged. */
  private readonly open = new Set<Connection>();
  readonly metrics = new ServerMetrics();
  private readonly context: ServerContext;
  private readonly bursts: BurstLog;
  private heartbeat: NodeJS.Timeout | undefined;
  private metricsHttp: http.Server | undefined;

  private constructor(
    private readonly http: http.Server | https.Server,
    private readonly wss: WebSocketServer,
    readonly store: ServerStore,
    private readonly limits: ServerLimits,
    private readonly log: JsonLog,
    readonly cluster: Cluster,
    /** Whether `close` closes the store: it opened it. */
    private readonly ownsStore: boolean,
  ) {
    this.bursts = new BurstLog(log);
    this.signedIn = new SignedInDevices(cluster.nodeId, (event) => cluster.announce(event));
    this.context = {
      store,
      limits,
      log,
      bursts: this.bursts,
      metrics: this.metrics,
      signedIn: this.signedIn,
      cluster,
      rates: serverRates(limits, store.rateBuckets),
      rights: { version: 0 },
      unregister: (conn, code) => this.unregister(conn, code),
    };
  }

  static async start(options: ServerOptions = {}): Promise<RendezvousServer> {
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    const log = options.log ?? jsonLog();
    if ((options.database === undefined) !== (options.bus === undefined))
      throw new Error('a cluster needs both a database and a bus: processes sharing a database must share a bus');
    // The bus first: it has nothing to undo when the database then fails.
    const cluster = options.cluster ?? (await openCluster(options, limits, log));
    let store: ServerStore;
    try {
      store =
        options.store ??
        (options.database
          ? await openPostgres(options.database)
          : SqliteStore.open(options.dataDir ?? nodePath.join(process.cwd(), 'shared-folders-data')));
    } catch (err) {
      await cluster.close();
      throw err;
    }
    // ---- listening (public port, TLS, metrics listener) ----
    const server = options.tls ? https.createServer({ cert: options.tls.cert, key: options.tls.key }) : http.createServer();
    const wss = new WebSocketServer({ server, maxPayload: limits.maxFrameBytes });
    const rendezvous = new RendezvousServer(server, wss, store, limits, log, cluster, !options.store);
    const trustProxy = options.trustProxy ?? false;
    new ConnectionGate(
      {
        // Behind a proxy every connection comes from the proxy's address: the proxy caps them.
        connectionsPerAddress: trustProxy ? Number.POSITIVE_INFINITY : limits.connectionsPerAddress,
        requestTimeoutMs: limits.authTimeoutMs,
      },
      rendezvous.metrics,
      rendezvous.bursts,
    ).attach(server);
    server.on('request', (req, res) => void onPublicHttp(rendezvous.context, req, res));
    wss.on('connection', (socket, req) => rendezvous.onConnection(socket, req.socket, clientAddress(req, trustProxy)));
    let listening = false;
    // Before it listens, a failure (a busy port) rejects `start` and is the caller's to report.
    wss.on('error', (err) => listening && log('wsError', { message: err.message }));
    // A client that fails the TLS handshake is the client's problem; note it and go on.
    server.on('tlsClientError', (err, socket) => log('tlsClientError', { remote: socket.remoteAddress, message: err.message }));
    try {
      // Hearing the other processes' sessions before devices sign in here.
      await cluster.start(busReceiver(rendezvous.context));
      await listen(server, options.port ?? 7070, options.host ?? '127.0.0.1');
      if (options.metrics) {
        const metricsHttp = http.createServer((req, res) => void onMetricsHttp(rendezvous.context, req, res));
        rendezvous.metricsHttp = metricsHttp;
        await listen(metricsHttp, options.metrics.port, options.metrics.host);
      }
    } catch (err) {
      await rendezvous.closeListeners();
      await cluster.close();
      if (!options.store) await store.close();
      throw err;
    }
    listening = true;
    rendezvous.heartbeat = setInterval(() => rendezvous.beat(), limits.heartbeatMs);
    rendezvous.heartbeat.unref();
    log('listening', { host: options.host ?? '127.0.0.1', port: rendezvous.port, tls: options.tls !== undefined, node: cluster.nodeId });
    if (rendezvous.metricsHttp) log('metricsListening', { host: options.metrics!.host, port: rendezvous.metricsPort });
    return rendezvous;
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  get url(): string {
    const a = this.http.address() as AddressInfo;
    return `${this.http instanceof https.Server ? 'wss' : 'ws'}://${a.address}:${a.port}`;
  }

  /** The metrics listener's port, undefined when /metrics is not served. */
  get metricsPort(): number | undefined {
    return (this.metricsHttp?.address() as AddressInfo | null)?.port;
  }

  async close(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const client of this.wss.clients) client.terminate();
    await this.closeListeners();
    await this.cluster.close();
    this.bursts.flush();
    if (this.ownsStore) await this.store.close();
    this.log('closed');
  }

  private async closeListeners(): Promise<void> {
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    for (const listener of [this.http, this.metricsHttp]) {
      if (listener?.listening) await new Promise<void>((resolve) => listener.close(() => resolve()));
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

  // ---- connections --------------------------------------------------------------------------

  /** `remote` is the client's address: the socket's, or the one a trusted proxy reports. */
  private onConnection(socket: WebSocket, raw: Socket, remote: string): void {
    const now = Date.now();
    const conn: Connection = {
      socket,
      remote,
      presence: 'online',
      alive: true,
      messages: new TokenBucket(this.limits.messagesPerSecond, this.limits.messagesPerSecond * 2, now),
      bytes: new TokenBucket(this.limits.bytesPerSecond, this.limits.bytesPerSecond * 2, now),
      inFlight: new Map(),
      queue: new SerialQueue(),
      outbound: new OutboundQueue(
        socket,
        this.metrics,
        {
          perConnection: this.limits.queuedBytesPerConnection,
          total: this.limits.queuedBytesTotal,
          // Binary frames stop at the larger of these; beyond twice that only unread replies and pushes pile up.
          hardPerConnection: 2 * Math.max(this.limits.queuedBytesPerConnection, this.limits.maxFrameBytes),
        },
        () => this.closeNotReading(conn),
      ),
    };
    this.metrics.connections++;
    this.open.add(conn);
    limitBytesBeforeSignIn(
      raw,
      this.limits.bytesBeforeSignIn,
      () => conn.device !== undefined,
      () => {
        this.metrics.tooMuchBeforeSignIn++;
        this.bursts.note('tooMuchBeforeSignIn', remote, { remote, limit: this.limits.bytesBeforeSignIn });
        // Not close(): its handshake would wait for the peer while ws kept buffering what it sends.
        // After ws has handled this chunk: when it closes on its own (a frame over the limit, 1009)
        // its close frame goes out first.
        setImmediate(() => socket.terminate());
      },
    );
    conn.authTimer = setTimeout(() => this.closeFor(conn, CLOSE_AUTH_TIMEOUT, 'not signed in in time'), this.limits.authTimeoutMs);
    socket.on('pong', () => (conn.alive = true));
    socket.on('message', (data, isBinary) => {
      const bytes = toBytes(data);
      const t = Date.now();
      if (!conn.messages.take(1, t) || !conn.bytes.take(bytes.length, t)) {
        this.closeFor(conn, CLOSE_RATE, 'rate limit exceeded');
        return;
      }
      void conn.queue.run(() => this.onMessage(conn, bytes, isBinary).catch((err: unknown) => this.onError(conn, err)));
    });
    socket.on('error', (err) => {
      // ws reports oversized and malformed frames here, then closes with the right code.
      this.metrics.closedForErrors++;
      this.log('socketError', { device: conn.device?.id, message: err.message });
    });
    socket.on('close', (code) => void this.onClose(conn, code));
  }

  /** A connection that has not answered the previous ping is dead, whatever its kind. */
  private beat(): void {
    for (const conn of this.open) {
      if (!conn.alive) {
        this.metrics.heartbeatsLost++;
        this.log('heartbeatLost', { device: conn.device?.id, user: conn.user, remote: conn.remote, kind: this.kindOf(conn) });
        conn.socket.terminate();
        continue;
      }
      conn.alive = false;
      conn.socket.ping();
    }
  }

  private kindOf(conn: Connection): 'signingIn' | 'session' | 'command' {
    if (!conn.device) return 'signingIn';
    return this.signedIn.device(conn.device.id) === conn ? 'session' : 'command';
  }

  private async onClose(conn: Connection, code: number): Promise<void> {
    this.open.delete(conn);
    clearTimeout(conn.authTimer);
    conn.outbound.release();
    this.metrics.connections--;
    await this.unregister(conn, code);
  }

  /** Takes a session connection out of routing and tells its contacts; once per connection. */
  private async unregister(conn: Connection, code: number): Promise<void> {
    if (!this.signedIn.remove(conn)) return;
    this.metrics.authenticated--;
    this.log('signedOut', { device: conn.device!.id, code });
    await pushPresence(this.context, conn.user!).catch((err: unknown) => this.onError(undefined, err));
  }

  private closeFor(conn: Connection, code: number, reason: string): void {
    this.metrics.closedForErrors++;
    this.log('closedForError', { device: conn.device?.id, remote: conn.remote, code, reason });
    conn.socket.close(code, reason.slice(0, 120));
  }

  /** Replies and pushes pile up unread: the device is not reading (or cannot); nothing more is queued for it. */
  private closeNotReading(conn: Connection): void {
    if (conn.socket.readyState !== conn.socket.OPEN) return;
    this.metrics.notReadingClosed++;
    this.bursts.note('closedNotReading', conn.remote, { device: conn.device?.id, remote: conn.remote, queued: conn.outbound.queued });
    conn.socket.close(CLOSE_NOT_READING, 'not reading');
    // Its close frame waits behind what it does not read: the socket goes now.
    conn.socket.terminate();
  }

  private onError(conn: Connection | undefined, err: unknown): void {
    if (conn && err instanceof RendezvousError && err.code === 'malformed') {
      this.closeFor(conn, CLOSE_POLICY, err.message);
      return;
    }
    this.log('internalError', { device: conn?.device?.id, message: (err as Error)?.message ?? String(err) });
    if (conn) this.closeFor(conn, 1011, 'internal error');
  }

  // ---- messages -----------------------------------------------------------------------------

  private async onMessage(conn: Connection, bytes: Uint8Array, isBinary: boolean): Promise<void> {
    if (conn.socket.readyState !== conn.socket.OPEN) return;
    if (isBinary) {
      if (!conn.device) throw new RendezvousError('malformed', 'binary frame before sign-in');
      if (bytes[0] === FRAME_RELAY) return onRelay(this.context, conn, bytes);
      if (bytes[0] === FRAME_DEPOSIT) return onDeposit(this.context, conn, bytes);
      throw new RendezvousError('malformed', `unknown binary frame type ${bytes[0]}`);
    }
    const message = parseClientMessage(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    if (message.t === 'hello') return onHello(conn, message.v, message.device);
    if (message.t === 'auth') return onAuth(this.context, conn, message.signature, message.mode, message.join);
    if (!conn.device) throw new RendezvousError('malformed', `${message.t} before sign-in`);
    try {
      const result = await this.onRequest(conn, message);
      send(conn, { t: 'reply', id: message.id, result });
    } catch (err) {
      if (!(err instanceof RendezvousError) || err.code === 'malformed') throw err;
      send(conn, { t: 'error', id: message.id, code: err.code, message: err.message });
    }
  }

  private async onRequest(conn: Connection, request: ClientRequest): Promise<Record<string, unknown>> {
    switch (request.t) {
      case 'state':
        return { state: await accountState(this.context, conn.user!) };
      case 'createInvite':
      case 'createLink':
      case 'acceptInvite':
      case 'removeContact':
      case 'presence':
        return contactRequest(this.context, conn, request);
      case 'putSpace':
      case 'respondSpace':
      case 'leaveSpace':
      case 'vector':
        return spaceRequest(this.context, conn, request);
      case 'fetchMailbox':
      case 'ack':
        return mailboxRequest(this.context, conn, request);
    }
  }
}

/** The store of a cluster, shared by its processes. */
async function openPostgres(url: string): Promise<ServerStore> {
  try {
    return await PostgresStore.open(url);
  } catch (err) {
    throw new DatabaseOpenError(err as Error);
  }
}

/** The processes on the same database meet on the bus; without one this process is alone. */
async function openCluster(options: ServerOptions, limits: ServerLimits, log: JsonLog): Promise<Cluster> {
  const nodeId = options.nodeId ?? defaultNodeId();
  if (!options.bus || !options.database) return new LocalCluster(nodeId);
  return NatsCluster.connect({
    url: options.bus,
    database: databaseName(options.database),
    nodeId,
    log,
    // A dead process's users go offline well within the bound devices have (two pings).
    heartbeatMs: options.clusterHeartbeatMs ?? Math.min(1000, Math.max(250, limits.heartbeatMs / 4)),
    relayWindowBytes: limits.queuedBytesPerConnection,
    // What a starved process still reads within a second or two: NATS cuts a subscriber that has
    // not taken what it was sent within its write deadline (10 s by default), losing it all.
    nodeWindowBytes: 2 * 1024 * 1024,
    relayAnswerTimeoutMs: 2 * limits.relayWaitMs + 10_000,
    assemblyBytes: limits.queuedBytesTotal,
  });
}

/** The database's name in a postgres:// URL: the cluster's subjects are named after it. */
export function databaseName(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'postgres';
  } catch {
    return url;
  }
}

function listen(server: http.Server | https.Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function toBytes(data: RawData): Uint8Array {
  const buf = Array.isArray(data)
    ? Buffer.concat(data.map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)))
    : Buffer.isBuffer(data)
      ? data
      : Buffer.from(data);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
