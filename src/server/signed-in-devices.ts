import * as crypto from 'node:crypto';
import type { Presence } from '../sync/protocol/rendezvous';
import type { RemoteSession, SessionEvent } from './cluster/cluster';
import type { Connection } from './connection';

/**
 * The session connections signed in now, by device and by user: where frames and pushes go.
 * In a cluster it is also the directory of the sessions signed in on the other processes, so
 * presence and the devices online are the whole cluster's; every change of a local session is
 * announced to them (`announce`).
 */
export class SignedInDevices {
  private readonly byDevice = new Map<string, Connection>();
  private readonly byUser = new Map<string, Set<Connection>>();
  private readonly sessions = new WeakMap<Connection, string>();
  private readonly remoteByDevice = new Map<string, Map<string, RemoteSession>>();
  private readonly remoteByUser = new Map<string, Set<RemoteSession>>();
  private readonly remoteByNode = new Map<string, Set<RemoteSession>>();
  private remoteCount = 0;

  constructor(
    readonly nodeId: string,
    private readonly announce: (event: SessionEvent) => void = () => undefined,
  ) {}

  /** The local session connection of a device. */
  device(id: string): Connection | undefined {
    return this.byDevice.get(id);
  }

  /** A user's signed-in local connections; undefined when there are none. */
  of(user: string): ReadonlySet<Connection> | undefined {
    return this.byUser.get(user);
  }

  *all(): Iterable<Connection> {
    for (const set of this.byUser.values()) yield* set;
  }

  /** Routes to a connection that has signed in (its `device` and `user` are set), as a new session. */
  add(conn: Connection): void {
    const session = crypto.randomBytes(8).toString('hex');
    this.sessions.set(conn, session);
    this.byDevice.set(conn.device!.id, conn);
    let set = this.byUser.get(conn.user!);
    if (!set) this.byUser.set(conn.user!, (set = new Set()));
    set.add(conn);
    this.announce({ k: 'up', device: conn.device!.id, user: conn.user!, session, presence: conn.presence });
  }

  /** Stops routing to a connection; false when it was not the one routed for its device. */
  remove(conn: Connection): boolean {
    if (!conn.device || this.byDevice.get(conn.device.id) !== conn) return false;
    this.byDevice.delete(conn.device.id);
    const set = this.byUser.get(conn.user!);
    set?.delete(conn);
    if (set?.size === 0) this.byUser.delete(conn.user!);
    this.announce({ k: 'down', device: conn.device.id, session: this.sessions.get(conn)! });
    return true;
  }

  /** A signed-in connection says it is online or away. */
  setPresence(conn: Connection, presence: 'online' | 'away'): void {
    conn.presence = presence;
    const session = this.sessions.get(conn);
    if (session !== undefined && this.byDevice.get(conn.device!.id) === conn)
      this.announce({ k: 'presence', device: conn.device!.id, session, presence });
  }

  /** The session id of a local session connection. */
  sessionOf(conn: Connection): string | undefined {
    return this.sessions.get(conn);
  }

  /** The user a device signed in anywhere in the cluster belongs to. */
  userOf(device: string): string | undefined {
    const local = this.byDevice.get(device);
    if (local) return local.user;
    for (const s of this.remoteByDevice.get(device)?.values() ?? []) return s.user;
    return undefined;
  }

  /** Where to send a frame for a device signed in on another process (its newest session there). */
  remote(device: string): RemoteSession | undefined {
    let newest: RemoteSession | undefined;
    for (const s of this.remoteByDevice.get(device)?.values() ?? []) newest = s;
    return newest;
  }

  /** Whether the user has a session anywhere. */
  signedInAnywhere(user: string): boolean {
    return this.byUser.has(user) || this.remoteByUser.has(user);
  }

  presenceOf(user: string): Presence {
    const local = this.byUser.get(user);
    const remote = this.remoteByUser.get(user);
    if (!local?.size && !remote?.size) return 'offline';
    for (const c of local ?? []) if (c.presence === 'online') return 'online';
    for (const s of remote ?? []) if (s.presence === 'online') return 'online';
    return 'away';
  }

