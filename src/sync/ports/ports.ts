import type { ChunkingParams } from '../model/chunker';
import type { BlockRef, EntryType, FileRecord } from '../model/file-record';
import type { Message } from '../protocol/messages';

/**
 * src/sync/ports/: the interfaces through which the engine reaches files (FileStore), durable
 * state (StateStore), the clock, randomness, hashing and the network (MessagePort). Pure engine:
 * may import only from src/sync.
 *
 * The engine's only ways out into the world. Node adapters implement them for real disks and
 * sockets; the simulation implements them in memory under one seeded PRNG. The clock, the random
 * source and the hasher live in files of their own (clock.ts, random.ts, hasher.ts), which the
 * model can import without depending on the ports here.
 */

/** What a store reports about one path, without reading contents. */
export interface StoreEntry {
  readonly path: string;
  readonly type: EntryType;
  readonly size: number;
  /** Modification time in milliseconds. */
  readonly mtime: number;
  readonly executable: boolean;
  /** Changes whenever the file is replaced; 0 where the store has no such notion. */
  readonly inode: number;
  /** Only for symlinks. */
  readonly target?: string;
}

/** A file's blocks and content hash, as `BlockHasher` computes them. */
export interface ContentDigest {
  readonly hash: Uint8Array;
  readonly blocks: BlockRef[];
}

/** What to digest: a file in the folder, or a temp file before it is committed. */
export type DigestSource = { readonly path: string } | { readonly temp: TempFile };

/**
 * Reads, chunks and hashes files. The engine has a default that reads through the store on its
 * own thread; a host with threads supplies one that keeps hashing off the thread it runs on.
 */
export interface Digester {
  /** Undefined when the file changed or vanished while it was read. */
  digest(source: DigestSource, size: number, chunking: ChunkingParams): Promise<ContentDigest | undefined>;
}

/** What the engine believes is at a path, so that a store can refuse to clobber a newer local change. */
export type Expectation =
  | { readonly kind: 'absent' }
  | { readonly kind: 'any' }
  /** A directory, whatever its timestamps. */
  | { readonly kind: 'directory' }
  | { readonly kind: 'entry'; readonly type: EntryType; readonly size: number; readonly mtime: number; readonly target?: string };

export interface FileMeta {
  readonly mtime: number;
  readonly executable: boolean;
}

/** A file being assembled out of sight; it becomes visible only through `commitTemps`. */
export interface TempFile {
  readonly id: string;
  write(offset: number, data: Uint8Array): Promise<void>;
}

export type StoreErrorCode =
  | 'changed' // the path no longer matches the expectation: a local edit raced us
  | 'notFound'
  | 'notEmpty'
  | 'noSpace'
  | 'permission'
  | 'locked'
  | 'nameTooLong'
  | 'io';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    readonly path: string,
    message?: string,
  ) {
    super(message ?? `${code}: ${path}`);
    this.name = 'StoreError';
  }
}

/** One temp file to rename over `path`, if what is there still matches `expect`. */
export interface TempCommit {
  readonly temp: TempFile;
  readonly path: string;
  readonly expect: Expectation;
  readonly meta: FileMeta;
}

/**
 * What a folder's marker says it is: the shared folder (space) it belongs to and the identity of
 * this root, which the replica state tracking the folder records too. A state is applied only to
 * the root it recorded: pointed at another folder, it would take every file it knew and the
 * folder lacks for a delete.
 */
export interface RootIdentity {
  /** The space the folder belongs to; empty when whoever made the marker did not say. */
  readonly space: string;
  /** Random, 128 bits in hex; empty when the marker names its space but no replica claimed it yet. */
  readonly root: string;
}

/** A merge base to keep: a version's bytes, by its content hash (hex). */
export interface MergeBase {
  readonly hash: string;
  readonly data: Uint8Array;
}

/**
 * A replica's folder. Paths are relative, `/`-separated and already validated. Every mutation
 * takes an expectation and throws StoreError('changed') if the current entry differs, and moves
 * a replaced or removed file's content into the versions store first.
 */
