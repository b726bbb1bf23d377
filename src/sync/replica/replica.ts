/**
 * src/sync/replica: one device's replica of one shared folder, the multi-master sync engine.
 *
 * `Replica` (this file) is the surface its hosts use and the one queue all its steps run in. The
 * parts below it share a `ReplicaCore` (options, index, transactions) and each do one thing:
 * `Scanner` records the user's changes, `IndexExchange` trades records with peers,
 * `VersionIntegrator` brings versions into the index and resolves conflicts, `Puller` brings the
 * disk in line with the index through the `Installer` (one path at a time) and the `Assembler`
 * (files put together from blocks, one `FileAssembly` each, local ones from the `BlockServer`),
 * `ConflictMerger` settles text conflicts against the `MergeBases` it keeps. Beneath them: the
 * in-memory index (local-index.ts), one step's changes (transaction.ts) and block requests to
 * peers (block-fetcher.ts).
 */
import { isAlive, type EntryType, type FileRecord } from '../model/file-record';
import { parseConflictCopyPath } from '../model/conflict';
import type { VersionVector } from '../model/version-vector';
import type { PeerPosition, ReplicaMeta } from '../ports/ports';
import type { Random } from '../ports/random';
import type { Message } from '../protocol/messages';
import { equalBytes, toHex } from '../util/bytes';
import { SerialQueue } from '../util/serial-queue';
import { Assembler } from './assembler';
import { BlockServer } from './block-server';
import { ConflictMerger } from './conflict-merger';
import { IndexExchange } from './index-exchange';
import { Installer } from './installer';
import { MergeBases } from './merge-bases';
import { Puller } from './puller';
import { ReplicaCore } from './replica-core';
import type { PathProblem } from './replica-events';
import type { ReplicaOptions } from './replica-options';
import type { ConflictInfo, ReplicaState, ScanReport } from './replica-status';
import { topmostPaths } from './scan-scope';
import { decideRoot, ForeignSpaceError } from './root-identity';
import { Scanner, type ScanMode } from './scanner';
import { VersionIntegrator } from './version-integrator';

/**
 * One device's replica of one shared folder: the multi-master state machine. All entry points
 * run one at a time, so a step always sees the state the previous step committed; only block
 * requests are answered meanwhile, as they read files and change nothing, and big files are
 * verified (installer.ts), which a later step judges again before it installs them.
 */
export class Replica {
  // Built anew when the replica starts over on another root (see `reRoot`).
  private core!: ReplicaCore;
  private blocks!: BlockServer;
  private bases!: MergeBases;
  private puller!: Puller;
  private scanner!: Scanner;
  private exchange!: IndexExchange;
  private readonly steps = new SerialQueue();
  /**
   * Peers the transport reports connected, from the moment it says so. Their sessions open in
   * turn behind the queue, but a block request that follows a hello at once is answered now:
   * dropped, it would wait for the requester's timeout.
   */
  private readonly linked = new Set<string>();

  private constructor(
    private readonly options: ReplicaOptions,
    meta: ReplicaMeta,
  ) {
    this.assemble(meta);
  }

  private assemble(meta: ReplicaMeta): void {
    const core = new ReplicaCore(this.options, meta);
    const versions = new VersionIntegrator(core);
    this.core = core;
    this.blocks = new BlockServer(core);
    this.bases = new MergeBases(core);
    const assembler = new Assembler(core, this.blocks);
    const installer = new Installer(core, versions, assembler, this.bases, () => this.wake(core));
    const merger = new ConflictMerger(core, versions, this.bases, installer);
    this.puller = new Puller(core, versions, assembler, installer, merger);
    this.scanner = new Scanner(core, versions, this.puller);
    this.exchange = new IndexExchange(core, versions, this.puller, this.blocks);
    core.onCommit((tx, paths) => {
      this.exchange.committed(tx);
      this.bases.committed(tx, paths);
    });
  }

