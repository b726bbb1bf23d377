import { createHash } from 'node:crypto';
import { entryMatchesExpectation } from '../../src/sync/replica/expectation';
import { depth, isAncestor, parentOf } from '../../src/sync/model/path';
import type { EntryType } from '../../src/sync/model/file-record';
import {
  StoreError,
  type Expectation,
  type FileMeta,
  type FileStore,
  type MergeBase,
  type RootIdentity,
  type StoreEntry,
  type TempCommit,
  type TempFile,
} from '../../src/sync/ports/ports';
import type { CrashSwitch } from './crash-switch';

interface Node {
  type: EntryType;
  data: Uint8Array;
  target: string;
  mtime: number;
  executable: boolean;
  inode: number;
}

export interface VersionCopy {
  readonly path: string;
  readonly type: EntryType;
  readonly data: Uint8Array;
  readonly target: string;
}

export interface SnapshotEntry {
  readonly path: string;
  readonly type: EntryType;
  readonly executable: boolean;
  readonly target: string;
  readonly content: string;
}

interface Temp extends TempFile {
  data: Uint8Array;
  readonly path: string;
}

/** What a user op threw away (file contents it overwrote or deleted), or false if not applicable. */
export type Discarded = Uint8Array[] | false;

function sha(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * A folder in memory with the same contract as the disk store: expectations on every mutation,
 * replaced content into the versions store, temp files invisible until committed. The `user*`
 * methods play a person editing, who bypasses all of that.
 */
export class MemoryStore implements FileStore {
  private readonly nodes = new Map<string, Node>();
  private readonly temps = new Map<string, Temp>();
  private readonly versionList: VersionCopy[] = [];
  private readonly baseCopies = new Map<string, Uint8Array>();
  private marker = true;
  /** The marker's identity: kept while the marker is away, as on a disk unmounted and mounted again. */
  private identity: RootIdentity | undefined;
  private nextInode = 1;
  private nextTemp = 1;
  /** What `freeSpace` reports; a test sets it to play a small disk. Unknown by default. */
  free: number | undefined;
  /** Reads of a path's temp file wait for what this returns: a test plays a file that takes long to read back. */
  holdTempReads: ((path: string) => Promise<void> | undefined) | undefined;

  constructor(private readonly crash: CrashSwitch) {}

  // ---- FileStore ---------------------------------------------------------------------------

  async freeSpace(): Promise<number | undefined> {
    return this.free;
  }

  async hasRootMarker(): Promise<boolean> {
    this.crash.tick();
    return this.marker;
  }

  async readRoot(): Promise<RootIdentity | undefined> {
    this.crash.tick();
    return this.marker ? this.identity : undefined;
  }

  async claimRoot(identity: RootIdentity): Promise<void> {
    this.crash.tick();
    this.marker = true;
    this.identity = { ...identity };
  }

  async list(under = ''): Promise<StoreEntry[]> {
    this.crash.tick();
    return [...this.nodes.keys()]
      .filter((p) => isAncestor(under, p))
      .sort(byTreeOrder)
      .map((p) => this.entry(p)!);
  }

  async stat(path: string): Promise<StoreEntry | undefined> {
    this.crash.tick();
    return this.entry(path);
  }

  async read(path: string, offset: number, length: number): Promise<Uint8Array> {
    this.crash.tick();
    const node = this.nodes.get(path);
    if (!node || node.type !== 'file') throw new StoreError('notFound', path);
    return node.data.slice(offset, offset + length);
  }

  async createTemp(path: string, size: number): Promise<TempFile> {
    this.crash.tick();
    const id = `${path}#${this.nextTemp++}`;
    const temp: Temp = {
      id,
      path,
      data: new Uint8Array(size),
      write: async (offset: number, data: Uint8Array) => {
        this.crash.tick();
        if (!this.temps.has(id)) throw new StoreError('notFound', path, 'temp file is gone');
        temp.data.set(data, offset);
      },
    };
    this.temps.set(id, temp);
    return temp;
  }

  async readTemp(temp: TempFile, offset: number, length: number): Promise<Uint8Array> {
    this.crash.tick();
    const t = this.temps.get(temp.id);
    if (!t) throw new StoreError('notFound', temp.id, 'temp file is gone');
    await this.holdTempReads?.(t.path);
    return t.data.slice(offset, offset + length);
  }

  async commitTemp(temp: TempFile, path: string, expect: Expectation, meta: FileMeta): Promise<StoreEntry> {
    this.crash.tick();
    const t = this.temps.get(temp.id);
    if (!t) throw new StoreError('notFound', path, 'temp file is gone');
    this.check(path, expect);
    this.requireParent(path);
    this.clearForReplace(path);
    this.temps.delete(temp.id);
    this.nodes.set(path, {
      type: 'file',
      data: t.data,
      target: '',
      mtime: meta.mtime,
      executable: meta.executable,
      inode: this.nextInode++,
    });
    return this.entry(path)!;
  }

  async sealTemp(temp: TempFile): Promise<void> {
    this.crash.tick();
    if (!this.temps.has(temp.id)) throw new StoreError('notFound', temp.id, 'temp file is gone');
  }

  /** One after another, as the disk store does: a crash can fall between two of them. */
  async commitTemps(commits: readonly TempCommit[]): Promise<(StoreEntry | StoreError)[]> {
    const results: (StoreEntry | StoreError)[] = [];
    for (const { temp, path, expect, meta } of commits) {
      try {
        results.push(await this.commitTemp(temp, path, expect, meta));
      } catch (err) {
        if (!(err instanceof StoreError)) throw err;
        results.push(err);
      }
    }
    return results;
  }

  async discardTemp(temp: TempFile): Promise<void> {
    this.crash.tick();
    this.temps.delete(temp.id);
  }

  async mkdir(path: string, expect: Expectation): Promise<StoreEntry> {
    this.crash.tick();
    this.check(path, expect);
    if (this.nodes.get(path)?.type === 'directory') return this.entry(path)!;
    this.requireParent(path);
    this.clearForReplace(path);
    this.nodes.set(path, { type: 'directory', data: new Uint8Array(0), target: '', mtime: 0, executable: false, inode: this.nextInode++ });
    return this.entry(path)!;
  }

  async symlink(path: string, target: string, expect: Expectation, meta: FileMeta): Promise<StoreEntry> {
    this.crash.tick();
    this.check(path, expect);
    this.requireParent(path);
    this.clearForReplace(path);
    this.nodes.set(path, {
      type: 'symlink',
      data: new Uint8Array(0),
      target,
      mtime: meta.mtime,
      executable: false,
      inode: this.nextInode++,
    });
    return this.entry(path)!;
  }

  async remove(path: string, expect: Expectation): Promise<void> {
    this.crash.tick();
    this.check(path, expect);
    if (!this.nodes.has(path)) throw new StoreError('notFound', path);
    this.clearForReplace(path);
  }

  async rename(from: string, to: string, expectFrom: Expectation): Promise<StoreEntry> {
    this.crash.tick();
    this.check(from, expectFrom);
    if (!this.nodes.has(from)) throw new StoreError('notFound', from);
    if (this.nodes.has(to)) throw new StoreError('changed', to, 'rename target exists');
    this.requireParent(to);
    this.moveTree(from, to);
    return this.entry(to)!;
  }

  async setMeta(path: string, expect: Expectation, meta: FileMeta): Promise<StoreEntry> {
    this.crash.tick();
    this.check(path, expect);
    const node = this.nodes.get(path);
    if (!node) throw new StoreError('notFound', path);
    node.mtime = meta.mtime;
    node.executable = node.type === 'file' && meta.executable;
    return this.entry(path)!;
  }

  async putBases(bases: readonly MergeBase[]): Promise<void> {
    this.crash.tick();
    for (const b of bases) this.baseCopies.set(b.hash, b.data.slice());
  }

  async getBase(hash: string): Promise<Uint8Array | undefined> {
    this.crash.tick();
    return this.baseCopies.get(hash)?.slice();
  }

  async dropBases(hashes: readonly string[]): Promise<void> {
    this.crash.tick();
    for (const hash of hashes) this.baseCopies.delete(hash);
  }

  async listBases(): Promise<string[]> {
    this.crash.tick();
    return [...this.baseCopies.keys()];
  }

  // ---- contract helpers --------------------------------------------------------------------

  private entry(path: string): StoreEntry | undefined {
    const n = this.nodes.get(path);
    if (!n) return undefined;
    return {
      path,
      type: n.type,
      size: n.type === 'file' ? n.data.length : 0,
      mtime: n.mtime,
      executable: n.executable,
      inode: n.inode,
      ...(n.type === 'symlink' ? { target: n.target } : {}),
    };
  }

  private check(path: string, expect: Expectation): void {
    if (!entryMatchesExpectation(this.entry(path), expect)) throw new StoreError('changed', path);
  }

  private requireParent(path: string): void {
    const parent = parentOf(path);
    if (parent !== '' && this.nodes.get(parent)?.type !== 'directory') throw new StoreError('notFound', path, 'parent is not a directory');
  }

  /** Makes room at `path`: a file or symlink goes to the versions store, a directory must be empty. */
  private clearForReplace(path: string): void {
    const old = this.nodes.get(path);
    if (!old) return;
    if (old.type === 'directory') {
      for (const p of this.nodes.keys()) if (isAncestor(path, p)) throw new StoreError('notEmpty', path);
    } else {
      this.versionList.push({ path, type: old.type, data: old.data, target: old.target });
    }
    this.nodes.delete(path);
  }

  private moveTree(from: string, to: string): void {
    const moves: Array<[string, Node]> = [];
    for (const [p, n] of this.nodes) if (p === from || isAncestor(from, p)) moves.push([p, n]);
    for (const [p] of moves) this.nodes.delete(p);
    // A rename keeps the inode, as on a real disk.
    for (const [p, n] of moves) this.nodes.set(to + p.slice(from.length), n);
  }

  // ---- the person at the keyboard ----------------------------------------------------------

  private parentIsDir(path: string): boolean {
    const parent = parentOf(path);
    return parent === '' || this.nodes.get(parent)?.type === 'directory';
  }

  private contentsUnder(path: string): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const [p, n] of this.nodes) if ((p === path || isAncestor(path, p)) && n.type === 'file') out.push(n.data);
    return out;
  }

  userWrite(path: string, data: Uint8Array, mtime: number, executable?: boolean): Discarded {
    const old = this.nodes.get(path);
    if (!this.parentIsDir(path) || old?.type === 'directory') return false;
    this.nodes.set(path, {
      type: 'file',
      data: data.slice(),
      target: '',
      mtime,
      executable: executable ?? (old?.type === 'file' ? old.executable : false),
      inode: this.nextInode++,
    });
    return old?.type === 'file' ? [old.data] : [];
  }

  userDelete(path: string): Discarded {
    if (!this.nodes.has(path)) return false;
    const discarded = this.contentsUnder(path);
    for (const p of [...this.nodes.keys()]) if (p === path || isAncestor(path, p)) this.nodes.delete(p);
    return discarded;
  }

  userRename(from: string, to: string): Discarded {
    const node = this.nodes.get(from);
    const existing = this.nodes.get(to);
    if (!node || from === to || isAncestor(from, to) || !this.parentIsDir(to)) return false;
    if (existing && (existing.type === 'directory' || node.type === 'directory')) return false;
    const discarded = existing?.type === 'file' ? [existing.data] : [];
    this.nodes.delete(to);
    this.moveTree(from, to);
    return discarded;
  }

  userMkdir(path: string, mtime: number): Discarded {
    if (this.nodes.has(path) || !this.parentIsDir(path)) return false;
    this.nodes.set(path, { type: 'directory', data: new Uint8Array(0), target: '', mtime, executable: false, inode: this.nextInode++ });
    return [];
  }

  userSymlink(path: string, target: string, mtime: number): Discarded {
    const old = this.nodes.get(path);
    if (!this.parentIsDir(path) || old?.type === 'directory') return false;
    this.nodes.set(path, { type: 'symlink', data: new Uint8Array(0), target, mtime, executable: false, inode: this.nextInode++ });
    return old?.type === 'file' ? [old.data] : [];
  }

  userSetExecutable(path: string, executable: boolean, mtime: number): Discarded {
    const node = this.nodes.get(path);
    if (node?.type !== 'file' || node.executable === executable) return false;
    node.executable = executable;
    node.mtime = mtime;
    return [];
  }

  readUser(path: string): Uint8Array | undefined {
    const node = this.nodes.get(path);
    return node?.type === 'file' ? node.data.slice() : undefined;
  }

  removeRootMarker(): void {
    this.marker = false;
  }

  restoreRootMarker(): void {
    this.marker = true;
  }

  /** The marker's identity as a person looking into the folder would see it. */
  rootIdentity(): RootIdentity | undefined {
    return this.identity;
  }

  /** Puts another identity in the marker (or none), as copying another folder's marker in would. */
  setRootIdentity(identity: RootIdentity | undefined): void {
    this.identity = identity && { ...identity };
  }

  /**
   * The folder copied elsewhere with a plain copy: files, the versions folder and the marker with
   * its identity; new inodes, as a copy has. Temp files and merge bases (kept out of the folder) stay.
   */
  copyTo(target: MemoryStore): void {
    for (const [path, n] of this.nodes) target.nodes.set(path, { ...n, data: n.data.slice(), inode: target.nextInode++ });
    target.versionList.push(...this.versionList);
    target.identity = this.identity && { ...this.identity };
    target.marker = this.marker;
  }

  /** Another disk mounted at this folder's path: everything here is what `disk` holds, marker included. */
  mountInstead(disk: MemoryStore): void {
    this.nodes.clear();
    this.temps.clear();
    this.versionList.length = 0;
    disk.copyTo(this);
  }

  // ---- inspection --------------------------------------------------------------------------

  dropTemps(): void {
    this.temps.clear();
  }

  tempCount(): number {
    return this.temps.size;
  }

  versions(): readonly VersionCopy[] {
    return this.versionList;
  }

  snapshot(): SnapshotEntry[] {
    return [...this.nodes.keys()].sort(byTreeOrder).map((path) => {
      const n = this.nodes.get(path)!;
      return { path, type: n.type, executable: n.executable, target: n.target, content: n.type === 'file' ? sha(n.data) : '' };
    });
  }

  /** Every file content visible now or kept in the versions store. */
  allContentHashes(): Set<string> {
    const out = new Set<string>();
    for (const n of this.nodes.values()) if (n.type === 'file') out.add(sha(n.data));
    for (const v of this.versionList) if (v.type === 'file') out.add(sha(v.data));
    return out;
  }
}

/** Parents before children, siblings by name. */
function byTreeOrder(a: string, b: string): number {
  return depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0);
}
