import { DEFAULT_CHUNKING, type ChunkingParams } from '../model/chunker';
import { isAlive, type EntryType, type FileRecord } from '../model/file-record';
import { isInternalPath, validatePath } from '../model/path';
import { DEFAULT_PROTECTED_PATH_POLICY, protectedPath, protectedPathMessage } from '../model/protected-paths';
import type { Digester, NeededEntry, PeerPosition, PersistedState, ReplicaMeta } from '../ports/ports';
import { BlockFetcher } from './block-fetcher';
import { BlockLocator, LocalIndex } from './local-index';
import type { PeerSession } from './peer-session';
import type { PathProblem, ReplicaEvent } from './replica-events';
import type { ReplicaOptions } from './replica-options';
import type { ReplicaState } from './replica-status';
import { decideRoot, newRootId } from './root-identity';
import { StoreDigester } from './store-digester';
import { Transaction, type StateView } from './transaction';

/** Told of each commit once it is visible, with the paths it touched. */
export type CommitListener = (tx: Transaction, paths: ReadonlySet<string>) => void;

/**
 * The state every part of a replica shares: the options, the index and what the disk still has to
 * catch up with, where peers stand, the problems and retries of paths, and the one way to change
 * durable state (begin a transaction, commit it). It knows none of the parts that use it.
 */
export class ReplicaCore implements StateView {
  readonly index: LocalIndex;
  readonly locator = new BlockLocator((path) => this.diskRecord(this, path));
  readonly neededMap = new Map<string, NeededEntry>();
  readonly deferredMap = new Map<string, readonly FileRecord[]>();
  readonly positions = new Map<string, PeerPosition>();
  readonly sessions = new Map<string, PeerSession>();
  readonly problems = new Map<string, PathProblem>();
  /** Paths whose last write failed: when to try again, and how long the last wait was. */
  readonly retries = new Map<string, { at: number; delayMs: number }>();
  /** The peer whose index batch brought the version a path still needs: named when it cannot be had. */
  readonly senders = new Map<string, string>();
  /** Conflict copies (path -> the path it belongs to) to merge back once both versions are on this disk. */
  readonly mergeCandidates = new Map<string, string>();
  readonly digester: Digester;
  readonly fetcher: BlockFetcher;
  readonly chunking: ChunkingParams;
  readonly resendMs: number;
  private currentMeta: ReplicaMeta;
  private rootMissing = false;
  /**
   * Set once the marker was found to carry this state's root; cleared while the marker is gone,
   * as what comes back at the path may be another folder.
   */
  rootVerified = false;
  /** The marker turned out to be another root's: the replica must start over (Replica does, between steps). */
  reRootWanted: 'noIdentity' | 'foreignMarker' | undefined;
  /** The marker names another space: nothing is written until it changes. */
  private foreignSpace = false;
  private readonly commitListeners: CommitListener[] = [];

  constructor(
    readonly options: ReplicaOptions,
    meta: ReplicaMeta,
  ) {
    this.currentMeta = meta;
    this.index = new LocalIndex(options.hasher);
    this.chunking = options.chunking ?? DEFAULT_CHUNKING;
    this.resendMs = options.resendIntervalMs ?? 5_000;
    this.digester = options.digester ?? new StoreDigester(options.store, options.hasher, options.readPieceSize);
    this.fetcher = new BlockFetcher(options.port, options.hasher, {
      maxInFlight: options.maxRequestsInFlight ?? 16,
      timeoutMs: options.requestTimeoutMs ?? 30_000,
      retryMs: this.resendMs,
      maxRetryMs: 60_000,
    });
  }

  /** Takes back the durable state a previous run committed. */
  restore(persisted: PersistedState): void {
    for (const r of persisted.records) this.index.set(r);
    for (const n of persisted.needed) this.neededMap.set(n.path, n);
    for (const d of persisted.deferred) this.deferredMap.set(d.path, d.records);
    for (const p of persisted.peers) this.positions.set(p.peer, p);
    for (const r of this.index.records()) {
      const disk = this.diskRecord(this, r.path);
      if (disk) this.locator.add(disk);
    }
  }

  /** The committed meta: index id, sequence, counter, paused. */
  get meta(): ReplicaMeta {
    return this.currentMeta;
  }

  /** Set while the folder's root marker is missing or not this state's; the engine then writes nothing. */
  get stopped(): boolean {
    return this.rootMissing || this.foreignSpace || this.reRootWanted !== undefined;
  }

  /** Whether the state holds nothing a folder could lack: no records, nothing pending. */
  get fresh(): boolean {
    return this.index.size === 0 && this.neededMap.size === 0 && this.deferredMap.size === 0;
  }

  state(): ReplicaState {
    if (this.stopped) return 'stopped';
    if (this.meta.paused) return 'paused';
    return this.neededMap.size > 0 || this.fetcher.pending > 0 ? 'syncing' : 'idle';
  }

  now(): number {
    return this.options.clock.now();
  }

  emit(event: ReplicaEvent): void {
    this.options.onEvent?.(event);
  }

  onCommit(listener: CommitListener): void {
    this.commitListeners.push(listener);
  }

  begin(): Transaction {
    return new Transaction(this, this.meta);
  }

  // StateView over committed state, so a Transaction can read through to it.
  record(path: string): FileRecord | undefined {
    return this.index.get(path);
  }

  needed(path: string): NeededEntry | undefined {
    return this.neededMap.get(path);
  }

  deferred(path: string): readonly FileRecord[] | undefined {
    return this.deferredMap.get(path);
  }