  /**
   * Loads the replica's durable state, or starts a new index if there is none, and checks that
   * the state belongs to the folder (root-identity.ts): a state of another root is never applied.
   * Throws ForeignSpaceError when the folder's marker names another space. A folder without its
   * marker (an unmounted disk) is checked once the marker is back; until then nothing is written.
   */
  static async open(options: ReplicaOptions): Promise<Replica> {
    const persisted = await options.state.load();
    const fresh =
      persisted === undefined || (persisted.records.length === 0 && persisted.needed.length === 0 && persisted.deferred.length === 0);
    const decision = (await options.store.hasRootMarker())
      ? decideRoot(await options.store.readRoot(), { fresh, rootId: persisted?.meta.rootId }, options.space)
      : undefined;
    if (decision?.kind === 'foreignSpace') throw new ForeignSpaceError(options.space ?? '', decision.other);
    if (persisted === undefined || decision?.kind === 'reRoot') {
      const meta = newMeta(options.random);
      // The old state goes whole, in one step, before the folder is claimed: a crash in between
      // leaves an empty state, which claims the folder at the next start and deletes nothing.
      if (persisted === undefined) await options.state.commit({ meta });
      else await options.state.reset(meta);
      const replica = new Replica(options, meta);
      if (decision) await replica.core.claimRoot();
      if (decision?.kind === 'reRoot') replica.core.emit({ kind: 'reRooted', reason: decision.reason });
      return replica;
    }
    const replica = new Replica(options, persisted.meta);
    replica.core.restore(persisted);
    if (decision?.kind === 'claim') await replica.core.claimRoot();
    else if (decision?.kind === 'same') replica.core.rootVerified = true;
    await replica.bases.load();
    // A crash may have come between resolving a conflict and merging it.
    for (const c of replica.conflicts()) replica.core.mergeCandidates.set(c.copyPath, c.path);
    // Finish what a crash interrupted (conflict copies from local bytes first) before anything
    // else can touch the folder.
    await replica.serial(() => replica.puller.applyNeeded());
    return replica;
  }

  /**
   * The marker that came back after it was gone is another root's: the state is set aside, as
   * at open, and what is on the disk now is scanned as new local files.
   */
  private async reRoot(reason: 'noIdentity' | 'foreignMarker'): Promise<ScanReport> {
    // The parts are built anew: what the old ones still push is finished first.
    await this.exchange.pushed();
    const meta = newMeta(this.options.random);
    await this.options.state.reset(meta);
    this.assemble(meta);
    await this.core.claimRoot();
    this.core.emit({ kind: 'reRooted', reason });
    for (const peer of this.linked) this.exchange.peerUp(peer);
    return this.scanner.scan({});
  }

  /** A scan, and what the replica found after starting over if the scan found another root. */
  private async scanStep(mode: ScanMode): Promise<ScanReport> {
    const report = await this.scanner.scan(mode);
    const reason = this.core.reRootWanted;
    return reason ? this.reRoot(reason) : report;
  }

  get indexId(): string {
    return this.core.meta.indexId;
  }

  /** How far this replica has read a peer's index. */
  positionOf(peer: string): PeerPosition | undefined {
    return this.core.positions.get(peer);
  }

  /** Highest sequence issued in this replica's index. */
  get sequence(): number {
    return this.core.meta.sequence;
  }

  summary(): Uint8Array {
    return this.core.index.summary();
  }

  get vector(): VersionVector {
    return this.core.index.vector;
  }

  records(): FileRecord[] {
    return [...this.core.index.records()];
  }

  record(path: string): FileRecord | undefined {
    return this.core.index.get(path);
  }

  neededPaths(): string[] {
    return [...this.core.neededMap.keys()];
  }

  /** Whether the path never syncs here, whatever the ignore rules say (protected-paths.ts). */
  protects(path: string, type: EntryType): boolean {
    return this.core.protects(path, type) !== undefined;
  }

  /** The blocks (hex hashes) of the versions this replica still has to write. */
  pendingBlocks(): Set<string> {
    const out = new Set<string>();
    for (const path of this.core.neededMap.keys()) {
      const r = this.core.index.get(path);
      if (r && !r.deleted && r.type === 'file') for (const b of r.blocks) out.add(toHex(b.hash));
    }
    for (const records of this.core.deferredMap.values())
      for (const r of records) if (!r.deleted && r.type === 'file') for (const b of r.blocks) out.add(toHex(b.hash));
    return out;
  }

  errors(): ReadonlyMap<string, PathProblem> {
    return this.core.problems;
  }

  state(): ReplicaState {
    return this.core.state();
  }

  /**
   * Conflicts as every replica sees them: live conflict copies next to their files, with who
   * wrote each side; `base` only where this replica keeps the version both sides started from.
   */
  conflicts(): ConflictInfo[] {
    const out: ConflictInfo[] = [];
    for (const r of this.core.index.records()) {
      if (r.deleted) continue;
      const parsed = parseConflictCopyPath(r.path);
      if (!parsed) continue;
      const file = this.core.index.get(parsed.original);
      const live = isAlive(file) && file.type === 'file' ? file : undefined;
      const sameBase = live !== undefined && r.ancestor.length > 0 && equalBytes(live.ancestor, r.ancestor);
      out.push({
        path: parsed.original,
        copyPath: r.path,
        user: parsed.user,
        stamp: parsed.stamp,
        ...(live ? { fileAuthor: { name: live.modifiedBy, at: live.mtime } } : {}),
        copyAuthor: { name: r.modifiedBy, at: r.mtime },
        ...(sameBase && this.bases.has(r.ancestor) ? { base: toHex(r.ancestor) } : {}),
      });
    }
    return out.sort((a, b) => (a.copyPath < b.copyPath ? -1 : 1));
  }

