import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type { BigIntStats } from 'node:fs';
import * as nodePath from 'node:path';
import { entryMatchesExpectation } from '../../sync/replica/expectation';
import { inLanes } from '../../sync/replica/lanes';
import { isAncestor, parentOf } from '../../sync/model/path';
import type { Clock } from '../../sync/ports/clock';
import {
  StoreError,
  type DigestSource,
  type Expectation,
  type FileMeta,
  type FileStore,
  type MergeBase,
  type RootIdentity,
  type StoreEntry,
  type TempCommit,
  type TempFile,
} from '../../sync/ports/ports';
import { entryFromStats, utimesSeconds } from './disk-entry';
import { errnoOf, onDisk, toStoreError } from './disk-errors';
import type { FsWorkerPool } from '../workers/fs-worker-pool';
import { BatchSealer } from '../workers/batch-sealer';
import type { SealedFile } from '../workers/fs-worker-protocol';
import type { IgnoreRules } from './ignore-rules';
import { NodeDigester } from '../workers/node-digester';
import { VersionsFolder } from './versions-folder';
import { BasePacks } from './bases/base-packs';
import { fsyncDirectory } from './durable-write';

import { MARKER_DIR, readRootIdentity, writeRootIdentity } from './root-marker';

export { MARKER_DIR };
const TEMP_DIR = `${MARKER_DIR}/tmp`;
const VERSIONS_DIR = `${MARKER_DIR}/versions`;

export interface DiskStoreOptions {
  /** The shared folder on disk. */
  readonly root: string;
  /** Where merge bases are kept: outside the folder, next to the replica's state. */
  readonly basesDir: string;
  readonly pool: FsWorkerPool;
  /** The ignore rules in force right now; they change when `.sharedignore` does. */
  readonly rules: () => IgnoreRules;
  readonly clock: Clock;
}

interface DiskTemp extends TempFile {
  readonly abs: string;
  readonly size: number;
  /** Kept open from the first write to the seal, while few are: a file of one block is opened once. */
  handle?: fs.promises.FileHandle;
  /** The end of the last byte written: a file written up to its size needs no truncate. */
  writtenTo: number;
  /**
   * A small file's bytes, held until it is sealed: it is then written whole, with one message to
   * a worker for a batch of files (BatchSealer). Undefined for a file written to disk block by
   * block, which is what a file too big, or one beyond the memory budget, gets.
   */
  buffer?: Uint8Array;
  /** Set once its first block went to the disk: it never moves to memory after that. */
  onDisk: boolean;
  /** Its stats once its bytes, size, mode and mtime are on the disk: what the rename puts in place. */
  sealed?: SealedFile;
}

/** Files up to this size are put together in memory and written whole when sealed. */
const BUFFERED_TEMP_BYTES = 1024 * 1024;
/** What all temp files held in memory may take together; beyond, new ones are written block by block. */
const BUFFERED_TOTAL_BYTES = 64 * 1024 * 1024;

/** Temp files kept open between writes at most; beyond, each write opens and closes its file. */
const OPEN_TEMPS = 64;

/** Read and write, created if missing, never truncated: a temp file comes into being with its first write. */
const TEMP_FLAGS = fs.constants.O_RDWR | fs.constants.O_CREAT;
/** Renames, folder syncs and stats of one batch of commits in flight at once. */
const COMMIT_LANES = 8;

/**
 * The engine's FileStore on a real folder. Every replacement is a temp file renamed over its
 * target, so no half-written file is ever visible; what a write replaces or removes is first
 * linked into the versions folder. Writes never follow a symlink out of the folder: each parent
 * on the way must be a real directory.
 */
export class DiskStore implements FileStore {
  readonly versions: VersionsFolder;
  private readonly temps = new Map<string, DiskTemp>();
  /** Made on first use, once per store: not once per file. */
  private tempDir: Promise<unknown> | undefined;
  private openTemps = 0;
  /** Bytes of the temp files held in memory. */
  private bufferedBytes = 0;
  private readonly sealer: BatchSealer;

