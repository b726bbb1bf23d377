import type { FileRecord } from '../../src/sync/model/file-record';
import type {
  DeferredEntry,
  NeededEntry,
  PeerPosition,
  PersistedState,
  ReplicaMeta,
  StateChange,
  StateStore,
} from '../../src/sync/ports/ports';
import type { CrashSwitch } from './crash-switch';

/** Durable state in memory: a commit applies whole or not at all, and survives "crashes". */
export class MemoryStateStore implements StateStore {
  private meta: ReplicaMeta | undefined;
  private readonly records = new Map<string, FileRecord>();
  private readonly needed = new Map<string, NeededEntry>();
  private readonly deferred = new Map<string, DeferredEntry>();
  private readonly peers = new Map<string, PeerPosition>();
  commits = 0;

  constructor(private readonly crash: CrashSwitch) {}

  async load(): Promise<PersistedState | undefined> {
    this.crash.tick();
    if (!this.meta) return undefined;
    return structuredClone({
      meta: this.meta,
      records: [...this.records.values()],
      needed: [...this.needed.values()],
      deferred: [...this.deferred.values()],
      peers: [...this.peers.values()],
    });
  }

  async commit(change: StateChange): Promise<void> {
    this.crash.tick();
    const c = structuredClone(change);
    if (c.meta) this.meta = c.meta;
    for (const r of c.records ?? []) this.records.set(r.path, r);
    for (const p of c.removeRecords ?? []) this.records.delete(p);
    for (const n of c.needed ?? []) this.needed.set(n.path, n);
    for (const p of c.removeNeeded ?? []) this.needed.delete(p);
    for (const d of c.deferred ?? []) this.deferred.set(d.path, d);
    for (const p of c.removeDeferred ?? []) this.deferred.delete(p);
    for (const p of c.peers ?? []) this.peers.set(p.peer, p);
    this.commits++;
  }

  async reset(meta: ReplicaMeta): Promise<void> {
    this.crash.tick();
    this.wipe();
    this.meta = structuredClone(meta);
    this.commits++;
  }

  /** Loses everything, as a replica whose state folder was deleted. */
  wipe(): void {
    this.meta = undefined;
    this.records.clear();
    this.needed.clear();
    this.deferred.clear();
    this.peers.clear();
  }
}
