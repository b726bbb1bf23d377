/**
 * src/sync/model/: the engine's data as plain values and pure functions: file records, version
 * vectors, paths, content hashes, chunking, the conflict order and reconcile().
 * Pure engine (tsconfig.sync.json): imports only from src/sync (util/, ports/ and
 * protocol/wire.ts here), never Node, ws or vscode.
 */
import { EMPTY_BYTES, equalBytes } from '../util/bytes';
import type { VersionVector } from './version-vector';

export type EntryType = 'file' | 'directory' | 'symlink';

/** One content-defined chunk of a file; offsets are implied by the sizes of the blocks before it. */
export interface BlockRef {
  /** SHA-256 of the block's bytes. */
  readonly hash: Uint8Array;
  readonly size: number;
}

/**
 * What a replica knows about one path. Every replica that has converged holds an identical record
 * for each path, except `sequence`, which is local to the replica that holds it.
 */
export interface FileRecord {
  /** NFC, relative, `/`-separated; validated by `validatePath`. */
  readonly path: string;
  readonly type: EntryType;
  /** A tombstone: the path was deleted at this version. */
  readonly deleted: boolean;
  readonly size: number;
  /** Milliseconds since the epoch, as the author's clock saw it. */
  readonly mtime: number;
  readonly executable: boolean;
  /** Content hash: SHA-256 over the block hashes for files, over the target for symlinks, empty otherwise. */
  readonly hash: Uint8Array;
  readonly blocks: readonly BlockRef[];
  /** Symlink target, empty for other types. */
  readonly target: string;
  readonly version: VersionVector;
  /** Name of the user whose replica produced this version (used to name conflict copies). */
  readonly modifiedBy: string;
  /** Content hash of the version this one was edited from, kept as the base for three-way merges. */
  readonly ancestor: Uint8Array;
  /** Position of this record in the holding replica's index; not part of the record's identity. */
  readonly sequence: number;
  /**
   * Where the holding replica last saw this version on its own disk (the store's inode), so a
   * file replaced with the same size and mtime is still read again. Local: never sent.
   */
  readonly inode?: number;
}

export const NO_HASH: Uint8Array = EMPTY_BYTES;

export function isAlive(r: FileRecord | undefined): r is FileRecord {
  return r !== undefined && !r.deleted;
}

/** Same thing on disk: equal content never counts as a conflict. */
export function sameContent(a: FileRecord, b: FileRecord): boolean {
  if (a.deleted || b.deleted) return a.deleted && b.deleted;
  return a.type === b.type && a.executable === b.executable && a.size === b.size && a.target === b.target && equalBytes(a.hash, b.hash);
}

/** Identity of a record across replicas: everything but the local sequence. */
export function sameRecord(a: FileRecord, b: FileRecord): boolean {
  return (
    a.path === b.path &&
    sameContent(a, b) &&
    a.mtime === b.mtime &&
    a.modifiedBy === b.modifiedBy &&
    equalBytes(a.ancestor, b.ancestor) &&
    a.version.length === b.version.length &&
    a.version.every((e, i) => e.id === b.version[i]!.id && e.counter === b.version[i]!.counter)
  );
}

export function blockOffsets(blocks: readonly BlockRef[]): number[] {
  const out: number[] = [];
  let at = 0;
  for (const b of blocks) {
    out.push(at);
    at += b.size;
  }
  return out;
}
