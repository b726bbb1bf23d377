import { equalBytes, toHex, utf8 } from '../util/bytes';
import { BlockFetcher, URGENCY_OPEN, urgencyOfSize } from './block-fetcher';
import { DEFAULT_CHUNKING, type ChunkingParams } from '../model/chunker';
import { conflictCopyRecord, parseConflictCopyPath } from '../model/conflict';
import { mergeConflict } from './conflict-merge';
import { blocksOf, contentHash } from '../model/content-hash';
import { entryMatches, expectationFor } from './expectation';
import { blockOffsets, isAlive, NO_HASH, sameContent, type EntryType, type FileRecord } from '../model/file-record';
import { BlockLocator, LocalIndex } from './local-index';
import { DEFAULT_MASS_DELETE, isMassDelete, type MassDeleteOptions } from './mass-delete-guard';
import { depth, isAncestor, isInternalPath, parentOf, validatePath } from '../model/path';
import type { Clock } from '../ports/clock';
import type { Hasher } from '../ports/hasher';
import type { Random } from '../ports/random';
import {
  StoreError,
  type FileStore,
  type MessagePort,
  type NeededEntry,
  type PeerPosition,
  type ContentDigest,
  type Digester,
  type ReplicaMeta,
  type StateStore,
  type StoreEntry,
  type TempFile,
} from '../ports/ports';
import type { BlockRequest, BlockResponse, Hello, IndexBatch, Message, SummaryNotice } from '../protocol/messages';
import { inLanes } from './lanes';
import { MERGE_MAX_BYTES } from '../text/text-merge';
import { reconcile } from '../model/reconcile';
import { StoreDigester } from './store-digester';
import { Transaction, type StateView } from './transaction';
import { EMPTY_VECTOR, merge, nextCounter, withCounter, type VersionVector } from '../model/version-vector';

export interface ReplicaOptions {
  /** Name of the local user; conflict copies carry it. */
  readonly user: string;
  readonly store: FileStore;
  readonly state: StateStore;
  readonly port: MessagePort;
  readonly clock: Clock;
  readonly random: Random;
  readonly hasher: Hasher;
  readonly chunking?: ChunkingParams;
  /**
   * Paths (relative) the user chose not to sync, in either direction. Internal paths are always
   * excluded. A path that becomes ignored keeps its last record: ignoring is not deleting.
   */
  readonly ignore?: (path: string, directory: boolean) => boolean;
  readonly massDelete?: MassDeleteOptions;
  readonly maxRequestsInFlight?: number;
  readonly requestTimeoutMs?: number;
  readonly resendIntervalMs?: number;
  readonly antiEntropyMs?: number;
  readonly batchRecords?: number;
  readonly readPieceSize?: number;
  /** Hashes file contents; by default through the store on the engine's thread. */
  readonly digester?: Digester;
  /** Files digested at once during a scan. */
  readonly scanConcurrency?: number;
  /** First wait before a path that failed to write is tried again; doubles up to a minute. */
  readonly retryMs?: number;
  /** Text files up to this size keep merge bases. */
  readonly baseMaxSize?: number;
  /** Files the user has open (in an editor): they are fetched before everything else. */
  readonly isOpen?: (path: string) => boolean;
  /**
   * Whether this replica settles a text conflict it resolved by merging both edits (default
   * yes). Not on a reader: the others refuse its versions, so a merged version only it holds
   * would stand against every later edit of the file there.
   */
  readonly mergesEdits?: () => boolean;
  readonly onEvent?: (event: ReplicaEvent) => void;
}

export type ReplicaEvent =
  | { readonly kind: 'conflict'; readonly path: string; readonly copyPath?: string; readonly winner: FileRecord; readonly loser: FileRecord; readonly base?: Uint8Array }
  /**
   * A conflict this replica settled by a three-way merge: `record`, the new version at `path`,
   * holds the edits of both `winner` and `loser`, and the copy at `copyPath` is deleted (unless
   * the user edited it meanwhile, which then stands).
   */
  | { readonly kind: 'merged'; readonly path: string; readonly copyPath: string; readonly record: FileRecord; readonly winner: FileRecord; readonly loser: FileRecord }
  | { readonly kind: 'error'; readonly path: string; readonly problem: PathProblem }
  | { readonly kind: 'paused'; readonly reason: 'massDelete'; readonly deletes: number; readonly liveFiles: number }
  | { readonly kind: 'stopped'; readonly reason: 'rootMissing' }
  | { readonly kind: 'resumed' }
  | { readonly kind: 'unobtainable'; readonly path: string };

/** Why one path does not sync; the rest of the folder goes on. */
export interface PathProblem {
  readonly code: string;
  readonly message: string;
  /** A local name we cannot sync, a peer's record we refused, or a write that failed. */
  readonly source: 'local' | 'remote' | 'apply';
}

export type ReplicaState = 'idle' | 'syncing' | 'paused' | 'stopped';

export interface ConflictInfo {
  readonly path: string;
  readonly copyPath: string;
  readonly user: string;
  readonly stamp: string;
}

export interface ScanReport {
  readonly changed: number;
  readonly state: ReplicaState;
}

/** Volatile state of a connection to one peer replica. */
interface Session {
  /** Highest sequence of our index already sent; undefined until the peer said hello. */
  sentUpTo?: number;
  theirMax: number;
  lastResendAt: number;
  lastSummaryAt: number;
}

/** A file being put together from local and remote blocks in a temp file. */
interface Assembly {
  readonly record: FileRecord;
  readonly temp: TempFile;
  /** Block hash -> offsets in the file that still lack it. */
  readonly missing: Map<string, { hash: Uint8Array; size: number; offsets: number[] }>;
  /**
   * The writes of blocks at hand, one after another, while the engine goes on: a step need not
   * wait for the disk to take a block. Awaited before the file is sealed or discarded.
   */
  writes: Promise<void>;
  /** What the first failed write threw; the file is then written off (or the error rethrown, if it is not the store's). */
  failure?: unknown;
  /** Set when a block holds a NUL byte: no text, so no merge base to read it back for. */
  binary?: boolean;
}

type Outcome = 'done' | 'wait';

/** A file whose every block is in its temp file, waiting to be installed with others. */
interface CompletedFile {
  readonly assembly: Assembly;
  /** The record and the disk state it was judged against; if either changed since, it is judged again. */
  readonly target: FileRecord;
  readonly onDisk: FileRecord | undefined;
}

/** Files installed in one step at most: one journal commit and one sync per folder for all of them. */
const INSTALL_BATCH = 64;
/** Block bytes received but not yet written to their temp files, before intake waits for the disk. */
const MAX_UNWRITTEN_BYTES = 16 * 1024 * 1024;
/** Completed files verified and sealed at once: their waits for the disk overlap. */
const INSTALL_LANES = 8;

/**
 * One device's replica of one shared folder: the multi-master state machine. All entry points
 * run one at a time, so a step always sees the state the previous step committed; only block
 * requests are answered meanwhile, as they read files and change nothing.
 */
