import type { FileRecord } from '../model/file-record';
import { compare } from '../model/version-vector';
import type { DeferredEntry, NeededEntry, PeerPosition, ReplicaMeta, StateChange } from '../ports/ports';

/** Read-through view of the replica's durable state plus the changes of one engine step. */
export interface StateView {
  record(path: string): FileRecord | undefined;
  needed(path: string): NeededEntry | undefined;
  deferred(path: string): readonly FileRecord[] | undefined;
}

/**
 * Collects the changes of one engine step so they reach the state store as one atomic commit and
 * reach memory only after that commit succeeded.
 */
export class Transaction implements StateView {
  readonly records = new Map<string, FileRecord>();
  /** `null` marks a needed entry that this step resolved. */
  readonly neededChanges = new Map<string, NeededEntry | null>();
  readonly deferredChanges = new Map<string, readonly FileRecord[] | null>();
  readonly peers = new Map<string, PeerPosition>();
  meta: ReplicaMeta;

  constructor(
    private readonly base: StateView,
    meta: ReplicaMeta,
  ) {
    this.meta = meta;
  }

  record(path: string): FileRecord | undefined {
    return this.records.get(path) ?? this.base.record(path);
  }

  needed(path: string): NeededEntry | undefined {
    const change = this.neededChanges.get(path);
    return change === null ? undefined : (change ?? this.base.needed(path));
  }

  deferred(path: string): readonly FileRecord[] | undefined {
    const change = this.deferredChanges.get(path);
    return change === null ? undefined : (change ?? this.base.deferred(path));
  }

  /** Adds a waiting version; versions it supersedes go, and one already superseded is not kept. */
  setDeferred(record: FileRecord): void {
    const list = this.deferred(record.path) ?? [];
    if (list.some((r) => ['greater', 'equal'].includes(compare(r.version, record.version)))) return;
    this.deferredChanges.set(record.path, [...list.filter((r) => compare(r.version, record.version) !== 'lesser'), record]);
  }

  clearDeferred(path: string): void {
    if (this.deferred(path)) this.deferredChanges.set(path, null);
  }

  /** Stores a record under the next sequence number. */
  setRecord(record: FileRecord): FileRecord {
    const sequence = this.meta.sequence + 1;
    this.meta = { ...this.meta, sequence };
    const stored = { ...record, sequence };
    this.records.set(record.path, stored);
    return stored;
  }

  /** Updates what only this replica knows of a record (its inode) without a new sequence. */
  keepRecord(record: FileRecord): void {
    this.records.set(record.path, record);
  }

  setNeeded(entry: NeededEntry): void {
    this.neededChanges.set(entry.path, entry);
  }

  clearNeeded(path: string): void {
    this.neededChanges.set(path, null);
  }

  get isEmpty(): boolean {
    return this.records.size === 0 && this.neededChanges.size === 0 && this.deferredChanges.size === 0 && this.peers.size === 0;
  }

  toChange(): StateChange {
    const needed: NeededEntry[] = [];
    const removeNeeded: string[] = [];
    for (const [path, entry] of this.neededChanges) {
      if (entry === null) removeNeeded.push(path);
      else needed.push(entry);
    }
    const deferred: DeferredEntry[] = [];
    const removeDeferred: string[] = [];
    for (const [path, records] of this.deferredChanges) {
      if (records === null) removeDeferred.push(path);
      else deferred.push({ path, records });
    }
    return {
      meta: this.meta,
      records: [...this.records.values()],
      needed,
      removeNeeded,
      deferred,
      removeDeferred,
      peers: [...this.peers.values()],
    };
  }
}
