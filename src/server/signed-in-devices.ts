import type { Presence } from '../sync/protocol/rendezvous';
import type { Connection } from './connection';

/** The session connections signed in now, by device and by user: where frames and pushes go. */
export class SignedInDevices {
  private readonly byDevice = new Map<string, Connection>();
  private readonly byUser = new Map<string, Set<Connection>>();

  device(id: string): Connection | undefined {
    return this.byDevice.get(id);
  }

  /** A user's signed-in connections; undefined when there are none. */
  of(user: string): ReadonlySet<Connection> | undefined {
    return this.byUser.get(user);
  }

  *all(): Iterable<Connection> {
    for (const set of this.byUser.values()) yield* set;
  }

  /** Routes to a connection that has signed in (its `device` and `user` are set). */
  add(conn: Connection): void {
    this.byDevice.set(conn.device!.id, conn);
    let set = this.byUser.get(conn.user!);
    if (!set) this.byUser.set(conn.user!, (set = new Set()));
    set.add(conn);
  }

  /** Stops routing to a connection; false when it was not the one routed for its device. */
  remove(conn: Connection): boolean {
    if (!conn.device || this.byDevice.get(conn.device.id) !== conn) return false;
    this.byDevice.delete(conn.device.id);
    const set = this.byUser.get(conn.user!);
    set?.delete(conn);
    if (set?.size === 0) this.byUser.delete(conn.user!);
    return true;
  }

  presenceOf(user: string): Presence {
    const set = this.byUser.get(user);
    if (!set || set.size === 0) return 'offline';
    for (const c of set) if (c.presence === 'online') return 'online';
    return 'away';
  }

  onlineDevices(user: string): string[] {
    return [...(this.byUser.get(user) ?? [])].map((c) => c.device!.id);
  }
}