export class Replica {
  private readonly index: LocalIndex;
  private readonly locator = new BlockLocator((path) => this.diskRecord(this, path));
  private readonly neededMap = new Map<string, NeededEntry>();
  private readonly deferredMap = new Map<string, readonly FileRecord[]>();
  private readonly positions = new Map<string, PeerPosition>();
  private readonly sessions = new Map<string, Session>();
  private readonly assemblies = new Map<string, Assembly>();
  /** Files whose last missing block arrived: applied once per burst of steps, not once per block. */
  private readonly arrived = new Set<string>();
  private unwrittenBytes = 0;
  /** Completed files not installed yet: held while more steps wait, so that a burst installs together. */
  private readonly completed = new Map<string, CompletedFile>();
  /** Steps queued behind the running one. */
  private waitingSteps = 0;
  private readonly problems = new Map<string, PathProblem>();
  /** Paths whose last write failed: when to try again, and how long the last wait was. */
  private readonly retries = new Map<string, { at: number; delayMs: number }>();
  private readonly digester: Digester;
  /** Content hashes (hex) whose bytes the store keeps as merge bases. */
  private readonly bases = new Set<string>();
  private readonly fetcher: BlockFetcher;
  private readonly chunking: ChunkingParams;
  private readonly massDelete: MassDeleteOptions;
  private readonly resendMs: number;
  private meta: ReplicaMeta;
  private stopped = false;
  /** Set at start and when records change, so the merge-base clean-up skips idle ticks. */
  private basesMayBeUnused = true;
  /** Paths whose current version may deserve a merge base; kept a few at a time, off the scan's path. */
  private readonly baseCandidates = new Set<string>();
  /** Conflict copies (path -> the path it belongs to) to merge back once both versions are on this disk. */
  private readonly mergeCandidates = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly options: ReplicaOptions,
    meta: ReplicaMeta,
  ) {
    this.meta = meta;
    this.index = new LocalIndex(options.hasher);
    this.chunking = options.chunking ?? DEFAULT_CHUNKING;
    this.massDelete = options.massDelete ?? DEFAULT_MASS_DELETE;
    this.resendMs = options.resendIntervalMs ?? 5_000;
    this.digester = options.digester ?? new StoreDigester(options.store, options.hasher, options.readPieceSize);
    this.fetcher = new BlockFetcher(options.port, options.hasher, {
      maxInFlight: options.maxRequestsInFlight ?? 16,
      timeoutMs: options.requestTimeoutMs ?? 30_000,
      retryMs: this.resendMs,
    });
  }

  /** Loads the replica's durable state, or starts a new index if there is none. */
  static async open(options: ReplicaOptions): Promise<Replica> {
    const persisted = await options.state.load();
    if (persisted === undefined) {
      const meta: ReplicaMeta = { indexId: newIndexId(options.random), sequence: 0, counter: 0, paused: false };
      await options.state.commit({ meta });
      return new Replica(options, meta);
    }
    const replica = new Replica(options, persisted.meta);
    for (const r of persisted.records) replica.index.set(r);
    for (const n of persisted.needed) replica.neededMap.set(n.path, n);
    for (const d of persisted.deferred) replica.deferredMap.set(d.path, d.records);
    for (const p of persisted.peers) replica.positions.set(p.peer, p);
    for (const r of replica.index.records()) {
      const disk = replica.diskRecord(replica, r.path);
      if (disk) replica.locator.add(disk);
    }
    for (const b of await options.store.listBases()) replica.bases.add(b);
    // A crash may have come between resolving a conflict and merging it.
    for (const c of replica.conflicts()) replica.mergeCandidates.set(c.copyPath, c.path);
    // Finish what a crash interrupted (conflict copies from local bytes first) before anything
    // else can touch the folder.
    await replica.serial(() => replica.applyNeeded());
    return replica;
  }

  // ---- public surface -------------------------------------------------------------------

  get indexId(): string {
    return this.meta.indexId;
  }

  /** How far this replica has read a peer's index. */
  positionOf(peer: string): PeerPosition | undefined {
    return this.positions.get(peer);
  }

  /** Highest sequence issued in this replica's index. */
  get sequence(): number {
    return this.meta.sequence;
  }

  summary(): Uint8Array {
    return this.index.summary();
  }

  get vector(): VersionVector {
    return this.index.vector;
  }

  records(): FileRecord[] {
    return [...this.index.records()];
  }

  record(path: string): FileRecord | undefined {
    return this.index.get(path);
  }

  neededPaths(): string[] {
    return [...this.neededMap.keys()];
  }

  /** Whether a file on this replica's disk holds the block, as far as the index knows. */
  holdsBlock(hash: Uint8Array): boolean {
    return this.locator.find(hash).length > 0;
  }

  errors(): ReadonlyMap<string, PathProblem> {
    return this.problems;
  }

  state(): ReplicaState {
    if (this.stopped) return 'stopped';
    if (this.meta.paused) return 'paused';
    return this.neededMap.size > 0 || this.fetcher.pending > 0 ? 'syncing' : 'idle';
  }

  /** Conflicts as every replica sees them: live conflict copies next to their files. */
  conflicts(): ConflictInfo[] {
    const out: ConflictInfo[] = [];
    for (const r of this.index.records()) {
      if (r.deleted) continue;
      const parsed = parseConflictCopyPath(r.path);
      if (parsed) out.push({ path: parsed.original, copyPath: r.path, user: parsed.user, stamp: parsed.stamp });
    }
    return out.sort((a, b) => (a.copyPath < b.copyPath ? -1 : 1));
  }

  /** Looks at the whole folder and records what the user changed since the last scan. */
  scan(): Promise<ScanReport> {
    return this.serial(() => this.scanNow({}));
  }

  /** Looks only at these paths, and below those that are or were directories: what a watcher saw change. */
  scanPaths(paths: readonly string[]): Promise<ScanReport> {
    const scope = topmostPaths(paths);
    if (scope.length === 0) return Promise.resolve({ changed: 0, state: this.state() });
    return this.serial(() => this.scanNow(scope[0] === '' ? {} : { scope }));
  }

  /** The user's answer after a mass delete paused the space. */
  resolveMassDelete(choice: 'delete' | 'restore'): Promise<ScanReport> {
    return this.serial(async () => {
      await this.commit(this.begin(), { paused: false });
      this.emit({ kind: 'resumed' });
      return this.scanNow(choice === 'delete' ? { confirmDeletes: true } : { restore: true });
    });
  }

  /**
   * The ignore rules changed: records from peers that the old rules refused were skipped for
   * good, so every peer is asked for its whole index again.
   */
  ignoreRulesChanged(): Promise<void> {
    return this.serial(async () => {
      const tx = this.begin();
      for (const p of this.positions.values()) tx.peers.set(p.peer, { ...p, sequence: 0 });
      await this.commit(tx);
      for (const [peer, session] of this.sessions) {
        session.theirMax = 0;
        this.sendHello(peer, false);
      }
    });
  }

  peerUp(peer: string): Promise<void> {
    return this.serial(async () => {
      this.sessions.set(peer, { theirMax: 0, lastResendAt: -Infinity, lastSummaryAt: this.now() });
      this.sendHello(peer, false);
    });
  }

  peerDown(peer: string): Promise<void> {
    return this.serial(async () => {
      this.sessions.delete(peer);
      this.fetcher.peerGone(peer);
    });
  }

  receive(peer: string, message: Message): Promise<void> {
    // Answering reads files and changes no state, so it need not wait behind writes: the reply
    // is verified against its hash whatever happens to the file meanwhile.
    if (message.type === 'blockRequest') return this.sessions.has(peer) ? this.onBlockRequest(peer, message) : Promise.resolve();
    return this.serial(async () => {
      // Only peers the transport reported as connected take part; late frames of a closed link don't.
      if (!this.sessions.has(peer)) return;
      switch (message.type) {
        case 'hello':
          return this.onHello(peer, message);
        case 'index':
          return this.onIndex(peer, message);
        case 'blockResponse':
          return this.onBlockResponse(peer, message);
        case 'summary':
          return this.onSummary(peer, message);
      }
    });
  }

  /** Periodic work: timeouts, retries, gap recovery, anti-entropy. */
  tick(): Promise<void> {
    return this.serial(async () => {
      const now = this.now();
      for (const [peer, s] of this.sessions) {
        if (s.theirMax > (this.positions.get(peer)?.sequence ?? 0)) this.requestResend(peer, s);
        if (now - s.lastSummaryAt >= (this.options.antiEntropyMs ?? 60_000)) {
          s.lastSummaryAt = now;
          this.options.port.send(peer, { type: 'summary', summary: this.summary() });
        }
      }
      this.fetcher.expire(now);
      await this.giveUpUnobtainable();
      await this.keepBases();
      await this.dropUnusedBases();
      await this.applyNeeded();
    });
  }

  /**
   * A version whose bytes no replica has any more cannot be written. What this disk holds at
   * the path then stands, as a new version that supersedes the unobtainable one everywhere.
   */
  private async giveUpUnobtainable(): Promise<void> {
    const gone = new Set(this.fetcher.unobtainable([...this.positions.keys()], [...this.sessions.keys()]).map(toHex));
    if (gone.size === 0) return;
    const tx = this.begin();
    for (const [path, assembly] of this.assemblies) {
      if (![...assembly.missing.keys()].some((k) => gone.has(k))) continue;
      const target = tx.record(path)!;
      const onDisk = tx.needed(path)?.onDisk;
      const standing: FileRecord = onDisk
        ? { ...onDisk, version: this.issueVersion(tx, merge(target.version, onDisk.version)), modifiedBy: this.options.user }
        : this.bareVersion(tx, path, target.type, true, target.version);
      this.place(tx, standing, onDisk, true);
      this.emit({ kind: 'unobtainable', path });
    }
    await this.commit(tx);
  }

  // ---- serialisation and commits ---------------------------------------------------------

  private serial<T>(step: () => Promise<T>): Promise<T> {
    this.waitingSteps++;
    const run = this.queue.then(async () => {
      this.waitingSteps--;
      const result = await step();
      // The last step of a burst applies and installs what the burst completed.
      if (this.waitingSteps === 0 && (this.arrived.size > 0 || this.completed.size > 0)) await this.applyArrived();
      return result;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private now(): number {
    return this.options.clock.now();
  }

  private emit(event: ReplicaEvent): void {
    this.options.onEvent?.(event);
  }

  private begin(): Transaction {
    return new Transaction(this, this.meta);
  }

  // StateView over committed state, so a Transaction can read through to it.
  needed(path: string): NeededEntry | undefined {
    return this.neededMap.get(path);
  }

  deferred(path: string): readonly FileRecord[] | undefined {
    return this.deferredMap.get(path);
  }

  /** Makes one step's changes durable, then visible, then tells connected peers. */
  private async commit(tx: Transaction, metaPatch?: Partial<ReplicaMeta>): Promise<void> {
    if (metaPatch) tx.meta = { ...tx.meta, ...metaPatch };
    if (tx.isEmpty && tx.meta === this.meta) return;
    await this.options.state.commit(tx.toChange());
    const before = new Map<string, FileRecord | undefined>();
    for (const path of new Set([...tx.records.keys(), ...tx.neededChanges.keys()])) {
      before.set(path, this.diskRecord(this, path));
    }
    this.meta = tx.meta;
    for (const r of tx.records.values()) this.index.set(r);
    for (const [path, entry] of tx.neededChanges) {
      if (entry === null) {
        this.neededMap.delete(path);
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
    if (tx.records.size > 0) {
      this.basesMayBeUnused = true;
      this.pushIndex();
    }
    for (const path of before.keys()) this.baseCandidates.add(path);
  }

  /**
   * Saves the bytes of small text versions now on disk, so a later conflict on them has the
   * version both sides started from; runs on `tick`, as does dropping what no record refers to.
   */
  private async keepBases(): Promise<void> {
    const max = this.options.baseMaxSize ?? MERGE_MAX_BYTES;
    // A budget per tick: a first scan of a large folder must not read every small file twice at once.
    let budget = 8 * max;
    for (const path of this.baseCandidates) {
      if (budget <= 0) break;
      this.baseCandidates.delete(path);
      const record = this.index.get(path);
      if (!isAlive(record) || record.type !== 'file' || record.size > max || this.neededMap.has(path)) continue;
      const key = toHex(record.hash);
      if (this.bases.has(key)) continue;
      let data: Uint8Array;
      budget -= record.size + 4096;
      try {
        data = await this.options.store.read(path, 0, record.size);
      } catch (err) {
        if (err instanceof StoreError) continue;
        throw err;
      }
      if (data.includes(0) || !equalBytes(blocksOfContent(data, this.options.hasher, this.chunking), record.hash)) continue;
      await this.options.store.putBase(key, data);
      this.bases.add(key);
    }
  }

  private async dropUnusedBases(): Promise<void> {
    if (!this.basesMayBeUnused || this.bases.size === 0) return;
    this.basesMayBeUnused = false;
    const used = new Set<string>();
    for (const r of this.index.records()) {
      if (r.deleted || r.type !== 'file') continue;
      used.add(toHex(r.hash));
      if (r.ancestor.length > 0) used.add(toHex(r.ancestor));
    }
    for (const key of [...this.bases]) {
      if (used.has(key)) continue;
      await this.options.store.dropBase(key);
      this.bases.delete(key);
    }
  }

  /** The merge base a conflict event named, if this replica kept it. */
  readBase(hash: Uint8Array): Promise<Uint8Array | undefined> {
    return this.serial(() => this.options.store.getBase(toHex(hash)));
  }

  /** What the engine believes is on disk at a path: the pending write's old state, or the record. */
  private diskRecord(view: StateView, path: string): FileRecord | undefined {
    const need = view.needed(path);
    if (need) return need.onDisk;
    const r = view.record(path);
    return isAlive(r) ? r : undefined;
  }

  // ---- integrating versions --------------------------------------------------------------

  /**
   * Brings one version (from a peer, from the local disk, or a conflict copy) into the index.
   * `disk` is what is on disk at the path after the event that produced the version; `local`
   * says the version is the user's own, observed on this disk.
   *
   * A conflict is resolved only by a replica that holds the losing content on its own disk, so
   * the conflict copy it publishes can always be fetched from it. A replica without the loser's
   * bytes leaves the conflict to the one that has them: that replica will receive our version
   * and resolve it, and its merged record then supersedes both.
   */
  private integrate(tx: Transaction, incoming: FileRecord, disk: FileRecord | undefined, local = false): void {
    const current = tx.record(incoming.path);
    const decision = reconcile(current, incoming);
    if (decision.kind === 'ignore') {
      if (disk !== this.diskRecord(tx, incoming.path) && current) this.place(tx, current, disk, false);
      return;
    }
    const copy = decision.kind === 'conflict' ? decision.copy : undefined;
    if (copy && !this.holdsContent(tx, copy, disk)) {
      // Judge again once the disk changes. The user's own edit is recorded meanwhile: it stands
      // as their version, and the version it displaced waits.
      if (local) {
        if (current) tx.setDeferred(current);
        this.place(tx, incoming, disk, true);
      } else {
        tx.setDeferred(incoming);
      }
      return;
    }
    this.place(tx, decision.record, disk, true);
    if (decision.kind === 'conflict') {
      if (copy) {
        this.integrate(tx, copy, this.diskRecord(tx, copy.path));
        this.mergeCandidates.set(copy.path, incoming.path);
      }
      const base =
        current && current.ancestor.length > 0 && equalBytes(current.ancestor, incoming.ancestor) ? current.ancestor : undefined;
      this.emit({
        kind: 'conflict',
        path: incoming.path,
        winner: decision.record,
        loser: decision.loser,
        ...(copy ? { copyPath: copy.path } : {}),
        ...(base ? { base } : {}),
      });
    }
  }

  /** Whether this replica's disk has the copy's content, at the copy's path or at the original. */
  private holdsContent(tx: Transaction, copy: FileRecord, diskAtOriginal: FileRecord | undefined): boolean {
    const atCopy = this.diskRecord(tx, copy.path);
    return (
      (diskAtOriginal !== undefined && sameContent(diskAtOriginal, copy)) || (atCopy !== undefined && sameContent(atCopy, copy))
    );
  }

  /** Sets the record for a path and notes whether the disk still has to catch up with it. */
  private place(tx: Transaction, record: FileRecord, disk: FileRecord | undefined, isNewVersion: boolean): void {
    const stored = isNewVersion ? tx.setRecord(record) : record;
    if (needsWrite(stored, disk)) tx.setNeeded({ path: record.path, ...(disk ? { onDisk: disk } : {}) });
    else if (tx.needed(record.path)) tx.clearNeeded(record.path);
  }

  private issueVersion(tx: Transaction, base: VersionVector): VersionVector {
    const counter = nextCounter(tx.meta.counter, this.now());
    tx.meta = { ...tx.meta, counter };
    return withCounter(base, this.meta.indexId, counter);
  }

  // ---- scanning the local folder ---------------------------------------------------------

  private async scanNow(mode: { confirmDeletes?: boolean; restore?: boolean; scope?: readonly string[] }): Promise<ScanReport> {
    if (!(await this.checkRoot())) return { changed: 0, state: this.state() };
    if (this.meta.paused) return { changed: 0, state: this.state() };
    const listed = mode.scope ? await this.listScope(mode.scope) : { entries: await this.options.store.list(), missing: [] };
    const { entries } = listed;
    const scope = mode.scope && (await this.widenToVanishedFolders(mode.scope, listed.missing));
    for (const [path, p] of [...this.problems]) if (p.source === 'local' && inScope(scope, path)) this.problems.delete(path);
    const seen = new Set<string>();
    const present: StoreEntry[] = [];
    for (const entry of entries) {
      if (!this.syncable(entry.path, entry.type, 'local')) continue;
      seen.add(entry.path);
      present.push(entry);
    }
    let changed = 0;
    /** Whether the scan recorded anything at all, a new inode included. */
    let touched = false;
    let tx = this.begin();
    const arrived = new Set<string>();
    // Digest in slices, committing as we go: an interrupted first scan of a large folder keeps
    // what it hashed, and memory holds one slice of digests at a time.
    const slice = 1024;
    for (let i = 0; i < present.length; i += slice) {
      const part = present.slice(i, i + slice);
      const contents = await this.digestChanged(part);
      for (const entry of part) await this.observe(tx, entry.path, entry, contents.get(entry.path));
      if (tx.records.size >= 4 * slice) {
        noteArrivals(tx, arrived);
        changed += tx.records.size;
        touched ||= !tx.isEmpty;
        await this.commit(tx);
        tx = this.begin();
      }
    }
    // A path the user has since chosen to ignore is not deleted: its record stays as it was.
    const gone = this.candidatesForDeletion(scope).filter((path) => !seen.has(path) && !this.ignored(path, this.diskRecord(this, path)!.type));
    if (!mode.confirmDeletes && !mode.restore && gone.length > 0) {
      const liveFiles = this.index.liveFiles;
      // A file whose bytes turned up under another name in the same scan was moved, not deleted:
      // renaming a large folder is not a mass delete.
      noteArrivals(tx, arrived);
      const deletedFiles = gone.filter((p) => {
        const onDisk = this.diskRecord(this, p);
        return onDisk?.type === 'file' && !arrived.has(toHex(onDisk.hash));
      }).length;
      if (isMassDelete(liveFiles, deletedFiles, this.massDelete)) {
        await this.commit(tx, { paused: true });
        this.emit({ kind: 'paused', reason: 'massDelete', deletes: deletedFiles, liveFiles });
        return { changed: changed + tx.records.size, state: this.state() };
      }
    }
    for (const path of gone) {
      if (mode.restore) {
        const r = tx.record(path);
        if (isAlive(r)) tx.setNeeded({ path });
      } else {
        await this.observe(tx, path, undefined);
      }
    }
    changed += tx.records.size;
    touched ||= !tx.isEmpty;
    await this.commit(tx);
    // A scan that found nothing new (the watcher reporting our own writes, most often) leaves
    // nothing new to apply: the pass over every needed path waits for the next tick.
    if (touched) await this.applyNeeded();
    return { changed, state: this.state() };
  }

  /**
   * The scope of a scan, each missing path widened to the topmost folder around it that vanished,
   * and without paths inside others. A folder moved or deleted whole can reach a scoped scan as
   * some of its files first (a watcher's events of the moment, the engine's own writes among them)
   * and the folder later: scanned apart, each part could stay under the mass-delete guard's share.
   * A vanished folder lists nothing, so widening adds deletion candidates only.
   */
  private async widenToVanishedFolders(scope: readonly string[], missing: readonly string[]): Promise<string[]> {
    const vanished = new Map<string, boolean>();
    const isVanished = async (dir: string): Promise<boolean> => {
      let known = vanished.get(dir);
      if (known === undefined) {
        known = this.diskRecord(this, dir)?.type === 'directory' && !(await this.options.store.stat(dir));
        vanished.set(dir, known);
      }
      return known;
    };
    const widened = new Set(scope);
    for (const path of missing) {
      let top = path;
      for (let dir = parentOf(top); dir !== '' && (await isVanished(dir)); dir = parentOf(dir)) top = dir;
      widened.add(top);
    }
    return [...widened].filter((path) => !hasAncestorIn(widened, path));
  }

  /** The entries at and below each scope path, as the store has them now, and the scope paths it does not have. */
  private async listScope(scope: readonly string[]): Promise<{ entries: StoreEntry[]; missing: string[] }> {
    const entries: StoreEntry[] = [];
    const missing: string[] = [];
    for (const path of scope) {
      if (isInternalPath(path)) continue;
      const entry = await this.options.store.stat(path);
      if (!entry) missing.push(path);
      if (!entry || this.options.ignore?.(path, entry.type === 'directory')) continue;
      entries.push(entry);
      if (entry.type === 'directory') entries.push(...(await this.options.store.list(path)));
    }
    return { entries, missing };
  }

  /** Paths in scope that the engine believes are on disk. */
  private candidatesForDeletion(scope: readonly string[] | undefined): string[] {
    const out: string[] = [];
    if (!scope) {
      for (const r of this.index.records()) if (this.diskRecord(this, r.path)) out.push(r.path);
      return out;
    }
    const directories = new Set<string>();
    for (const path of scope) {
      const onDisk = this.diskRecord(this, path);
      if (onDisk) out.push(path);
      if (onDisk?.type === 'directory') directories.add(path);
    }
    if (directories.size === 0) return out;
    for (const r of this.index.records()) {
      if (!directories.has(r.path) && hasAncestorIn(directories, r.path) && this.diskRecord(this, r.path)) out.push(r.path);
    }
    return out;
  }

  /** Digests, several at once, the files whose size, mtime or inode differ from what the engine last saw. */
  private async digestChanged(entries: readonly StoreEntry[]): Promise<Map<string, ContentDigest | undefined>> {
    const todo = entries.filter((entry) => {
      if (entry.type !== 'file') return false;
      const expected = this.diskRecord(this, entry.path);
      return !(expected && entryMatches(expected, entry));
    });
    const out = new Map<string, ContentDigest | undefined>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < todo.length) {
        const entry = todo[next++]!;
        out.set(entry.path, await this.digester.digest({ path: entry.path }, entry.size, this.chunking));
      }
    };
    const lanes = Math.min(this.options.scanConcurrency ?? 8, todo.length);
    await Promise.all(Array.from({ length: lanes }, worker));
    return out;
  }

  private syncable(path: string, type: EntryType, source: 'local' | 'remote', deleted = false): boolean {
    if (this.ignored(path, type)) return false;
    const problem = validatePath(path);
    if (!problem) return true;
    if (deleted) this.problems.delete(path);
    else this.reportProblem(path, { code: problem.code, message: problem.message, source });
    return false;
  }

  private ignored(path: string, type: EntryType): boolean {
    return isInternalPath(path) || (this.options.ignore?.(path, type === 'directory') ?? false);
  }

  private reportProblem(path: string, problem: PathProblem): void {
    const old = this.problems.get(path);
    this.problems.set(path, problem);
    if (!old || old.code !== problem.code) this.emit({ kind: 'error', path, problem });
  }

  /**
   * Compares one path on disk with what the engine believes is there and records a change.
   * `digest` is the file's content when the caller already read it.
   */
  private async observe(tx: Transaction, path: string, entry: StoreEntry | undefined, digest?: ContentDigest): Promise<void> {
    const need = tx.needed(path);
    const record = tx.record(path);
    const expected = need ? need.onDisk : isAlive(record) ? record : undefined;
    const base = need ? (need.onDisk?.version ?? EMPTY_VECTOR) : (record?.version ?? EMPTY_VECTOR);
    if (entry === undefined) {
      if (!expected) return;
      this.integrate(tx, this.bareVersion(tx, path, expected.type, true, base, expected.hash), undefined, true);
      return;
    }
    if (expected && entryMatches(expected, entry)) return;
    const content = digest ?? (await this.readContent(entry));
    if (content === undefined) return; // changing under us; the next scan sees it settled
    if (expected && sameOnDisk(expected, entry, content.hash)) {
      // Replaced by identical bytes with the same size and mtime: nothing to version, only the inode to remember.
      this.noteInode(tx, path, entry.inode);
      return;
    }
    const version = this.issueVersion(tx, base);
    const observed: FileRecord = {
      path,
      type: entry.type,
      deleted: false,
      size: entry.type === 'file' ? entry.size : 0,
      mtime: entry.type === 'directory' ? 0 : entry.mtime,
      executable: entry.type === 'file' && entry.executable,
      hash: content.hash,
      blocks: content.blocks,
      target: entry.target ?? '',
      version,
      modifiedBy: this.options.user,
      ancestor: expected?.hash ?? NO_HASH,
      sequence: 0,
      ...(entry.type === 'file' && entry.inode !== 0 ? { inode: entry.inode } : {}),
    };
    this.integrate(tx, observed, observed, true);
  }

  /** Remembers where a version now lives on this disk; a local fact that makes no new version. */
  private noteInode(tx: Transaction, path: string, inode: number): void {
    if (inode === 0) return;
    const need = tx.needed(path);
    if (need?.onDisk) {
      tx.setNeeded({ ...need, onDisk: { ...need.onDisk, inode } });
      return;
    }
    const record = tx.record(path);
    if (isAlive(record) && record.type === 'file' && record.inode !== inode) tx.keepRecord({ ...record, inode });
  }

  private async readContent(entry: StoreEntry): Promise<ContentDigest | undefined> {
    if (entry.type === 'directory') return { hash: NO_HASH, blocks: [] };
    if (entry.type === 'symlink') return { hash: this.options.hasher.sha256(utf8(entry.target ?? '')), blocks: [] };
    return this.digester.digest({ path: entry.path }, entry.size, this.chunking);
  }

  private async checkRoot(): Promise<boolean> {
    const present = await this.options.store.hasRootMarker();
    if (!present && !this.stopped) {
      this.stopped = true;
      this.emit({ kind: 'stopped', reason: 'rootMissing' });
    } else if (present && this.stopped) {
      this.stopped = false;
      this.emit({ kind: 'resumed' });
    }
    return present;
  }

  // ---- index exchange --------------------------------------------------------------------

  private sendHello(peer: string, reply: boolean): void {
    const pos = this.positions.get(peer);
    const hello: Hello = {
      type: 'hello',
      indexId: this.meta.indexId,
      maxSequence: this.meta.sequence,
      knownIndexId: pos?.indexId ?? '',
      knownSequence: pos?.sequence ?? 0,
      summary: this.summary(),
      reply,
    };
    this.options.port.send(peer, hello);
  }

  private async onHello(peer: string, hello: Hello): Promise<void> {
    const session = this.sessions.get(peer)!;
    session.theirMax = hello.maxSequence;
    const pos = this.positions.get(peer);
    if (pos && pos.indexId !== hello.indexId) {
      // The peer lost its state and started a new index: read it from the start.
      const tx = this.begin();
      tx.peers.set(peer, { peer, indexId: hello.indexId, sequence: 0 });
      await this.commit(tx);
    }
    session.sentUpTo = hello.knownIndexId === this.meta.indexId ? Math.min(hello.knownSequence, this.meta.sequence) : 0;
    this.sendIndex(peer, session);
    if (!hello.reply) this.sendHello(peer, true);
  }

  /** Sends every record the peer has not seen, in batches that together cover (sentUpTo, max]. */
  private sendIndex(peer: string, session: Session): void {
    const from = session.sentUpTo;
    if (from === undefined || from >= this.meta.sequence) return;
    const limit = this.options.batchRecords ?? 1000;
    let batch: FileRecord[] = [];
    let start = from;
    for (const r of this.index.since(from)) {
      batch.push(r);
      if (batch.length >= limit) {
        this.sendBatch(peer, start, r.sequence, batch);
        start = r.sequence;
        batch = [];
      }
    }
    if (batch.length > 0 || start < this.meta.sequence) this.sendBatch(peer, start, this.meta.sequence, batch);
    session.sentUpTo = this.meta.sequence;
  }

  private sendBatch(peer: string, from: number, to: number, records: FileRecord[]): void {
    const batch: IndexBatch = {
      type: 'index',
      indexId: this.meta.indexId,
      fromSequence: from,
      toSequence: to,
      maxSequence: this.meta.sequence,
      records,
    };
    this.options.port.send(peer, batch);
  }

  private pushIndex(): void {
    for (const [peer, session] of this.sessions) this.sendIndex(peer, session);
  }

  private async onIndex(peer: string, batch: IndexBatch): Promise<void> {
    const session = this.sessions.get(peer)!;
    session.theirMax = Math.max(session.theirMax, batch.maxSequence);
    let pos = this.positions.get(peer);
    if (!pos || pos.indexId !== batch.indexId) {
      if (batch.fromSequence !== 0) return this.requestResend(peer, session);
      pos = { peer, indexId: batch.indexId, sequence: 0 };
      session.theirMax = batch.maxSequence;
    }
    if (batch.fromSequence > pos.sequence) return this.requestResend(peer, session);
    if (batch.toSequence <= pos.sequence) return;
    const tx = this.begin();
    for (const remote of batch.records) {
      if (remote.sequence <= pos.sequence || !this.syncable(remote.path, remote.type, 'remote', remote.deleted)) continue;
      this.integrate(tx, withoutInode(remote), this.diskRecord(tx, remote.path));
    }
    tx.peers.set(peer, { peer, indexId: batch.indexId, sequence: batch.toSequence });
    await this.commit(tx);
    await this.applyNeeded();
  }

  private requestResend(peer: string, session: Session): void {
    const now = this.now();
    if (now - session.lastResendAt < this.resendMs) return;
    session.lastResendAt = now;
    this.sendHello(peer, true);
  }

  private onSummary(peer: string, notice: SummaryNotice): void {
    if (!equalBytes(notice.summary, this.summary())) this.sendHello(peer, false);
  }

  // ---- blocks ----------------------------------------------------------------------------

  private async onBlockRequest(peer: string, request: BlockRequest): Promise<void> {
    const data = await this.readLocalBlock(request.hash, request.size);
    const response: BlockResponse = data
      ? { type: 'blockResponse', id: request.id, hash: request.hash, status: 'ok', data }
      : { type: 'blockResponse', id: request.id, hash: request.hash, status: 'notFound', data: new Uint8Array(0) };
    this.options.port.send(peer, response);
  }

  /** Reads a block from any local file that should hold it, verified against its hash. */
  private async readLocalBlock(hash: Uint8Array, size: number): Promise<Uint8Array | undefined> {
    for (const source of this.locator.find(hash)) {
      if (source.size !== size) continue;
      try {
        const data = await this.options.store.read(source.path, source.offset, source.size);
        if (data.length === size && equalBytes(this.options.hasher.sha256(data), hash)) return data;
      } catch (err) {
        if (!(err instanceof StoreError)) throw err;
      }
    }
    return undefined;
  }

  private async onBlockResponse(peer: string, response: BlockResponse): Promise<void> {
    const block = this.fetcher.accept(peer, response);
    const completed: string[] = [];
    if (block) {
      const key = toHex(block.hash);
      for (const path of [...(this.waiting.get(key) ?? [])]) {
        const assembly = this.assemblies.get(path);
        const slot = assembly?.missing.get(key);
        if (!assembly || !slot) {
          this.unwait(key, path);
          continue;
        }
        if (await this.hasFailed(path, assembly)) continue;
        this.writeBlock(assembly, slot.offsets, block.data);
        assembly.missing.delete(key);
        this.unwait(key, path);
        if (assembly.missing.size === 0) completed.push(path);
      }
    }
    // Only the files blocks completed are written then: a pass over every needed path per block
    // made a first sync of n files cost n squared. The tick's full pass does the rest.
    for (const path of completed) this.arrived.add(path);
    await this.letWritesCatchUp();
    if (this.arrived.size >= INSTALL_BATCH) await this.applyArrived();
    this.requestBlocks();
  }

  /** Applies the files whose blocks arrived, and installs every completed file. */
  private async applyArrived(): Promise<void> {
    const paths = [...this.arrived];
    this.arrived.clear();
    if (this.stopped || this.meta.paused || !(await this.checkRoot())) return;
    const now = this.now();
    for (const path of paths) {
      if (this.neededMap.has(path) && (this.retries.get(path)?.at ?? 0) <= now) await this.applyOne(path);
    }
    await this.installCompleted();
    await this.mergeConflicts();
    // Versions waiting for bytes this disk now holds.
    await this.retryDeferred();
  }

  /** Block key -> paths whose assembly still lacks that block. */
  private readonly waiting = new Map<string, Set<string>>();

  private waitFor(key: string, path: string): void {
    let paths = this.waiting.get(key);
    if (!paths) this.waiting.set(key, (paths = new Set()));
    paths.add(path);
  }

  private unwait(key: string, path: string): void {
    const paths = this.waiting.get(key);
    if (!paths) return;
    paths.delete(path);
    if (paths.size === 0) this.waiting.delete(key);
  }

  // ---- applying needed versions to disk --------------------------------------------------

  /** Brings the disk in line with the index, as far as blocks at hand allow. */
  private async applyNeeded(): Promise<void> {
    await this.pruneAssemblies();
    if (this.stopped || this.meta.paused) return this.requestBlocks();
    if (this.neededMap.size > 0) {
      if (!(await this.checkRoot())) return;
      for (let pass = 0; pass < 64; pass++) {
        let progress = false;
        const now = this.now();
        for (const path of this.applyOrder()) {
          if (!this.neededMap.has(path) || (this.retries.get(path)?.at ?? 0) > now) continue;
          if ((await this.applyOne(path)) === 'done') progress = true;
        }
        if (!progress || this.neededMap.size === 0) break;
      }
    }
    await this.mergeConflicts();
    await this.retryDeferred();
    this.requestBlocks();
  }

  /** Re-judges peer versions that waited for bytes this disk now has (or no longer needs). */
  private async retryDeferred(): Promise<void> {
    if (this.deferredMap.size === 0) return;
    const tx = this.begin();
    for (const [path, waiting] of [...this.deferredMap]) {
      tx.clearDeferred(path);
      for (const record of waiting) this.integrate(tx, record, this.diskRecord(tx, path));
    }
    const unchanged =
      tx.records.size === 0 &&
      [...tx.deferredChanges].every(([path, list]) => {
        const before = this.deferredMap.get(path);
        return list !== null && before !== undefined && list.length === before.length && list.every((r, i) => r === before[i]);
      });
    if (!unchanged) await this.commit(tx);
  }

  /** Removals deepest first (children before parents), then creations shallowest first. */
  private applyOrder(): string[] {
    const removals: string[] = [];
    const creations: string[] = [];
    for (const [path, need] of this.neededMap) {
      const target = this.index.get(path);
      const clears = need.onDisk && (!isAlive(target) || target.type !== need.onDisk.type);
      (clears ? removals : creations).push(path);
    }
    removals.sort((a, b) => depth(b) - depth(a) || (a < b ? -1 : 1));
    creations.sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : 1));
    return [...removals, ...creations];
  }

  private requestBlocks(): void {
    this.fetcher.request([...this.sessions.keys()].sort(), this.now());
  }

  private async applyOne(path: string): Promise<Outcome> {
    try {
      const outcome = await this.applyPath(path);
      if (outcome === 'done') {
        this.retries.delete(path);
        if (this.problems.get(path)?.source === 'apply') this.problems.delete(path);
      }
      return outcome;
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
      await this.dropAssembly(path);
      if (err.code === 'changed') {
        // The user changed the path while we meant to write it: record their version first.
        const tx = this.begin();
        await this.observe(tx, path, await this.options.store.stat(path));
        await this.commit(tx);
        return 'wait';
      }
      await this.writeFailed(path, err);
      return 'wait';
    }
  }

  /**
   * A write failed for a reason of this disk (full, permission, locked, name too long): the
   * partial file goes, so it frees its space for the rest of the folder, and the path waits.
   */
  private async writeFailed(path: string, err: StoreError): Promise<void> {
    await this.dropAssembly(path);
    this.reportProblem(path, { code: err.code, message: err.message, source: 'apply' });
    // A full disk or a locked file will not change in the next second: back off, up to a minute.
    const first = this.options.retryMs ?? 1_000;
    const delayMs = Math.min(60_000, this.retries.has(path) ? this.retries.get(path)!.delayMs * 2 : first);
    this.retries.set(path, { at: this.now() + delayMs, delayMs });
  }

  private async applyPath(path: string): Promise<Outcome> {
    const target = this.index.get(path)!;
    let onDisk = this.neededMap.get(path)!.onDisk;
    const { store } = this.options;

    if (onDisk && (target.deleted || onDisk.type !== target.type)) {
      if (onDisk.type === 'directory') {
        if (this.hasNeededBelow(path)) return 'wait';
        if (this.index.liveDescendants(path).length > 0) return this.keepDirectory(path, target);
        await store.remove(path, { kind: 'directory' });
      } else if (!(await this.moveToWhereNeeded(onDisk))) {
        await store.remove(path, expectationFor(onDisk));
      }
      onDisk = undefined;
      const tx = this.begin();
      this.place(tx, target, undefined, false);
      await this.commit(tx);
      if (target.deleted) return 'done';
    }
    if (target.deleted) return this.resolved(path);

    if ((await this.ensureParent(path)) === 'wait') return 'wait';
    const collision = this.index.caseCollision(path);
    if (collision !== undefined && this.diskRecord(this, collision)) {
      this.reportProblem(path, { code: 'caseCollision', message: `differs only in case from ${collision}`, source: 'apply' });
      return 'wait';
    }
    const meta = { mtime: target.mtime, executable: target.executable };
    switch (target.type) {
      case 'directory':
        if (onDisk?.type !== 'directory') await store.mkdir(path, expectationFor(onDisk));
        return this.resolved(path);
      case 'symlink':
        await store.symlink(path, target.target, expectationFor(onDisk), meta);
        return this.resolved(path);
      case 'file':
        if (onDisk?.type === 'file' && equalBytes(onDisk.hash, target.hash) && onDisk.size === target.size) {
          return this.resolved(path, await store.setMeta(path, expectationFor(onDisk), meta));
        }
        if (onDisk && (await this.moveToWhereNeeded(onDisk))) {
          const tx = this.begin();
          this.place(tx, target, undefined, false);
          await this.commit(tx);
          onDisk = undefined;
        }
        return this.writeFile(path, target, onDisk);
    }
  }

  /** The disk now holds the record's version; `written` is what the store reported after the write. */
  private async resolved(path: string, written?: StoreEntry): Promise<Outcome> {
    const tx = this.begin();
    tx.clearNeeded(path);
    if (written) this.noteInode(tx, path, written.inode);
    await this.commit(tx);
    return 'done';
  }

  private hasNeededBelow(path: string): boolean {
    for (const p of this.neededMap.keys()) if (isAncestor(path, p)) return true;
    return false;
  }

  /**
   * A directory that must go (deleted, or replaced by a file) still holds live entries the other
   * side did not know about: keep it, as a new version, and keep the other side's file as a copy.
   */
  private async keepDirectory(path: string, target: FileRecord): Promise<Outcome> {
    const tx = this.begin();
    const dir = this.directoryRecord(tx, path, target.version);
    this.place(tx, dir, this.diskRecord(tx, path), true);
    if (isAlive(target)) {
      const copy = conflictCopyRecord(target);
      this.integrate(tx, copy, this.diskRecord(tx, copy.path));
    }
    await this.commit(tx);
    return 'done';
  }

  private directoryRecord(tx: Transaction, path: string, base: VersionVector): FileRecord {
    return this.bareVersion(tx, path, 'directory', false, base);
  }

  /** A new local version without content: a directory, or a tombstone stamped with the time of deletion. */
  private bareVersion(tx: Transaction, path: string, type: EntryType, deleted: boolean, base: VersionVector, ancestor = NO_HASH): FileRecord {
    return {
      path,
      type,
      deleted,
      size: 0,
      mtime: deleted ? this.now() : 0,
      executable: false,
      hash: NO_HASH,
      blocks: [],
      target: '',
      version: this.issueVersion(tx, base),
      modifiedBy: this.options.user,
      ancestor,
      sequence: 0,
    };
  }

  /**
   * A live entry needs its parent to be a directory. If the index says the parent is gone or is a
   * file (an edit inside a folder someone else deleted or replaced), the folder comes back as a
   * new version and a file in its place survives as a conflict copy.
   */
  private async ensureParent(path: string): Promise<'ok' | 'wait'> {
    const parent = parentOf(path);
    if (parent === '') return 'ok';
    if (this.diskRecord(this, parent)?.type === 'directory') return 'ok';
    const record = this.index.get(parent);
    if (isAlive(record) && record.type === 'directory') return 'wait';
    const tx = this.begin();
    if (isAlive(record)) {
      const copy = conflictCopyRecord(record);
      this.integrate(tx, copy, this.diskRecord(tx, copy.path));
    }
    this.place(tx, this.directoryRecord(tx, parent, record?.version ?? EMPTY_VECTOR), this.diskRecord(tx, parent), true);
    await this.commit(tx);
    return 'wait';
  }

  /**
   * Before a file is replaced or removed, moves it to where the index wants the same content
   * (a rename, or a conflict copy): a move keeps the bytes without reading or sending them.
   */
  private async moveToWhereNeeded(onDisk: FileRecord): Promise<boolean> {
    if (onDisk.type !== 'file') return false;
    for (const [path, need] of this.neededMap) {
      // A file already put together is installed as it is: taking its place would undo that work.
      if (path === onDisk.path || need.onDisk || this.completed.has(path)) continue;
      const wanted = this.index.get(path);
      if (!isAlive(wanted) || wanted.type !== 'file' || !equalBytes(wanted.hash, onDisk.hash)) continue;
      if (this.diskRecord(this, parentOf(path))?.type !== 'directory' && parentOf(path) !== '') continue;
      if (this.assemblies.has(path)) await this.dropAssembly(path);
      await this.options.store.rename(onDisk.path, path, expectationFor(onDisk));
      const moved: FileRecord = { ...onDisk, path };
      const tx = this.begin();
      this.place(tx, wanted, moved, false);
      await this.commit(tx);
      // The move kept the old mtime; the next pass sets the wanted metadata if it differs.
      return true;
    }
    return false;
  }

  /**
   * A file whose blocks are all at hand joins the completed files, installed together at the
   * end of the burst of steps (or once a batch is full); it is 'done' only then.
   */
  private async writeFile(path: string, target: FileRecord, onDisk: FileRecord | undefined): Promise<Outcome> {
    const assembly = await this.assemble(path, target);
    if (assembly.missing.size > 0) return 'wait';
    const collision = this.index.caseCollision(path);
    if (collision !== undefined && this.completed.has(collision)) {
      // Names that differ only in case are judged against the disk as it is, never installed
      // together: the other goes first, this one is judged again in the next pass.
      await this.installCompleted();
      return 'wait';
    }
    this.completed.set(path, { assembly, target, onDisk });
    if (this.completed.size >= INSTALL_BATCH) await this.installCompleted();
    return 'wait';
  }

  /**
   * Installs the completed files: each is sealed (made durable) and verified, several at once,
   * then renamed into place, each only if its path still holds what the engine expects; the
   * folders are synced, and one commit records them all. Nothing is recorded as written before
   * its rename is durable.
   */
  private async installCompleted(): Promise<void> {
    if (this.stopped || this.meta.paused || !(await this.checkRoot())) return;
    const batch: { path: string; file: CompletedFile }[] = [];
    for (const [path, file] of this.completed) {
      this.completed.delete(path);
      // Judged against a state that has changed since (a newer version, a local edit seen by a
      // scan, a move): the next pass over needed paths judges it again.
      const need = this.neededMap.get(path);
      if (!need || need.onDisk !== file.onDisk || this.index.get(path) !== file.target || this.assemblies.get(path) !== file.assembly) continue;
      this.assemblies.delete(path);
      batch.push({ path, file });
    }
    if (batch.length === 0) return;
    const { store } = this.options;
    const failed = new Map<string, StoreError>();
    await inLanes(batch, INSTALL_LANES, async ({ path, file }) => {
      const { temp } = file.assembly;
      try {
        await file.assembly.writes;
        if (file.assembly.failure !== undefined) throw file.assembly.failure;
        await store.sealTemp(temp, { mtime: file.target.mtime, executable: file.target.executable });
        // Every block was checked on arrival; reading the whole file back also catches a store
        // that wrote something else than it was given.
        const check = await this.digester.digest({ temp }, file.target.size, this.chunking);
        if (!check || !equalBytes(check.hash, file.target.hash)) {
          throw new StoreError('io', path, `the assembled file did not match its content hash; it will be fetched again`);
        }
      } catch (err) {
        if (!(err instanceof StoreError)) throw err;
        failed.set(path, err);
      }
    });
    const ready = batch.filter(({ path }) => !failed.has(path));
    const results = await store.commitTemps(
      ready.map(({ path, file }) => ({
        temp: file.assembly.temp,
        path,
        expect: expectationFor(file.onDisk),
        meta: { mtime: file.target.mtime, executable: file.target.executable },
      })),
    );
    const tx = this.begin();
    results.forEach((result, i) => {
      const { path } = ready[i]!;
      if (result instanceof StoreError) {
        failed.set(path, result);
        return;
      }
      tx.clearNeeded(path);
      this.noteInode(tx, path, result.inode);
    });
    await this.commit(tx);
    for (const { path, file } of ready) {
      if (failed.has(path)) continue;
      this.retries.delete(path);
      // keepBases would read it back only to find the NUL byte its blocks showed already.
      if (file.assembly.binary) this.baseCandidates.delete(path);
    }
    for (const { path, file } of batch) {
      const err = failed.get(path);
      if (!err) continue;
      await store.discardTemp(file.assembly.temp);
      await this.installFailed(path, err);
    }
  }

  /** As for any write that failed: a user's edit that raced us is recorded first; anything else waits and is retried. */
  private async installFailed(path: string, err: StoreError): Promise<void> {
    if (err.code === 'changed') {
      const tx = this.begin();
      await this.observe(tx, path, await this.options.store.stat(path));
      await this.commit(tx);
      return;
    }
    await this.writeFailed(path, err);
  }

  // ---- merging conflicts ------------------------------------------------------------------

  /**
   * Settles the conflicts this replica resolved by merging the two edits, once both versions are
   * on its disk. Only a replica that resolved a conflict (it holds the loser's bytes) merges it,
   * as only it made the copy; if several did, they write the same bytes (the merge is
   * deterministic), and equal content is never a conflict. Each is tried once: a conflict that
   * does not merge stays as it is, winner and copy.
   */
  private async mergeConflicts(): Promise<void> {
    if (this.mergeCandidates.size === 0 || this.stopped || this.meta.paused) return;
    // Asked each time: a role can change, and may be unknown for a moment.
    if (!(this.options.mergesEdits?.() ?? true)) return;
    for (const [copyPath, path] of [...this.mergeCandidates]) {
      if (this.neededMap.has(path) || this.neededMap.has(copyPath)) continue;
      if (!(await this.checkRoot())) return;
      this.mergeCandidates.delete(copyPath);
      await this.mergeOne(path, copyPath);
    }
  }

  /**
   * Writes the merge of the file at `path` and its conflict copy as a new version of the path
   * that supersedes both, then deletes the copy (its bytes go to the versions folder, as with any
   * deletion). The merged file is on disk before any record names it: a crash in between leaves
   * it as a local edit next to the copy, which the next scan records; nothing is lost.
   */
  private async mergeOne(path: string, copyPath: string): Promise<void> {
    const winner = this.index.get(path);
    const loser = this.index.get(copyPath);
    if (!isAlive(winner) || !isAlive(loser) || winner.type !== 'file' || loser.type !== 'file') return;
    // Both edits must have started from one version this replica kept; an edit of either since
    // (the user took one side, say) has another ancestor, and the conflict is the user's now.
    if (winner.ancestor.length === 0 || !equalBytes(winner.ancestor, loser.ancestor) || winner.executable !== loser.executable) return;
    const max = this.options.baseMaxSize ?? MERGE_MAX_BYTES;
    if (winner.size > max || loser.size > max || !this.bases.has(toHex(winner.ancestor))) return;
    const { store, hasher } = this.options;
    const base = await store.getBase(toHex(winner.ancestor));
    const ours = await this.readVersion(winner);
    const theirs = await this.readVersion(loser);
    if (!base || !ours || !theirs) return;
    const merged = mergeConflict(base, ours, theirs, max);
    if (!merged) return;
    const blocks = blocksOf(merged, hasher, this.chunking);
    const temp = await store.createTemp(path, merged.length);
    let written: StoreEntry;
    try {
      await temp.write(0, merged);
      const meta = { mtime: this.now(), executable: winner.executable };
      await store.sealTemp(temp, meta);
      // Only over exactly what was read: a user's edit since then wins, and the conflict stays.
      const [result] = await store.commitTemps([{ temp, path, expect: expectationFor(winner), meta }]);
      if (result instanceof StoreError) throw result;
      written = result!;
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
      await store.discardTemp(temp);
      return;
    }
    const tx = this.begin();
    const record: FileRecord = {
      path,
      type: 'file',
      deleted: false,
      size: merged.length,
      mtime: written.mtime,
      executable: winner.executable,
      hash: contentHash(blocks, hasher),
      blocks,
      target: '',
      version: this.issueVersion(tx, merge(winner.version, loser.version)),
      modifiedBy: this.options.user,
      // Another edit made from the same version still merges with this one.
      ancestor: winner.ancestor,
      sequence: 0,
      ...(written.inode !== 0 ? { inode: written.inode } : {}),
    };
    this.place(tx, record, record, true);
    this.place(tx, this.bareVersion(tx, copyPath, 'file', true, loser.version, loser.hash), loser, true);
    await this.commit(tx);
    this.emit({ kind: 'merged', path, copyPath, record: this.index.get(path)!, winner, loser });
    await this.applyOne(copyPath);
  }

  /** A version's bytes as this disk holds them, only if they still are exactly that version. */
  private async readVersion(record: FileRecord): Promise<Uint8Array | undefined> {
    try {
      const entry = await this.options.store.stat(record.path);
      if (!entry || !entryMatches(record, entry)) return undefined;
      const data = await this.options.store.read(record.path, 0, record.size);
      return data.length === record.size && equalBytes(blocksOfContent(data, this.options.hasher, this.chunking), record.hash) ? data : undefined;
    } catch (err) {
      if (err instanceof StoreError) return undefined;
      throw err;
    }
  }

  /** Starts or continues putting a file together: local blocks are copied, the rest requested. */
  private async assemble(path: string, target: FileRecord): Promise<Assembly> {
    let assembly = this.assemblies.get(path);
    if (assembly && !(equalBytes(assembly.record.hash, target.hash) && assembly.record.size === target.size)) {
      await this.dropAssembly(path);
      assembly = undefined;
    }
    if (!assembly) {
      const temp = await this.options.store.createTemp(path, target.size);
      const missing: Assembly['missing'] = new Map();
      const offsets = blockOffsets(target.blocks);
      target.blocks.forEach((b, i) => {
        const key = toHex(b.hash);
        const slot = missing.get(key) ?? { hash: b.hash, size: b.size, offsets: [] };
        slot.offsets.push(offsets[i]!);
        missing.set(key, slot);
      });
      assembly = { record: target, temp, missing, writes: Promise.resolve() };
      this.assemblies.set(path, assembly);
      for (const key of missing.keys()) this.waitFor(key, path);
    }
    for (const [key, slot] of assembly.missing) {
      const data = await this.readLocalBlock(slot.hash, slot.size);
      if (!data) {
        this.fetcher.want(slot.hash, slot.size, this.options.isOpen?.(path) ? URGENCY_OPEN : urgencyOfSize(assembly.record.size));
        continue;
      }
      this.writeBlock(assembly, slot.offsets, data);
      assembly.missing.delete(key);
      this.unwait(key, path);
      this.fetcher.cancel(slot.hash);
    }
    return assembly;
  }

  /** Queues a block's writes into a temp file; a failure is kept for whoever looks next. */
  private writeBlock(assembly: Assembly, offsets: readonly number[], data: Uint8Array): void {
    if (!assembly.binary && data.includes(0)) assembly.binary = true;
    this.unwrittenBytes += data.length;
    assembly.writes = assembly.writes.then(async () => {
      try {
        if (assembly.failure !== undefined) return;
        for (const offset of offsets) await assembly.temp.write(offset, data);
      } catch (err) {
        assembly.failure = err;
      } finally {
        this.unwrittenBytes -= data.length;
      }
    });
  }

  /**
   * Waits for queued block writes once they hold too many bytes: blocks can arrive faster than a
   * disk takes them (from a fast peer or the mail cache), and no new block is asked for meanwhile.
   */
  private async letWritesCatchUp(): Promise<void> {
    if (this.unwrittenBytes <= MAX_UNWRITTEN_BYTES) return;
    await Promise.all([...this.assemblies.values()].map((a) => a.writes));
  }

  /**
   * Whether an earlier write into this file failed, handled as a failed write (the file waits
   * and is tried again later) so no more of its blocks are fetched meanwhile.
   */
  private async hasFailed(path: string, assembly: Assembly): Promise<boolean> {
    const failure = assembly.failure;
    if (failure === undefined) return false;
    if (!(failure instanceof StoreError)) throw failure;
    await this.writeFailed(path, failure);
    return true;
  }

  /** Forgets files no longer wanted (a newer version arrived, or the user wrote the path). */
  private async pruneAssemblies(): Promise<void> {
    for (const [path, assembly] of [...this.assemblies]) {
      const target = this.index.get(path);
      const stillWanted =
        this.neededMap.has(path) && isAlive(target) && target.type === 'file' && equalBytes(target.hash, assembly.record.hash);
      if (!stillWanted) await this.dropAssembly(path);
    }
    const keep = new Set<string>();
    for (const a of this.assemblies.values()) for (const key of a.missing.keys()) keep.add(key);
    this.fetcher.retain(keep);
  }

  private async dropAssembly(path: string): Promise<void> {
    const assembly = this.assemblies.get(path);
    if (!assembly) return;
    this.assemblies.delete(path);
    for (const key of assembly.missing.keys()) this.unwait(key, path);
    await assembly.writes;
    await this.options.store.discardTemp(assembly.temp);
  }
}