  private constructor(
    private readonly options: DiskStoreOptions,
    /** Merge bases, compressed in pack files in `basesDir`. */
    readonly bases: BasePacks,
  ) {
    this.versions = new VersionsFolder(nodePath.join(options.root, VERSIONS_DIR), options.clock);
    this.sealer = new BatchSealer(options.pool);
  }

  /** Opens a folder that already has its marker, and clears temp files a crash left behind. */
  static async open(options: DiskStoreOptions): Promise<DiskStore> {
    const store = new DiskStore(options, await BasePacks.open(options.basesDir));
    if (await store.hasRootMarker()) {
      await fs.promises.rm(store.abs(TEMP_DIR), { recursive: true, force: true });
    }
    return store;
  }

  /**
   * Makes a folder shareable: creates it if needed and puts the marker in. With `space`, a marker
   * that names no space yet is told which one the folder belongs to; the replica that opens it
   * first gives it its root identity.
   */
  static async initFolder(root: string, space?: string): Promise<void> {
    await fs.promises.mkdir(nodePath.join(root, MARKER_DIR), { recursive: true });
    if (space === undefined || space === '') return;
    const identity = await readRootIdentity(root);
    if (identity === undefined || identity.space === '') await writeRootIdentity(root, { space, root: identity?.root ?? '' });
  }

  get root(): string {
    return this.options.root;
  }

  abs(path: string): string {
    return path === '' ? this.options.root : nodePath.join(this.options.root, ...path.split('/'));
  }

  /**
   * A temp file held in memory is digested from the very bytes its seal wrote whole: every block
   * in it was verified on arrival, and this checks they were put together as the version says.
   */
  digester(): NodeDigester {
    return new NodeDigester(this.options.pool, (source: DigestSource, size: number) => {
      if ('path' in source) return { abs: this.abs(source.path), size };
      const t = this.tempOf(source.temp);
      return t.buffer ? { abs: t.abs, size, data: t.buffer } : { abs: t.abs, size };
    });
  }

  async hasRootMarker(): Promise<boolean> {
    try {
      return (await fs.promises.stat(this.abs(MARKER_DIR))).isDirectory();
    } catch {
      return false;
    }
  }

  async readRoot(): Promise<RootIdentity | undefined> {
    return readRootIdentity(this.options.root);
  }

  async claimRoot(identity: RootIdentity): Promise<void> {
    await onDisk(MARKER_DIR, () => writeRootIdentity(this.options.root, identity));
  }

  async list(under = ''): Promise<StoreEntry[]> {
    const result = await this.options.pool.run({ kind: 'walk', root: this.options.root, under, ignoreText: this.options.rules().text });
    if (result.kind !== 'walk') throw new Error('file system worker answered a walk with ' + result.kind);
    return result.entries;
  }

  async stat(path: string): Promise<StoreEntry | undefined> {
    const abs = this.abs(path);
    try {
      const st = await fs.promises.lstat(abs, { bigint: true });
      const target = st.isSymbolicLink() ? await fs.promises.readlink(abs) : '';
      return entryFromStats(path, st, () => target);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return undefined;
      throw toStoreError(err, path);
    }
  }

  async read(path: string, offset: number, length: number): Promise<Uint8Array> {
    return onDisk(path, () => readRange(this.abs(path), offset, length));
  }

  /**
   * Nothing touches the disk yet: a first sync announces thousands of files at once, and the
   * file of each appears with its first block (or, all zeros, when it is sealed).
   */
  /** The space statfs reports as available to this (unprivileged) user; undefined if it fails. */
  async freeSpace(): Promise<number | undefined> {
    try {
      const stats = await fs.promises.statfs(this.options.root);
      return stats.bavail * stats.bsize;
    } catch {
      return undefined;
    }
  }

  async createTemp(path: string, size: number): Promise<TempFile> {
    const id = randomBytes(12).toString('hex');
    const abs = this.abs(`${TEMP_DIR}/${id}`);
    const temp: DiskTemp = {
      id,
      abs,
      size,
      writtenTo: 0,
      onDisk: false,
      write: (offset, data) => onDisk(path, () => this.writeTemp(temp, offset, data)),
    };
    this.temps.set(id, temp);
    return temp;
  }

  async sealTemp(temp: TempFile, meta: FileMeta): Promise<void> {
    const t = this.tempOf(temp);
    await onDisk(t.id, () => this.seal(t, meta));
  }

