/**
 * src/node/disk/: a replica on a real folder: the engine's FileStore on disk (disk-store.ts: temp
 * files, verified writes, the `.shared-folder` marker), the watcher, the versions folder, tree
 * walks, `.sharedignore` rules, and conflict choices as plain file operations. state/ holds the
 * state journal. DiskReplica (this file) puts them together around one Replica.
 * Node layer: may import src/sync and the rest of src/node; never vscode, src/server or src/cli.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { Clock } from '../../sync/ports/clock';
import type { MessagePort } from '../../sync/ports/ports';
import { Replica } from '../../sync/replica/replica';
import type { ReplicaEvent } from '../../sync/replica/replica-events';
import type { ReplicaOptions } from '../../sync/replica/replica-options';
import type { ScanReport } from '../../sync/replica/replica-status';
import { DiskStore } from './disk-store';
import { writeAtomic } from './durable-write';
import { FolderWatcher } from './folder-watcher';
import { FsWorkerPool } from '../workers/fs-worker-pool';
import { IGNORE_FILE, IgnoreRules } from './ignore-rules';
import { StateJournal } from './state/state-journal';
import { NodeHasher } from '../workers/node-hasher';
import { systemClock, systemRandom } from './system-clock';
import { isInternalPath } from '../../sync/model/path';
import { SerialQueue } from '../../sync/util/serial-queue';

export interface DiskReplicaOptions {
  /** The shared folder on disk; it must hold the `.shared-folder` marker (see DiskStore.initFolder). */
  readonly root: string;
  /** This replica's own state folder, outside the shared folder. */
  readonly stateDir: string;
  /** The space: a folder whose marker names another one is refused (ForeignSpaceError). */
  readonly space?: string;
  readonly user: string;
  readonly port: MessagePort;
  readonly onEvent?: (event: ReplicaEvent) => void;
  /** Called after every scan with what it found; tests and benchmarks wait on it. */
  readonly onScan?: (report: ScanReport, paths: readonly string[] | undefined) => void;
  /** Shared by the replicas of one process; one is made (and closed) per replica otherwise. */
  readonly pool?: FsWorkerPool;
  readonly clock?: Clock;
  /** Watch the folder for changes (default); without, only `scan()` and the periodic rescan look. */
  readonly watch?: boolean;
  readonly tickMs?: number;
  /** The safety net under the watcher: a full scan this often. */
  readonly rescanMs?: number;
  readonly keepVersionsDays?: number;
  readonly stateSync?: 'fsync' | 'none';
  /** This device's choice to sync `.git` folders, all but what runs code (protected-paths.ts). */
  readonly syncGit?: boolean;
  /** Engine tuning passed through (chunking, mass-delete thresholds, timeouts). */
  readonly engine?: Partial<Omit<ReplicaOptions, 'user' | 'store' | 'state' | 'port' | 'clock' | 'random' | 'hasher' | 'onEvent'>>;
}

/**
 * One replica of a shared folder on a real disk: the engine with its disk store, its state
 * journal, a watcher that feeds it changes, and the timers that drive retries and rescans.
 */
export class DiskReplica {
  private watcher: FolderWatcher | undefined;
  private timers: NodeJS.Timeout[] = [];
  private closed = false;
  private started = false;
  private readonly work = new SerialQueue();

  private constructor(
    readonly replica: Replica,
    readonly store: DiskStore,
    private readonly state: StateJournal,
    private readonly pool: FsWorkerPool,
    private readonly ownsPool: boolean,
    private readonly options: DiskReplicaOptions,
    /** Shared with the store and the engine, which always ask for the rules in force now. */
    private readonly rules: { current: IgnoreRules; stamp: string },
  ) {}

  static async open(options: DiskReplicaOptions): Promise<DiskReplica> {
    const clock = options.clock ?? systemClock;
    const pool = options.pool ?? new FsWorkerPool();
    const rules = (await readRules(options.root))!;
    const state = await StateJournal.open(nodePath.join(options.stateDir, 'state'), { sync: options.stateSync ?? 'fsync' });
    try {
      const store = await DiskStore.open({
        root: options.root,
        basesDir: nodePath.join(options.stateDir, 'bases'),
        pool,
        rules: () => rules.current,
        clock,
      });
      const replica = await Replica.open({
        // A first sync of many small files is a stream of small blocks: with 64 in flight (16 is
        // the engine's default) bursts are larger, so a batch installs about 50 files, not 12.
        maxRequestsInFlight: 64,
        ...options.engine,
        user: options.user,
        ...(options.space !== undefined ? { space: options.space } : {}),
        store,
        state,
        port: options.port,
        clock,
        random: systemRandom,
        hasher: new NodeHasher(),
        digester: store.digester(),
        ignore: (path, directory) => rules.current.ignores(path, directory),
        protectedPaths: { syncGit: options.syncGit ?? false },
        onEvent: (event) => options.onEvent?.(event),
      });
      // Records from peers the guard refused under the other setting were skipped for good.
      if (rememberGitSetting(options.stateDir, options.syncGit ?? false)) await replica.ignoreRulesChanged();
      return new DiskReplica(replica, store, state, pool, options.pool === undefined, options, rules);
    } catch (err) {
      await state.close();
      if (options.pool === undefined) await pool.close();
      throw err;
    }
  }