function blocksOfContent(data: Uint8Array, hasher: Hasher, chunking: ChunkingParams): Uint8Array {
  return contentHash(blocksOf(data, hasher, chunking), hasher);
}

function needsWrite(record: FileRecord, disk: FileRecord | undefined): boolean {
  if (record.deleted) return disk !== undefined;
  if (!disk || disk.type !== record.type) return true;
  switch (record.type) {
    case 'directory':
      return false;
    case 'symlink':
      return disk.target !== record.target;
    case 'file':
      return (
        !equalBytes(disk.hash, record.hash) ||
        disk.size !== record.size ||
        disk.mtime !== record.mtime ||
        disk.executable !== record.executable
      );
  }
}

function newIndexId(random: Random): string {
  let id = '';
  for (let i = 0; i < 3; i++) id += random.nextUint32().toString(16).padStart(8, '0');
  return id;
}

/** The scope paths that no other scope path contains. */
function topmostPaths(paths: readonly string[]): string[] {
  const unique = [...new Set(paths)].sort();
  const out: string[] = [];
  for (const path of unique) {
    if (path === '') return [''];
    if (!hasAncestorIn(new Set(out), path)) out.push(path);
  }
  return out;
}

function hasAncestorIn(directories: ReadonlySet<string>, path: string): boolean {
  for (let parent = parentOf(path); parent !== ''; parent = parentOf(parent)) if (directories.has(parent)) return true;
  return false;
}

function inScope(scope: readonly string[] | undefined, path: string): boolean {
  return scope === undefined || scope.some((s) => s === path || isAncestor(s, path));
}

/** Same bytes, size, mtime and mode as the record: only the inode differs. */
function sameOnDisk(expected: FileRecord, entry: StoreEntry, hash: Uint8Array): boolean {
  return (
    entry.type === 'file' &&
    expected.type === 'file' &&
    equalBytes(expected.hash, hash) &&
    expected.size === entry.size &&
    expected.mtime === entry.mtime &&
    expected.executable === entry.executable
  );
}

function withoutInode(record: FileRecord): FileRecord {
  if (record.inode === undefined) return record;
  const { inode: _local, ...rest } = record;
  return rest;
}

/** Content hashes of the live files a scan step recorded. */
function noteArrivals(tx: Transaction, arrived: Set<string>): void {
  for (const r of tx.records.values()) if (isAlive(r) && r.type === 'file') arrived.add(toHex(r.hash));
}