  async readTemp(temp: TempFile, offset: number, length: number): Promise<Uint8Array> {
    const t = this.tempOf(temp);
    if (t.buffer) return t.buffer.slice(offset, Math.min(t.size, offset + length));
    return onDisk(t.id, () => readRange(t.abs, offset, length));
  }

  /** One temp file renamed over `path`: `commitTemps` for one. */
  async commitTemp(temp: TempFile, path: string, expect: Expectation, meta: FileMeta): Promise<StoreEntry> {
    const [result] = await this.commitTemps([{ temp, path, expect, meta }]);
    if (result instanceof StoreError) throw result;
    return result!;
  }

  async commitTemps(commits: readonly TempCommit[]): Promise<(StoreEntry | StoreError)[]> {
    const results: (StoreEntry | StoreError)[] = [];
    const directories = new Set<string>();
    // New files, sealed already, where nothing is expected: all of a first sync. A worker checks
    // and renames them and syncs their folders, with one message for the lot.
    const fresh = [...commits.keys()].filter((i) => commits[i]!.expect.kind === 'absent' && this.temps.get(commits[i]!.temp.id)?.sealed);
    const others = [...commits.keys()].filter((i) => !fresh.includes(i));
    if (fresh.length > 0) await this.placeNew(commits, fresh, results);
    // Each file's checks and rename concern its own path only, so several run at once.
    await inLanes(others, COMMIT_LANES, async (i) => {
      const { temp, path, expect, meta } = commits[i]!;
      try {
        results[i] = await onDisk(path, async () => {
          const t = this.tempOf(temp);
          let stats = t.sealed ?? (await this.seal(t, meta));
          // A file it replaces keeps the permission bits the user gave it (a new one has the
          // seal's). Where nothing is expected, a file there now fails the check below anyway.
          if (expect.kind !== 'absent') {
            const current = await this.stat(path);
            if (current?.type === 'file') {
              await fs.promises.chmod(t.abs, fileMode(await this.modeOf(path), meta.executable));
              stats = sealedOf(await fs.promises.lstat(t.abs, { bigint: true }));
            }
          }
          await this.checkParent(path);
          // Checked last, right before the rename: a user's edit in between is what `changed` is for.
          const old = await this.expect(path, expect);
          await this.clearFor(path, old);
          await fs.promises.rename(t.abs, this.abs(path));
          this.temps.delete(t.id);
          this.dropBuffer(t);
          // What was renamed into place, as it was sealed: a stat of the path now could describe
          // a file the user put there an instant later as if it were ours.
          return { path, type: 'file', ...stats };
        });
        directories.add(nodePath.dirname(this.abs(path)));
      } catch (err) {
        if (!(err instanceof StoreError)) throw err;
        results[i] = err;
      }
    });
    // Each folder once for all the files renamed into it, before anyone records them as written.
    await inLanes([...directories], COMMIT_LANES, fsyncDirectory);
    return results;
  }

  /** `commitTemps` for sealed files where nothing is expected, in a worker (place-new-files.ts). */
  private async placeNew(commits: readonly TempCommit[], indices: readonly number[], results: (StoreEntry | StoreError)[]): Promise<void> {
    const temps = indices.map((i) => this.tempOf(commits[i]!.temp));
    const reply = await this.options.pool.run({
      kind: 'place',
      root: this.options.root,
      files: indices.map((i, k) => ({ from: temps[k]!.abs, path: commits[i]!.path })),
    });
    if (reply.kind !== 'place') throw new Error('file system worker answered a place with ' + reply.kind);
    indices.forEach((i, k) => {
      const { path } = commits[i]!;
      const t = temps[k]!;
      const failure = reply.files[k];
      if (failure === null || failure === undefined) {
        this.temps.delete(t.id);
        this.dropBuffer(t);
        results[i] = { path, type: 'file', ...t.sealed! };
      } else if (failure.reason === 'failed') {
        results[i] = toStoreError(Object.assign(new Error(failure.failure.message), { code: failure.failure.code }), path);
      } else if (failure.reason === 'exists') {
        results[i] = new StoreError('changed', path, `${path}: changed on disk meanwhile`);
      } else if (failure.reason === 'parentMissing') {
        results[i] = new StoreError('notFound', path, `${path}: its folder ${failure.dir} does not exist`);
      } else {
        results[i] = new StoreError('changed', path, `${path}: ${failure.dir} is not a folder on disk`);
      }
    });
  }

