import * as crypto from 'node:crypto';
import { connect, Events, type NatsConnection } from 'nats';
import type { ServerMessage } from '../../sync/protocol/rendezvous';
import { concatBytes } from '../../sync/util/bytes';
import type { Connection } from '../connection';
import type { JsonLog } from '../json-log';
import { decodeEnvelope, encodeEnvelope, type BusMessage, type Envelope } from './bus-messages';
import type { Cluster, ClusterFigures, ClusterReceiver, RelayOutcome, RemoteSession, SessionEvent, UserState } from './cluster';
import { MessageAssembly, splitBytes } from './message-parts';
import { NodeTable } from './node-table';
import { RelayWindow } from './relay-window';
import { BusUnreachableError } from './unreachable';

export interface NatsClusterOptions {
  /** nats://HOST:PORT */
  readonly url: string;
  /** The database's name: processes on one database form one cluster (subjects `sf.<name>.…`). */
  readonly database: string;
  readonly nodeId: string;
  readonly log: JsonLog;
  /** Time between heartbeats; a process silent for `deadAfterBeats` of them is declared dead. */
  readonly heartbeatMs?: number;
  readonly deadAfterBeats?: number;
  /** Unanswered relay bytes one sender connection may have toward other processes. */
  readonly relayWindowBytes: number;
  /** Unanswered relay bytes toward one other process, all sender connections together. */
  readonly nodeWindowBytes: number;
  /** An unanswered relay frame leaves its sender's window after this long (its target's process died). */
  readonly relayAnswerTimeoutMs: number;
  /** Bytes of incomplete large messages held at once. */
  readonly assemblyBytes: number;
}

const PART_HEADROOM = 1024;
const ASSEMBLY_TIMEOUT_MS = 30_000;
const HEALTH_TIMEOUT_MS = 1500;
/** Relay frames for one process are sent together up to this many bytes. */
const BATCH_BYTES = 64 * 1024;

/**
 * Server processes on one NATS (docs/PROTOCOL.md R7). Each listens on `sf.<db>.all` (what every
 * process hears) and `sf.<db>.node.<id>` (what is for it alone), beats a heartbeat, keeps the
 * directory of the others' sessions current, and passes relay frames, kicks and mailbox notices
 * to the process where their device is signed in.
 */
export class NatsCluster implements Cluster {
  private readonly inc = crypto.randomBytes(8).toString('hex');
  private readonly prefix: string;
  private readonly nodes = new NodeTable();
  private readonly assembly: MessageAssembly;
  private readonly window: RelayWindow;
  /** Relay frames sent and not answered yet, by id. */
  private readonly pending = new Map<
    number,
    { node: string; sender: Connection; bytes: number; answered: (o: RelayOutcome) => void; sent: number }
  >();
  private readonly snapshotAsked = new Map<string, number>();
  /** Small relay frames to send, by process, until the end of this turn of the event loop. */
  private readonly relays = new Map<string, { frames: [number, string, number][]; bodies: Uint8Array[]; bytes: number }>();
  /** Relay answers to send, by process, until the end of this turn of the event loop. */
  private readonly answers = new Map<string, [number, RelayOutcome][]>();
  private receiver: ClusterReceiver | undefined;
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;
  /** When the heartbeat last ran: a tick much later than planned means this process was stalled. */
  private lastTick = 0;
  private nameClashLogged = false;
  private nextId = 0;
  private connected = true;
  /** After goodbye nothing more is sent: the others have dropped this process. */
  private closing = false;
  private readonly heartbeatMs: number;
  private readonly deadAfterBeats: number;
  private readonly stats = { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, relaysForwarded: 0 };

