import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { isAncestor, joinPath } from '../../sync/model/path';

export interface FolderWatcherOptions {
  readonly root: string;
  /** Paths not to watch or report: internal and ignored ones. */
  readonly ignored: (path: string, directory: boolean) => boolean;
  /** Changed paths, coalesced; `['']` means "look at everything". */
  readonly onChanges: (paths: string[]) => void;
  /** Watching failed (a watch limit, the root vanished): the caller should rescan and may retry. */
  readonly onTrouble?: (err: Error) => void;
  /**
   * Report a burst of changes once the folder has been quiet this long, when the burst is small
   * and touches no path reported in the last `maxDelayMs`: a save, a new file. A save written in
   * one go raises its events within a millisecond, so waiting longer only delays it.
   */
  readonly firstQuietMs?: number;
  /**
   * Report once the folder has been quiet this long when a path of the burst was reported
   * recently (a file still being written, in pieces) or the burst is large (a checkout): what
   * keeps changing settles before it is looked at again...
   */
  readonly quietMs?: number;
  /** ...or this long after the first change, whichever comes first. */
  readonly maxDelayMs?: number;
  /** More changed paths than this in one burst (a checkout, an unpacked archive) become one full look. */
  readonly maxPaths?: number;
}

/**
 * A burst of at most this many paths is small: a save (an editor's temp file and rename, a file
 * and its folder). Larger ones are checkouts and copies, which settle before they are looked at.
 */
const SMALL_BURST = 8;

interface DirWatch {
  readonly watcher: fs.FSWatcher;
  /** Inode and birth time: a folder deleted and made again often gets the same inode back. */
  readonly identity: string;
}

function identityOf(st: fs.Stats): string {
  return `${st.ino}:${st.birthtimeMs}`;
}

/**
 * Tells which paths of a folder changed, within a fraction of a second. On Linux, where Node's
 * recursive watch is not native, it keeps one inotify watch per directory and follows
 * directories as they appear, move and vanish; elsewhere one recursive watch does it.
 */
export class FolderWatcher {
  private readonly dirs = new Map<string, DirWatch>();
  private recursive: fs.FSWatcher | undefined;
  private pending = new Set<string>();
  /** Paths reported in the last `maxDelayMs`, with when: a change to one of them waits for the full quiet. */
  private readonly recent = new Map<string, number>();
  private firstAt = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Whether the burst being gathered waits for the full quiet (see `settling`). */
  private settles = false;
  /**
   * When the last burst was reported. A burst that starts within two quiet periods of it settles
   * whatever its size: a deletion or copy slowed down (a busy machine) arrives in pieces, and
   * only its very first piece is looked at early; the rest wait for quiet as one.
   */
  private reportedAt = -Infinity;
  private closed = false;

  constructor(private readonly options: FolderWatcherOptions) {}

  async start(): Promise<void> {
    if (process.platform === 'linux') {
      await this.watchTree('');
      return;
    }
    this.recursive = fs.watch(this.options.root, { recursive: true, persistent: false }, (_event, name) => {
      this.note(name === null ? '' : String(name).split(nodePath.sep).join('/'));
    });
    this.recursive.on('error', (err) => this.trouble(err));
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.recursive?.close();
    for (const d of this.dirs.values()) d.watcher.close();
    this.dirs.clear();
  }

  private get maxPaths(): number {
    return this.options.maxPaths ?? 10_000;
  }

  /** Number of directories under watch (Linux). */
  get watchedDirectories(): number {
    return this.dirs.size;
  }

  private note(path: string): void {
    if (this.closed) return;
    if (path !== '' && this.options.ignored(path, false) && this.options.ignored(path, true)) return;
    if (this.pending.size === 0) this.firstAt = Date.now();
    this.pending.add(path);
    if (this.timer) clearTimeout(this.timer);
    const quiet = this.settling(path) ? (this.options.quietMs ?? 50) : (this.options.firstQuietMs ?? 3);
    // A burst too large to list (rm -rf, a checkout) waits for quiet, whatever its length: cut in
    // pieces, a mass delete would reach the engine as many small deletes and slip past its guard.
    const wait =
      this.pending.size > this.maxPaths
        ? quiet
        : Math.max(0, Math.min(quiet, this.firstAt + (this.options.maxDelayMs ?? 1_000) - Date.now()));
    this.timer = setTimeout(() => this.flush(), wait);
  }