  async discardTemp(temp: TempFile): Promise<void> {
    const t = this.tempOf(temp);
    this.temps.delete(t.id);
    this.dropBuffer(t);
    await this.takeHandle(t)?.close();
    await fs.promises.rm(t.abs, { force: true });
  }

  async mkdir(path: string, expect: Expectation): Promise<StoreEntry> {
    return onDisk(path, async () => {
      await this.checkParent(path);
      const old = await this.expect(path, expect);
      if (old?.type === 'directory') return old;
      await this.clearFor(path, old);
      await fs.promises.mkdir(this.abs(path));
      return this.statOrFail(path);
    });
  }

  async symlink(path: string, target: string, expect: Expectation, meta: FileMeta): Promise<StoreEntry> {
    return onDisk(path, async () => {
      await this.checkParent(path);
      await fs.promises.mkdir(this.abs(TEMP_DIR), { recursive: true });
      const temp = this.abs(`${TEMP_DIR}/${randomBytes(12).toString('hex')}`);
      await fs.promises.symlink(target, temp);
      try {
        await fs.promises.lutimes(temp, utimesSeconds(meta.mtime), utimesSeconds(meta.mtime));
        const old = await this.expect(path, expect);
        await this.clearFor(path, old);
        await fs.promises.rename(temp, this.abs(path));
      } catch (err) {
        await fs.promises.rm(temp, { force: true });
        throw err;
      }
      return this.statOrFail(path);
    });
  }

  async remove(path: string, expect: Expectation): Promise<void> {
    return onDisk(path, async () => {
      const old = await this.expect(path, expect);
      if (!old) return;
      if (old.type === 'directory') await fs.promises.rmdir(this.abs(path));
      else await this.versions.moveIn(path, this.abs(path));
      await fsyncDirectory(nodePath.dirname(this.abs(path)));
    });
  }

  async rename(from: string, to: string, expectFrom: Expectation): Promise<StoreEntry> {
    return onDisk(from, async () => {
      await this.checkParent(to);
      const old = await this.expect(from, expectFrom);
      if (!old) throw new StoreError('notFound', from);
      if ((await this.stat(to)) !== undefined) throw new StoreError('changed', to, `${to}: something appeared there meanwhile`);
      if (old.type === 'directory') {
        await fs.promises.rename(this.abs(from), this.abs(to));
      } else {
        // link + unlink never replaces an entry that appeared at `to` after the check above.
        await fs.promises.link(this.abs(from), this.abs(to)).catch(async (err: unknown) => {
          if (errnoOf(err) === 'EEXIST') throw new StoreError('changed', to, `${to}: something appeared there meanwhile`);
          await fs.promises.rename(this.abs(from), this.abs(to));
        });
        await fs.promises.rm(this.abs(from), { force: true });
      }
      await fsyncDirectory(nodePath.dirname(this.abs(to)));
      return this.statOrFail(to);
    });
  }

  async setMeta(path: string, expect: Expectation, meta: FileMeta): Promise<StoreEntry> {
    return onDisk(path, async () => {
      const old = await this.expect(path, expect);
      if (!old || old.type !== 'file') throw new StoreError('changed', path);
      const abs = this.abs(path);
      await fs.promises.chmod(abs, fileMode(await this.modeOf(path), meta.executable));
      await fs.promises.utimes(abs, utimesSeconds(meta.mtime), utimesSeconds(meta.mtime));
      return this.statOrFail(path);
    });
  }

  // ---- merge bases, kept outside the folder ----------------------------------------------

  putBases(bases: readonly MergeBase[]): Promise<void> {
    return this.bases.put(bases);
  }

  getBase(hash: string): Promise<Uint8Array | undefined> {
    return this.bases.get(hash);
  }

  dropBases(hashes: readonly string[]): Promise<void> {
    return this.bases.drop(hashes);
  }