  private constructor(
    private readonly nc: NatsConnection,
    private readonly options: NatsClusterOptions,
  ) {
    this.prefix = `sf.${subjectToken(options.database)}`;
    this.assembly = new MessageAssembly(options.assemblyBytes, ASSEMBLY_TIMEOUT_MS);
    this.window = new RelayWindow(options.relayWindowBytes, options.nodeWindowBytes);
    this.heartbeatMs = options.heartbeatMs ?? 1000;
    this.deadAfterBeats = options.deadAfterBeats ?? 3;
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  /** Connects to NATS; throws BusUnreachableError when it does not answer. */
  static async connect(options: NatsClusterOptions): Promise<NatsCluster> {
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: options.url,
        name: `shared-folders ${options.nodeId}`,
        // A process's own broadcasts are not for it.
        noEcho: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        timeout: 5000,
        // Generous: a process busy for a few seconds must not drop its bus connection, and with it
        // everything in flight; a connection that really breaks is noticed by TCP at once.
        pingInterval: 5000,
        maxPingOut: 4,
      });
    } catch (err) {
      throw new BusUnreachableError(options.url, (err as Error).message);
    }
    return new NatsCluster(nc, options);
  }

  async start(receiver: ClusterReceiver): Promise<void> {
    this.receiver = receiver;
    const callback = (err: Error | null, msg: { data: Uint8Array }): void => {
      if (!err) this.onBusMessage(msg.data);
    };
    this.nc.subscribe(`${this.prefix}.all`, { callback });
    this.nc.subscribe(this.nodeSubject(this.nodeId), { callback });
    void this.watchStatus();
    await this.nc.flush();
    // Everyone hears a new process and sends it a snapshot; a short wait lets them arrive before
    // devices sign in here (a late one heals presence when it comes).
    this.publishAll({ k: 'beat', seq: this.seq, every: this.heartbeatMs });
    await new Promise((resolve) => setTimeout(resolve, Math.min(300, this.heartbeatMs)));
    this.lastTick = Date.now();
    this.timer = setInterval(() => this.tick(), this.heartbeatMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    // Senders waiting for room in their window find their sockets closed and give up.
    for (const id of [...this.pending.keys()]) this.answer(id, undefined);
    if (this.nc.isClosed()) return;
    this.publishAll({ k: 'bye' });
    this.closing = true;
    const drained = this.nc.drain().catch(() => undefined);
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 2000).unref());
    await Promise.race([drained, timeout]);
    if (!this.nc.isClosed()) await this.nc.close().catch(() => undefined);
  }

  // ---- outgoing -----------------------------------------------------------------------------

  announce(event: SessionEvent): void {
    this.publishAll({ ...event, seq: ++this.seq });
  }

  pushPresence(user: string, peers: readonly string[]): void {
    this.publishAll({ k: 'presencePush', user, peers });
  }

  pushToUsers(users: readonly string[], message: ServerMessage): void {
    this.publishAll({ k: 'push', users, message });
  }

  pushRights(states: readonly UserState[]): void {
    this.publishAll({ k: 'rights', states });
  }

  kick(session: RemoteSession): void {
    this.publishTo(session.node, { k: 'kick', device: session.device, session: session.session });
  }

  relayAnywhere(device: string, frame: Uint8Array): void {
    this.publishAll({ k: 'relayAny', device }, frame);
  }

  notifyMailbox(target: RemoteSession): void {
    this.publishTo(target.node, { k: 'mail', device: target.device });
  }

  async relay(sender: Connection, target: RemoteSession, frame: Uint8Array, answered: (outcome: RelayOutcome) => void): Promise<void> {
    const bytes = frame.byteLength;
    if (!(await this.window.reserve(sender, target.node, bytes))) return;
    const id = ++this.nextId;
    this.pending.set(id, { node: target.node, sender, bytes, answered, sent: Date.now() });
    this.stats.relaysForwarded++;
    this.queueRelay(target.node, id, target.device, frame);
  }

  /**
   * Frames for one process sent in the same turn of the event loop go as one bus message, in the
   * order they came; a batch that reaches BATCH_BYTES goes at once.
   */
  private queueRelay(node: string, id: number, device: string, frame: Uint8Array): void {
    let batch = this.relays.get(node);
    if (!batch) {
      if (this.relays.size === 0) setImmediate(() => this.flushRelays());
      this.relays.set(node, (batch = { frames: [], bodies: [], bytes: 0 }));
    }
    batch.frames.push([id, device, frame.byteLength]);
    batch.bodies.push(frame);
    batch.bytes += frame.byteLength;
    if (batch.bytes >= BATCH_BYTES) this.flushRelaysTo(node);
  }

  private flushRelays(): void {
    for (const node of [...this.relays.keys()]) this.flushRelaysTo(node);
  }

  private flushRelaysTo(node: string): void {
    const batch = this.relays.get(node);
    if (!batch) return;
    this.relays.delete(node);
    const body = batch.bodies.length === 1 ? batch.bodies[0]! : concatBytes(batch.bodies);
    this.publishTo(node, { k: 'relays', frames: batch.frames }, body);
  }

  async health(): Promise<'ok' | 'down'> {
    if (this.nc.isClosed() || !this.connected) return 'down';
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'down'>((resolve) => (timer = setTimeout(() => resolve('down'), HEALTH_TIMEOUT_MS)));
    try {
      return await Promise.race([
        this.nc.flush().then(
          () => 'ok' as const,
          () => 'down' as const,
        ),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  figures(): ClusterFigures {
    return {
      node: this.nodeId,
      nodesAlive: this.nodes.size + 1,
      busConnected: this.connected && !this.nc.isClosed() ? 1 : 0,
      ...this.stats,
    };
  }

  // ---- incoming -----------------------------------------------------------------------------

  private onBusMessage(data: Uint8Array): void {
    this.stats.messagesIn++;
    this.stats.bytesIn += data.byteLength;
    try {
      let envelope = decodeEnvelope(data);
      if (envelope.message.k === 'part') {
        const { pid, i, n } = envelope.message;
        const whole = this.assembly.add(`${envelope.from}/${envelope.inc}/${pid}`, i, n, envelope.body, Date.now());
        if (!whole) return;
        envelope = decodeEnvelope(whole);
      }
      this.dispatch(envelope);
    } catch (err) {
      this.options.log('busMessageDropped', { message: (err as Error).message });
    }
  }

  private dispatch({ from, inc, message, body }: Envelope): void {
    const receiver = this.receiver;
    if (!receiver) return;
    if (from === this.nodeId) {
      // Another process with this name: the two would take each other's sessions for their own.
      if (inc !== this.inc && !this.nameClashLogged) {
        this.nameClashLogged = true;
        this.options.log('nodeIdTaken', { node: from, message: 'another process runs with this --node-id' });
      }
      return;
    }
    if (message.k === 'bye') {
      this.nodes.remove(from);
      this.options.log('nodeLeft', { node: from });
      this.gone(from);
      return;
    }
    const seen = this.nodes.heard(from, inc, Date.now());
    if (seen !== 'known') {
      this.options.log(seen === 'new' ? 'nodeJoined' : 'nodeRestarted', { node: from });
      if (seen === 'restarted') this.gone(from);
      this.sendSnapshot(from);
      this.askSnapshot(from);
    }
    switch (message.k) {
      case 'beat':
        this.nodes.beatsEvery(from, message.every);
        if (this.nodes.behind(from, message.seq)) this.askSnapshot(from);
        return;
      case 'snapshotRequest':
        return this.sendSnapshot(from);
      case 'snapshot':
        this.snapshotAsked.delete(from);
        this.nodes.snapshotAt(from, message.seq);
        return receiver.nodeSessions(
          from,
          message.sessions.map((s) => ({ ...s, node: from })),
        );
      case 'up':
      case 'down':
      case 'presence': {
        const order = this.nodes.event(from, message.seq);
        if (order === 'stale') return;
        if (order === 'gap') this.askSnapshot(from);
        if (message.k === 'up') {
          receiver.sessionUp({
            node: from,
            device: message.device,
            user: message.user,
            session: message.session,
            presence: message.presence,
          });
        } else if (message.k === 'down') receiver.sessionDown(from, message.device, message.session);
        else receiver.sessionPresence(from, message.device, message.session, message.presence);
        return;
      }
      case 'presencePush':
        return receiver.presence(message.user, message.peers);
      case 'push':
        return receiver.push(message.users, message.message);
      case 'rights':
        return receiver.rights(message.states);
      case 'kick':
        return receiver.kick(message.device, message.session);
      case 'mail':
        return receiver.mailbox(message.device);
      case 'relays': {
        let at = 0;
        for (const [id, device, bytes] of message.frames) {
          if (!Number.isSafeInteger(bytes) || bytes < 0 || at + bytes > body.length)
            throw new Error('relay frames longer than their message');
          const frame = body.slice(at, at + bytes);
          at += bytes;
          void receiver.relay(device, frame).then(
            (outcome) => this.queueAnswer(from, id, outcome),
            (err: unknown) => {
              this.options.log('internalError', { message: (err as Error)?.message ?? String(err) });
              this.queueAnswer(from, id, 'gone');
            },
          );
        }
        return;
      }
      case 'relayAny':
        // Taken only where the device is signed in; everywhere else it is 'gone' at once.
        void receiver.relay(message.device, body.slice()).catch((err: unknown) => {
          this.options.log('internalError', { message: (err as Error)?.message ?? String(err) });
        });
        return;
      case 'relayAnswers':
        for (const [id, outcome] of message.answers) this.answer(id, outcome);
        return;
      case 'part':
        return;
    }
  }

  /** Answers go out together, one bus message per process for what arrived at once. */
  private queueAnswer(node: string, id: number, outcome: RelayOutcome): void {
    const first = this.answers.size === 0;
    let list = this.answers.get(node);
    if (!list) this.answers.set(node, (list = []));
    list.push([id, outcome]);
    if (first) setImmediate(() => this.flushAnswers());
  }

  private flushAnswers(): void {
    for (const [node, answers] of this.answers) this.publishTo(node, { k: 'relayAnswers', answers });
    this.answers.clear();
  }

  /** Frames unanswered for too long (the ids grow with time, so the oldest come first). */
  private expireRelays(now: number): void {
    for (const [id, p] of this.pending) {
      if (now - p.sent < this.options.relayAnswerTimeoutMs) return;
      this.answer(id, 'unanswered');
    }
  }

  /** A relay frame was answered, or timed out (undefined): its bytes leave the sender's window. */
  private answer(id: number, outcome: RelayOutcome | undefined): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    this.window.release(p.sender, p.node, p.bytes);
    if (outcome) p.answered(outcome);
  }

  private tick(): void {
    this.publishAll({ k: 'beat', seq: this.seq, every: this.heartbeatMs });
    const now = Date.now();
    const stalled = now - this.lastTick > 2 * this.heartbeatMs;
    this.lastTick = now;
    this.expireRelays(now);
    // After a stall of this process the others' beats wait unread in its socket: silence is ours.
    if (stalled) return;
    for (const node of this.nodes.expire(now, this.deadAfterBeats, this.heartbeatMs)) {
      this.options.log('nodeDead', { node, beats: this.deadAfterBeats });
      this.gone(node);
    }
  }

  /** A process left or died: its sessions are gone, and so are the answers it owed. */
  private gone(node: string): void {
    this.snapshotAsked.delete(node);
    for (const [id, p] of this.pending) if (p.node === node) this.answer(id, 'gone');
    this.receiver?.nodeGone(node);
  }

  private sendSnapshot(to: string): void {
    this.publishTo(to, { k: 'snapshot', seq: this.seq, sessions: this.receiver?.localSessions() ?? [] });
  }

  /** At most one request per heartbeat interval: a snapshot answers every event before it. */
  private askSnapshot(node: string): void {
    const now = Date.now();
    const asked = this.snapshotAsked.get(node);
    if (asked !== undefined && now - asked < this.heartbeatMs) return;
    this.snapshotAsked.set(node, now);
    this.publishTo(node, { k: 'snapshotRequest' });
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === Events.Disconnect) {
        this.connected = false;
        this.options.log('busDisconnected', { url: this.options.url });
      } else if (status.type === Events.Reconnect) {
        this.connected = true;
        this.options.log('busReconnected', { url: this.options.url });
      }
    }
  }

  // ---- sending ------------------------------------------------------------------------------

  private publishAll(message: BusMessage, body?: Uint8Array): void {
    this.publish(`${this.prefix}.all`, message, body);
  }

  private publishTo(node: string, message: BusMessage, body?: Uint8Array): void {
    this.publish(this.nodeSubject(node), message, body);
  }

  /** Splits what exceeds the bus's largest message into parts; drops what a closed bus cannot take. */
  private publish(subject: string, message: BusMessage, body?: Uint8Array): void {
    if (this.closing || this.nc.isClosed()) return;
    const whole = encodeEnvelope(this.nodeId, this.inc, message, body);
    const max = this.nc.info?.max_payload ?? 1024 * 1024;
    const pid = ++this.nextId;
    const messages =
      whole.byteLength <= max
        ? [whole]
        : splitBytes(whole, max - PART_HEADROOM).map((piece, i, all) =>
            encodeEnvelope(this.nodeId, this.inc, { k: 'part', pid, i, n: all.length }, piece),
          );
    try {
      for (const m of messages) {
        this.nc.publish(subject, m);
        this.stats.messagesOut++;
        this.stats.bytesOut += m.byteLength;
      }
    } catch (err) {
      this.options.log('busSendFailed', { subject, message: (err as Error).message });
    }
  }

  private nodeSubject(node: string): string {
    return `${this.prefix}.node.${subjectToken(node)}`;
  }
}

/** A NATS subject token: no dots, wildcards or spaces. */
function subjectToken(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_');
}