  /**
   * Whether the burst `path` joins must settle for the full quiet: it is large, it touches a path
   * reported in the last `maxDelayMs`, or it follows another burst closely. Once a burst
   * settles, it stays settling until it is reported.
   */
  private settling(path: string): boolean {
    if (this.settles) return true;
    const now = Date.now();
    const window = this.options.maxDelayMs ?? 1_000;
    const at = this.recent.get(path);
    this.settles =
      this.pending.size > SMALL_BURST ||
      (at !== undefined && now - at < window) ||
      now - this.reportedAt < (this.options.quietMs ?? 50) * 2;
    return this.settles;
  }

  private flush(): void {
    this.timer = undefined;
    const paths = this.pending;
    this.pending = new Set();
    this.settles = false;
    if (paths.size === 0 || this.closed) return;
    const now = Date.now();
    this.reportedAt = now;
    const window = this.options.maxDelayMs ?? 1_000;
    for (const [path, at] of this.recent) if (now - at >= window) this.recent.delete(path);
    if (paths.size <= SMALL_BURST) for (const path of paths) this.recent.set(path, now);
    // A root deleted (or unmounted and replaced) takes its watches with it, without an error.
    if (!this.isIntact()) {
      this.trouble(new Error(`${this.options.root} is gone or was replaced`));
      return;
    }
    if (paths.has('') || paths.size > this.maxPaths) {
      this.options.onChanges(['']);
      return;
    }
    this.options.onChanges([...paths]);
  }

  /** Whether the folder watched is still the one at the root path (Linux; elsewhere always true). */
  isIntact(): boolean {
    const watched = this.dirs.get('');
    if (!watched) return process.platform !== 'linux';
    try {
      return identityOf(fs.lstatSync(this.options.root)) === watched.identity;
    } catch {
      return false;
    }
  }

  private trouble(err: Error): void {
    if (this.closed) return;
    this.options.onTrouble?.(err);
  }

  // ---- Linux: one watch per directory ------------------------------------------------------

  private async watchTree(dir: string): Promise<void> {
    if (this.closed || this.dirs.has(dir)) return;
    const abs = dir === '' ? this.options.root : nodePath.join(this.options.root, ...dir.split('/'));
    let identity: string;
    let watcher: fs.FSWatcher;
    try {
      identity = identityOf(await fs.promises.lstat(abs));
      watcher = fs.watch(abs, { persistent: false }, (_event, name) => {
        const path = name === null ? dir : joinPath(dir, String(name));
        this.note(path);
        if (path !== dir) void this.follow(path);
      });
    } catch (err) {
      if (dir === '') this.trouble(err as Error);
      return;
    }
    watcher.on('error', (err) => {
      this.unwatch(dir);
      if (dir === '') this.trouble(err);
    });
    this.dirs.set(dir, { watcher, identity });
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(abs, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const child = joinPath(dir, e.name);
      if (e.isDirectory() && !this.options.ignored(child, true)) await this.watchTree(child);
    }
  }

  /** Something at `path` changed: start, stop or move watches so they match what is there now. */
  private async follow(path: string): Promise<void> {
    let st: fs.Stats | undefined;
    try {
      st = await fs.promises.lstat(nodePath.join(this.options.root, ...path.split('/')));
    } catch {
      st = undefined;
    }
    const watched = this.dirs.get(path);
    if (watched && (!st || !st.isDirectory() || identityOf(st) !== watched.identity)) this.unwatch(path);
    if (st?.isDirectory() && !this.dirs.has(path) && !this.options.ignored(path, true)) {
      await this.watchTree(path);
      // Entries created before the watch existed would go unseen.
      this.note(path);
    }
  }

  private unwatch(dir: string): void {
    for (const [path, d] of [...this.dirs]) {
      if (path === dir || isAncestor(dir, path)) {
        d.watcher.close();
        this.dirs.delete(path);
      }
    }
  }
}