  listBases(): Promise<string[]> {
    return Promise.resolve(this.bases.list());
  }

  // ---- helpers -----------------------------------------------------------------------------

  /** The file at its final size (blocks of zeros stay sparse), with the version's mtime, on the disk. */
  private async seal(t: DiskTemp, meta: FileMeta): Promise<SealedFile> {
    if (t.buffer) return this.sealBuffered(t, t.buffer, meta);
    const handle = this.takeHandle(t) ?? (await this.openTemp(t));
    try {
      // Blocks of zeros at the end were never written: the file grows to its size sparse.
      if (t.writtenTo !== t.size) await handle.truncate(t.size);
      await handle.chmod(fileMode(undefined, meta.executable));
      await handle.utimes(utimesSeconds(meta.mtime), utimesSeconds(meta.mtime));
      const stats = sealedOf(await handle.stat({ bigint: true }));
      await handle.datasync();
      t.sealed = stats;
      return stats;
    } finally {
      await handle.close();
    }
  }

  /** A file held in memory, written whole by a worker, with others asked for in the same turn. */
  private async sealBuffered(t: DiskTemp, data: Uint8Array, meta: FileMeta): Promise<SealedFile> {
    const job = { abs: t.abs, data, mode: fileMode(undefined, meta.executable), mtimeSeconds: utimesSeconds(meta.mtime) };
    for (let attempt = 0; ; attempt++) {
      this.tempDir ??= fs.promises.mkdir(this.abs(TEMP_DIR), { recursive: true });
      await this.tempDir;
      const result = await this.sealer.seal(job);
      if (!('message' in result)) {
        t.sealed = result;
        return result;
      }
      // Someone removed the temp folder meanwhile: make it again, once.
      if (result.code === 'ENOENT' && attempt === 0) {
        this.tempDir = undefined;
        continue;
      }
      throw Object.assign(new Error(result.message), result.code ? { code: result.code } : {});
    }
  }

  private async writeTemp(t: DiskTemp, offset: number, data: Uint8Array): Promise<void> {
    if (!this.temps.has(t.id)) throw new StoreError('notFound', t.id, 'the temp file is gone');
    if (this.holdsInMemory(t) && offset + data.length <= t.size) {
      t.buffer!.set(data, offset);
      t.writtenTo = Math.max(t.writtenTo, offset + data.length);
      return;
    }
    if (t.buffer) await this.spill(t);
    // A block of zeros needs no writing: the seal's truncate leaves the file sparse there.
    if (isAllZero(data)) return;
    t.onDisk = true;
    let handle = t.handle;
    if (!handle) {
      handle = await this.openTemp(t);
      if (this.openTemps < OPEN_TEMPS && this.temps.has(t.id)) {
        t.handle = handle;
        this.openTemps++;
      }
    }
    try {
      let written = 0;
      while (written < data.length) {
        const { bytesWritten } = await handle.write(data, written, data.length - written, offset + written);
        written += bytesWritten;
      }
      t.writtenTo = Math.max(t.writtenTo, offset + data.length);
    } finally {
      if (t.handle !== handle) await handle.close();
    }
  }

  /** Whether the temp is put together in memory: a small file, while the budget allows, unless it is on the disk already. */
  private holdsInMemory(t: DiskTemp): boolean {
    if (t.buffer) return true;
    if (t.onDisk || t.size > BUFFERED_TEMP_BYTES || this.bufferedBytes + t.size > BUFFERED_TOTAL_BYTES) return false;
    t.buffer = new Uint8Array(t.size);
    this.bufferedBytes += t.size;
    return true;
  }

  /** Moves a temp held in memory to the disk, where the rest of its writes go. */
  private async spill(t: DiskTemp): Promise<void> {
    const data = t.buffer!.subarray(0, t.writtenTo);
    this.dropBuffer(t);
    t.onDisk = true;
    const writtenTo = t.writtenTo;
    t.writtenTo = 0;
    if (writtenTo > 0) await this.writeTemp(t, 0, data);
    t.writtenTo = Math.max(t.writtenTo, writtenTo);
  }