  /** Looks at the whole folder and records what the user changed since the last scan. */
  scan(): Promise<ScanReport> {
    return this.serial(() => this.scanStep({}));
  }

  /** Looks only at these paths, and below those that are or were directories: what a watcher saw change. */
  scanPaths(paths: readonly string[]): Promise<ScanReport> {
    const scope = topmostPaths(paths);
    if (scope.length === 0) return Promise.resolve({ changed: 0, state: this.state() });
    const mode: ScanMode = scope[0] === '' ? {} : { scope };
    return this.serial(() => this.scanStep(mode));
  }

  /** The user's answer after a mass delete paused the space. */
  resolveMassDelete(choice: 'delete' | 'restore'): Promise<ScanReport> {
    return this.serial(async () => {
      await this.core.commit(this.core.begin(), { paused: false });
      this.core.emit({ kind: 'resumed' });
      return this.scanStep(choice === 'delete' ? { confirmDeletes: true } : { restore: true });
    });
  }

  /**
   * The ignore rules changed: records from peers that the old rules refused were skipped for
   * good, so every peer is asked for its whole index again.
   */
  ignoreRulesChanged(): Promise<void> {
    return this.serial(() => this.exchange.readAllAgain());
  }

  peerUp(peer: string): Promise<void> {
    this.linked.add(peer);
    return this.serial(async () => this.exchange.peerUp(peer));
  }

  peerDown(peer: string): Promise<void> {
    this.linked.delete(peer);
    return this.serial(async () => {
      this.core.sessions.delete(peer);
      this.core.fetcher.peerGone(peer);
    });
  }

  receive(peer: string, message: Message): Promise<void> {
    // Answering reads files and changes no state, so it need not wait behind writes: the reply
    // is verified against its hash whatever happens to the file meanwhile.
    if (message.type === 'blockRequest') return this.linked.has(peer) ? this.blocks.answer(peer, message) : Promise.resolve();
    // A block pushed unasked with a small file's record (id 0) is kept at once, so the step that
    // applies the record already finds it.
    if (message.type === 'blockResponse' && message.id === 0) {
      if (this.linked.has(peer)) this.blocks.acceptPushed(message);
      return Promise.resolve();
    }
    return this.serial(async () => {
      // Only peers the transport reported as connected take part; late frames of a closed link don't.
      if (!this.core.sessions.has(peer)) return;
      switch (message.type) {
        case 'hello':
          return this.exchange.onHello(peer, message);
        case 'index':
          return this.exchange.onIndex(peer, message);
        case 'blockResponse':
          return this.puller.receiveBlock(peer, message);
        case 'summary':
          return this.exchange.onSummary(peer, message);
      }
    });
  }

  /** Periodic work: timeouts, retries, gap recovery, anti-entropy. */
  tick(): Promise<void> {
    return this.serial(async () => {
      const now = this.core.now();
      this.exchange.tick(now);
      this.core.fetcher.expire(now);
      await this.puller.giveUpUnobtainable();
      await this.bases.keep();
      await this.bases.dropUnused();
      await this.puller.applyNeeded();
    });
  }

  /** The merge base a conflict event named, if this replica kept it. */
  readBase(hash: Uint8Array): Promise<Uint8Array | undefined> {
    return this.serial(() => this.bases.read(hash));
  }

  /**
   * An empty step no caller waits for, whose end installs what was verified off the queue (a big
   * file); an error it meets there is reported as an event.
   */
  private wake(core: ReplicaCore): void {
    void this.serial(async () => undefined).catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      core.emit({ kind: 'error', path: '', problem: { code: 'io', message, source: 'apply' } });
    });
  }

  private serial<T>(step: () => Promise<T>): Promise<T> {
    return this.steps.run(async () => {
      let result: T;
      try {
        result = await step();
      } catch (err) {
        // The step's own failure is what its caller hears of, not a push's after it.
        await this.exchange.pushed().catch(() => undefined);
        throw err;
      }
      await this.exchange.pushed();
      // Any step may be the first to see the marker of another root (a disk mounted again).
      const reason = this.core.reRootWanted;
      if (reason) await this.reRoot(reason);
      // The last step of a burst applies and installs what the burst completed. `pending` counts
      // the steps queued and not started yet, as a step leaves it when it starts.
      if (this.steps.pending === 0 && this.puller.hasArrivals) await this.puller.applyArrived();
      return result;
    });
  }
}

function newMeta(random: Random): ReplicaMeta {
  return { indexId: newIndexId(random), sequence: 0, counter: 0, paused: false };
}

function newIndexId(random: Random): string {
  let id = '';
  for (let i = 0; i < 3; i++) id += random.nextUint32().toString(16).padStart(8, '0');
  return id;
}