  onlineDevices(user: string): string[] {
    const devices = new Set([...(this.byUser.get(user) ?? [])].map((c) => c.device!.id));
    for (const s of this.remoteByUser.get(user) ?? []) devices.add(s.device);
    return [...devices];
  }

  /** This process's sessions, as another process's directory lists them. */
  localSessions(): RemoteSession[] {
    return [...this.all()].map((c) => ({
      node: this.nodeId,
      device: c.device!.id,
      user: c.user!,
      session: this.sessions.get(c)!,
      presence: c.presence,
    }));
  }

  get localCount(): number {
    return this.byDevice.size;
  }

  get remoteSessionCount(): number {
    return this.remoteCount;
  }

  // ---- the directory of other processes' sessions -------------------------------------------

  addRemote(s: RemoteSession): void {
    const old = this.remoteByDevice.get(s.device)?.get(s.session);
    if (old) this.unlist(old);
    let sessions = this.remoteByDevice.get(s.device);
    if (!sessions) this.remoteByDevice.set(s.device, (sessions = new Map()));
    sessions.set(s.session, s);
    this.list(this.remoteByUser, s.user, s);
    this.list(this.remoteByNode, s.node, s);
    this.remoteCount++;
  }

  /** Drops a remote session; returns its user, undefined when it was not listed (an older session's event). */
  removeRemote(node: string, device: string, session: string): string | undefined {
    const s = this.remoteByDevice.get(device)?.get(session);
    if (!s || s.node !== node) return undefined;
    this.unlist(s);
    return s.user;
  }

  setRemotePresence(node: string, device: string, session: string, presence: 'online' | 'away'): string | undefined {
    const s = this.remoteByDevice.get(device)?.get(session);
    if (!s || s.node !== node) return undefined;
    this.addRemote({ ...s, presence });
    return s.user;
  }

  /** Every session of a device on other processes (more than one only for a moment, while one replaces another). */
  remoteSessionsOf(device: string): RemoteSession[] {
    return [...(this.remoteByDevice.get(device)?.values() ?? [])];
  }

  /**
   * Everything a process has signed in, from its snapshot, in place of what was known of it;
   * returns the users whose presence or devices online changed.
   */
  replaceNode(node: string, sessions: readonly RemoteSession[]): Set<string> {
    const users = new Set<string>([...(this.remoteByNode.get(node) ?? [])].map((s) => s.user));
    for (const s of sessions) users.add(s.user);
    const before = new Map([...users].map((u) => [u, this.seenAs(u)]));
    this.dropNode(node);
    for (const s of sessions) this.addRemote({ ...s, node });
    for (const u of users) if (before.get(u) === this.seenAs(u)) users.delete(u);
    return users;
  }

  /** Drops every session of a process; returns their users. */
  dropNode(node: string): Set<string> {
    const users = new Set<string>();
    for (const s of [...(this.remoteByNode.get(node) ?? [])]) {
      users.add(s.user);
      this.unlist(s);
    }
    return users;
  }

  private seenAs(user: string): string {
    return `${this.presenceOf(user)} ${this.onlineDevices(user).sort().join(' ')}`;
  }

  private unlist(s: RemoteSession): void {
    const sessions = this.remoteByDevice.get(s.device);
    if (sessions?.get(s.session) !== s) return;
    sessions.delete(s.session);
    if (sessions.size === 0) this.remoteByDevice.delete(s.device);
    this.unlistFrom(this.remoteByUser, s.user, s);
    this.unlistFrom(this.remoteByNode, s.node, s);
    this.remoteCount--;
  }

  private list(map: Map<string, Set<RemoteSession>>, key: string, s: RemoteSession): void {
    let set = map.get(key);
    if (!set) map.set(key, (set = new Set()));
    set.add(s);
  }

  private unlistFrom(map: Map<string, Set<RemoteSession>>, key: string, s: RemoteSession): void {
    const set = map.get(key);
    set?.delete(s);
    if (set?.size === 0) map.delete(key);
  }
}