  private dropBuffer(t: DiskTemp): void {
    if (!t.buffer) return;
    t.buffer = undefined;
    this.bufferedBytes -= t.size;
  }

  /** The temp's open handle, if it has one, which the caller now closes. */
  private takeHandle(t: DiskTemp): fs.promises.FileHandle | undefined {
    const handle = t.handle;
    if (handle) {
      t.handle = undefined;
      this.openTemps--;
    }
    return handle;
  }

  private async openTemp(t: DiskTemp): Promise<fs.promises.FileHandle> {
    this.tempDir ??= fs.promises.mkdir(this.abs(TEMP_DIR), { recursive: true });
    await this.tempDir;
    try {
      return await fs.promises.open(t.abs, TEMP_FLAGS, 0o600);
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw err;
      // Someone removed the temp folder meanwhile: make it again.
      this.tempDir = fs.promises.mkdir(this.abs(TEMP_DIR), { recursive: true });
      await this.tempDir;
      return fs.promises.open(t.abs, TEMP_FLAGS, 0o600);
    }
  }

  private tempOf(temp: TempFile): DiskTemp {
    const t = this.temps.get(temp.id);
    if (!t) throw new StoreError('notFound', temp.id, 'the temp file is gone');
    return t;
  }

  private async statOrFail(path: string): Promise<StoreEntry> {
    const entry = await this.stat(path);
    if (!entry) throw new StoreError('changed', path, `${path}: vanished right after it was written`);
    return entry;
  }

  private async modeOf(path: string): Promise<number> {
    return (await fs.promises.lstat(this.abs(path))).mode & 0o7777;
  }

  /** What is at `path` now, if it is what the engine expects; otherwise the user changed it. */
  private async expect(path: string, expect: Expectation): Promise<StoreEntry | undefined> {
    const entry = await this.stat(path);
    if (!entryMatchesExpectation(entry, expect)) throw new StoreError('changed', path, `${path}: changed on disk meanwhile`);
    return entry;
  }

  /** Every ancestor must be a real directory: a symlink there could lead a write out of the folder. */
  private async checkParent(path: string): Promise<void> {
    for (let dir = parentOf(path); dir !== ''; dir = parentOf(dir)) {
      const entry = await this.stat(dir);
      if (!entry) throw new StoreError('notFound', path, `${path}: its folder ${dir} does not exist`);
      if (entry.type !== 'directory') throw new StoreError('changed', path, `${path}: ${dir} is not a folder on disk`);
    }
  }

  /** Makes room at `path`: a file or symlink moves to the versions folder; a directory must be empty. */
  private async clearFor(path: string, old: StoreEntry | undefined): Promise<void> {
    if (!old) return;
    if (old.type === 'directory') await fs.promises.rmdir(this.abs(path));
    else await this.versions.keepCopy(path, this.abs(path));
  }

  /** Whether the path is ours: the marker, temp files, versions. */
  static isInternal(path: string): boolean {
    return path === MARKER_DIR || isAncestor(MARKER_DIR, path);
  }
}

/** What the engine needs of a sealed file's stats. */
function sealedOf(st: BigIntStats): SealedFile {
  const { size, mtime, executable, inode } = entryFromStats('', st, () => '')!;
  return { size, mtime, executable, inode };
}

/** Keeps the permission bits a user set and toggles the execute bits where read is allowed. */
function fileMode(existing: number | undefined, executable: boolean): number {
  const base = existing ?? 0o666 & ~process.umask();
  const withoutExec = base & ~0o111;
  return executable ? withoutExec | ((withoutExec & 0o444) >> 2) : withoutExec;
}

async function readRange(abs: string, offset: number, length: number): Promise<Uint8Array> {
  const handle = await fs.promises.open(abs, 'r');
  try {
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await handle.read(out, filled, length - filled, offset + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === length ? out : out.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

function isAllZero(data: Uint8Array): boolean {
  const words = data.byteOffset % 4 === 0 ? new Uint32Array(data.buffer, data.byteOffset, data.length >> 2) : undefined;
  let i = 0;
  if (words) {
    for (const w of words) if (w !== 0) return false;
    i = words.length * 4;
  }
  for (; i < data.length; i++) if (data[i] !== 0) return false;
  return true;
}