  get ignoreRules(): IgnoreRules {
    return this.rules.current;
  }

  /** The first full scan, then the watcher and the timers. */
  async start(): Promise<ScanReport> {
    const report = await this.scan();
    this.started = true;
    if (this.options.watch ?? true) await this.startWatcher();
    const tick = setInterval(() => void this.run(() => this.replica.tick()), this.options.tickMs ?? 1_000);
    const rescan = setInterval(() => void this.run(() => this.scan()), this.options.rescanMs ?? 60_000);
    const prune = setInterval(() => void this.run(() => this.store.versions.prune(this.options.keepVersionsDays ?? 30)), 3_600_000);
    for (const t of [tick, rescan, prune]) t.unref();
    this.timers.push(tick, rescan, prune);
    void this.run(() => this.store.versions.prune(this.options.keepVersionsDays ?? 30));
    return report;
  }

  /** A full scan now, after reloading the ignore rules if `.sharedignore` changed. */
  async scan(): Promise<ScanReport> {
    await this.reloadRules();
    const report = await this.replica.scan();
    this.options.onScan?.(report, undefined);
    if (this.watcher && !this.watcher.isIntact()) {
      this.watcher.close();
      this.watcher = undefined;
    }
    // The watcher died with a vanished root; the root is back, so watch again.
    if (this.started && (this.options.watch ?? true) && this.watcher === undefined && (await this.store.hasRootMarker())) {
      await this.startWatcher();
    }
    return report;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.watcher?.close();
    await this.work.idle();
    // Let an engine step in flight finish before its journal closes.
    await this.replica.tick().catch(() => undefined);
    // A compaction of merge-base packs the tick started finishes before the folder is let go.
    await this.store.bases.idle();
    await this.state.close();
    if (this.ownsPool) await this.pool.close();
  }

  private async startWatcher(): Promise<void> {
    const watcher = new FolderWatcher({
      root: this.options.root,
      ignored: (path, directory) =>
        isInternalPath(path) ||
        this.replica.protects(path, directory ? 'directory' : 'file') ||
        this.rules.current.ignores(path, directory),
      onChanges: (paths) => void this.run(() => this.changed(paths)),
      onTrouble: () => {
        // The root vanished or a watch limit was hit: look now, and watch again once the rescan finds the folder.
        watcher.close();
        if (this.watcher === watcher) this.watcher = undefined;
        void this.run(() => this.scan());
      },
    });
    this.watcher = watcher;
    await watcher.start();
  }

  private async changed(paths: string[]): Promise<void> {
    if (paths.includes('') || paths.includes(IGNORE_FILE)) {
      await this.scan();
      return;
    }
    await this.reloadRules();
    const report = await this.replica.scanPaths(paths);
    this.options.onScan?.(report, paths);
  }

  private async reloadRules(): Promise<void> {
    const next = await readRules(this.options.root, this.rules.stamp);
    if (!next) return;
    Object.assign(this.rules, next);
    // Records refused under the old rules must come again from the peers.
    await this.replica.ignoreRulesChanged();
  }

  /** Runs timer and watcher work one after another, never after close, and never lets it throw. */
  private run(work: () => Promise<unknown>): Promise<unknown> {
    if (this.closed) return Promise.resolve();
    return this.work.run(work).catch((err: unknown) => {
      this.options.onEvent?.({
        kind: 'error',
        path: '',
        problem: { code: 'io', message: err instanceof Error ? err.message : String(err), source: 'local' },
      });
    });
  }
}

/** The rules of the folder's `.sharedignore`; with `unlessStamp`, undefined when the file did not change. */
async function readRules(root: string, unlessStamp?: string): Promise<{ current: IgnoreRules; stamp: string } | undefined> {
  const file = nodePath.join(root, IGNORE_FILE);
  let stamp = 'none';
  let text = '';
  try {
    const st = await fs.promises.stat(file);
    stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    if (stamp === unlessStamp) return undefined;
    text = await fs.promises.readFile(file, 'utf8');
  } catch {
    if (unlessStamp === 'none') return undefined;
  }
  return { current: new IgnoreRules(text), stamp };
}

/**
 * Keeps this device's `.git` setting next to the replica state; true when it differs from the
 * one the state was made under (no file: off, the default).
 */
function rememberGitSetting(stateDir: string, syncGit: boolean): boolean {
  const file = nodePath.join(stateDir, 'sync-git.json');
  let before = false;
  try {
    before = (JSON.parse(fs.readFileSync(file, 'utf8')) as { syncGit?: unknown }).syncGit === true;
  } catch {
    // Never changed from the default.
  }
  if (before === syncGit) return false;
  writeAtomic(file, JSON.stringify({ syncGit }));
  return true;
}