export interface FileStore {
  /** False when the root marker is gone (an unmounted disk, a deleted folder). */
  hasRootMarker(): Promise<boolean>;
  /** The marker's identity; undefined when the marker carries none (or is gone). */
  readRoot(): Promise<RootIdentity | undefined>;
  /** Writes the identity into the marker, durably and whole (a crash leaves the old one or the new). */
  claimRoot(identity: RootIdentity): Promise<void>;
  /**
   * Every entry strictly below `under` (the root when empty), excluding the store's own internal
   * files and anything its ignore rules exclude; parents before children.
   */
  list(under?: string): Promise<StoreEntry[]>;
  stat(path: string): Promise<StoreEntry | undefined>;
  read(path: string, offset: number, length: number): Promise<Uint8Array>;
  createTemp(path: string, size: number): Promise<TempFile>;
  readTemp(temp: TempFile, offset: number, length: number): Promise<Uint8Array>;
  /**
   * Makes a completed temp file durable at its final size, with the version's mtime, so that
   * it can be verified and then committed. Several may run at once: this is where a write waits
   * for the disk, and waits overlap.
   */
  sealTemp(temp: TempFile, meta: FileMeta): Promise<void>;
  /**
   * Renames completed temp files over their paths, each only if its path still matches its
   * expectation; seals any not sealed yet. The paths are distinct files, never two names that
   * differ only in case, so the store may commit them in any order or at once. Every rename is
   * durable when this returns (a folder is synced once for all of its files), so the engine may
   * then record them. A file that could not be committed gets its StoreError in its place; the
   * others go on.
   */
  commitTemps(commits: readonly TempCommit[]): Promise<(StoreEntry | StoreError)[]>;
  discardTemp(temp: TempFile): Promise<void>;
  mkdir(path: string, expect: Expectation): Promise<StoreEntry>;
  symlink(path: string, target: string, expect: Expectation, meta: FileMeta): Promise<StoreEntry>;
  /** Removes a file, symlink or empty directory. */
  remove(path: string, expect: Expectation): Promise<void>;
  rename(from: string, to: string, expectFrom: Expectation): Promise<StoreEntry>;
  setMeta(path: string, expect: Expectation, meta: FileMeta): Promise<StoreEntry>;
  /**
   * Merge bases: copies of small text versions, kept out of the folder by content hash (hex), so
   * two concurrent edits of the same text can later be merged against the version both started
   * from. Bases are helpers, not data: a store may lose one (a crash, a damaged disk), and
   * `getBase` then answers undefined. `putBases` keeps several at once (the store may compress
   * them together: give related texts side by side); one already kept costs nothing.
   */
  putBases(bases: readonly MergeBase[]): Promise<void>;
  getBase(hash: string): Promise<Uint8Array | undefined>;
  /** The store may list a dropped base again after a restart, until it is dropped again. */
  dropBases(hashes: readonly string[]): Promise<void>;
  listBases(): Promise<string[]>;
  /**
   * Bytes a new file in the folder may still take (what the file system has free for this
   * user), or undefined where the store cannot tell: a file claimed bigger waits instead of
   * filling the disk.
   */
  freeSpace?(): Promise<number | undefined>;
}

/** What a replica must remember across restarts. */
export interface ReplicaMeta {
  /** Random id of this incarnation of the replica's index; also its key in version vectors. */
  readonly indexId: string;
  /** Highest sequence issued in this index. */
  readonly sequence: number;
  /** Highest version-vector counter this replica issued. */
  readonly counter: number;
  /** Set while a mass delete waits for the user's decision. */
  readonly paused: boolean;
  /** The root (RootIdentity.root) this state belongs to; absent in a state written before roots had one. */
  readonly rootId?: string;
}

/** How far this replica has read another replica's index. */
export interface PeerPosition {
  readonly peer: string;
  readonly indexId: string;
  readonly sequence: number;
}

/**
 * A path whose disk content does not match its index record yet: the engine adopted a newer
 * version and has still to write it. `onDisk` describes what the disk holds meanwhile, so a scan
 * can tell the user's own edits from the pending write.
 */
export interface NeededEntry {
  readonly path: string;
  readonly onDisk?: FileRecord;
}

/** Concurrent versions of one path that wait until this disk holds what a conflict copy needs. */
export interface DeferredEntry {
  readonly path: string;
  readonly records: readonly FileRecord[];
}

/**
 * One atomic change to a replica's durable state. Records and needed entries are keyed by path;
 * a path in a `remove` list is dropped. A committed change survives any crash that follows.
 */
export interface StateChange {
  readonly meta?: ReplicaMeta;
  readonly records?: readonly FileRecord[];
  readonly removeRecords?: readonly string[];
  readonly needed?: readonly NeededEntry[];
  readonly removeNeeded?: readonly string[];
  /** Peer versions this replica cannot judge yet (it lacks a conflict loser's bytes); keyed by path. */
  readonly deferred?: readonly DeferredEntry[];
  readonly removeDeferred?: readonly string[];
  readonly peers?: readonly PeerPosition[];
}

export interface PersistedState {
  readonly meta: ReplicaMeta;
  readonly records: readonly FileRecord[];
  readonly needed: readonly NeededEntry[];
  readonly deferred: readonly DeferredEntry[];
  readonly peers: readonly PeerPosition[];
}

export interface StateStore {
  load(): Promise<PersistedState | undefined>;
  commit(change: StateChange): Promise<void>;
  /**
   * Replaces the whole state with this meta and nothing else, atomically: after a crash the store
   * holds either the old state whole or the new one, never part of the old one under the new meta.
   */
  reset(meta: ReplicaMeta): Promise<void>;
}

/** Sends one message to one peer replica. Delivery may fail silently; the engine retries. */
export interface MessagePort {
  send(peer: string, message: Message): void;
}