  /** Makes one step's changes durable, then visible, then tells connected peers. */
  async commit(tx: Transaction, metaPatch?: Partial<ReplicaMeta>): Promise<void> {
    if (metaPatch) tx.meta = { ...tx.meta, ...metaPatch };
    if (tx.isEmpty && tx.meta === this.meta) return;
    await this.options.state.commit(tx.toChange());
    const before = new Map<string, FileRecord | undefined>();
    for (const path of new Set([...tx.records.keys(), ...tx.neededChanges.keys()])) {
      before.set(path, this.diskRecord(this, path));
    }
    this.currentMeta = tx.meta;
    for (const r of tx.records.values()) this.index.set(r);
    for (const [path, entry] of tx.neededChanges) {
      if (entry === null) {
        this.neededMap.delete(path);
        this.senders.delete(path);
        if (this.problems.get(path)?.source === 'apply') this.problems.delete(path);
      } else this.neededMap.set(path, entry);
    }
    for (const [path, records] of tx.deferredChanges) {
      if (records === null || records.length === 0) this.deferredMap.delete(path);
      else this.deferredMap.set(path, records);
    }
    for (const p of tx.peers.values()) this.positions.set(p.peer, p);
    for (const [path, old] of before) {
      const now = this.diskRecord(this, path);
      if (old === now) continue;
      if (old) this.locator.remove(old);
      if (now) this.locator.add(now);
    }
    const paths = new Set(before.keys());
    for (const listener of this.commitListeners) listener(tx, paths);
  }

  /** What the engine believes is on disk at a path: the pending write's old state, or the record. */
  diskRecord(view: StateView, path: string): FileRecord | undefined {
    const need = view.needed(path);
    if (need) return need.onDisk;
    const r = view.record(path);
    return isAlive(r) ? r : undefined;
  }

  /**
   * Whether the folder may be touched: its marker is there and carries this state's root. A
   * marker seen again after it was gone is checked anew; one of another root asks for a re-root.
   */
  async checkRoot(): Promise<boolean> {
    if (this.reRootWanted) return false;
    const present = await this.options.store.hasRootMarker();
    if (!present) {
      this.rootVerified = false;
      if (!this.rootMissing) {
        this.rootMissing = true;
        this.emit({ kind: 'stopped', reason: 'rootMissing' });
      }
      return false;
    }
    if (!this.rootVerified && !(await this.verifyRoot())) return false;
    this.markerBack();
    return true;
  }

  private markerBack(): void {
    if (!this.rootMissing) return;
    this.rootMissing = false;
    this.emit({ kind: 'resumed' });
  }

  private async verifyRoot(): Promise<boolean> {
    const marker = await this.options.store.readRoot();
    const decision = decideRoot(marker, { fresh: this.fresh, rootId: this.currentMeta.rootId }, this.options.space);
    if (decision.kind === 'foreignSpace') {
      this.foreignSpace = true;
      this.reportProblem('', {
        code: 'foreignSpace',
        message: `the folder belongs to another shared folder (space ${decision.other}); not syncing it`,
        source: 'local',
      });
      return false;
    }
    if (this.foreignSpace) {
      this.foreignSpace = false;
      this.problems.delete('');
    }
    if (decision.kind === 'reRoot') {
      // The marker is back, but another root's: the replica resumes by starting over there.
      this.reRootWanted = decision.reason;
      this.markerBack();
      return false;
    }
    if (decision.kind === 'claim') await this.claimRoot();
    this.rootVerified = true;
    return true;
  }

  /**
   * Gives the folder a new root identity, recorded in the state first: a crash before the marker
   * is written leaves a state that holds nothing, which claims the folder again at the next start.
   */
  async claimRoot(): Promise<void> {
    const rootId = newRootId(this.options.random);
    await this.commit(this.begin(), { rootId });
    // A host that does not say which space keeps the one the marker names.
    const space = this.options.space ?? (await this.options.store.readRoot())?.space ?? '';
    await this.options.store.claimRoot({ space, root: rootId });
    this.rootVerified = true;
  }

  /** `peer` is the device a remote record came from, named in the problem it may raise. */
  syncable(path: string, type: EntryType, source: 'local' | 'remote', deleted = false, peer?: string): boolean {
    // Before the ignore rules, which a member can change by syncing `.sharedignore`.
    const guarded = this.protects(path, type);
    if (guarded) {
      // A delete writes nothing here, and this disk's own `.git` is no problem, just not shared.
      if (source === 'remote' && !deleted)
        this.reportProblem(path, { code: 'protected', message: protectedPathMessage(guarded), source }, peer);
      return false;
    }
    if (this.ignored(path, type)) return false;
    const problem = validatePath(path);
    if (!problem) return true;
    if (deleted) this.problems.delete(path);
    else this.reportProblem(path, { code: problem.code, message: problem.message, source }, peer);
    return false;
  }

  /** A protected path's record (synced before there was a guard) stays as it was, like an ignored one's. */
  ignored(path: string, type: EntryType): boolean {
    return isInternalPath(path) || this.protects(path, type) !== undefined || (this.options.ignore?.(path, type === 'directory') ?? false);
  }

  /** Why the path never syncs here whatever the ignore rules say, if it does not (protected-paths.ts). */
  protects(path: string, type: EntryType): ReturnType<typeof protectedPath> {
    return protectedPath(path, type, this.options.protectedPaths ?? DEFAULT_PROTECTED_PATH_POLICY);
  }

  /** Keeps the problem for status and tells the host once per path and code; `peer` sent what caused it. */
  reportProblem(path: string, problem: PathProblem, peer?: string): void {
    const old = this.problems.get(path);
    this.problems.set(path, problem);
    if (!old || old.code !== problem.code) this.emit({ kind: 'error', path, problem, ...(peer !== undefined ? { peer } : {}) });
  }
}
