import type { ChunkingParams } from '../../sync/model/chunker';
import type { ContentDigest, StoreEntry } from '../../sync/ports/ports';
import { errnoOf } from '../disk/disk-errors';

/** Work the main thread hands to a file system worker, and what comes back. */
export type FsRequest =
  | { readonly kind: 'walk'; readonly root: string; readonly under: string; readonly ignoreText: string }
  | { readonly kind: 'digest'; readonly files: readonly DigestJob[]; readonly chunking: ChunkingParams }
  | { readonly kind: 'seal'; readonly files: readonly SealJob[] }
  | { readonly kind: 'place'; readonly root: string; readonly files: readonly PlaceJob[] };

/** A sealed temp file to rename to `path` (relative to the root, `/`-separated), where nothing may be yet. */
export interface PlaceJob {
  readonly from: string;
  readonly path: string;
}

/** Why a file was not placed: a folder on its way is missing or not a folder, something is there already, or a call failed. */
export type PlaceFailure =
  | { readonly reason: 'parentMissing' | 'parentNotDirectory'; readonly dir: string }
  | { readonly reason: 'exists' }
  | { readonly reason: 'failed'; readonly failure: FsFailure };

export interface DigestJob {
  readonly abs: string;
  readonly size: number;
  /** The file's bytes, when the caller holds them whole: digested as they are, nothing is read. */
  readonly data?: Uint8Array;
}

/** A new file written whole and made durable: created at `abs` (a fresh temp name) with these bytes, mode and mtime. */
export interface SealJob {
  readonly abs: string;
  readonly data: Uint8Array;
  readonly mode: number;
  readonly mtimeSeconds: number;
}

/** What a sealed file's fstat said, as the engine needs it. */
export interface SealedFile {
  readonly size: number;
  readonly mtime: number;
  readonly executable: boolean;
  readonly inode: number;
}

/** The errno code and message of a failed file system call. */
export interface FsFailure {
  readonly message: string;
  readonly code?: string;
}

/** What a worker sends back for an error it caught: its message and errno code. */
export function failureOf(err: unknown): FsFailure {
  const code = errnoOf(err);
  return { message: err instanceof Error ? err.message : String(err), ...(code ? { code } : {}) };
}

export type FsResult =
  | { readonly kind: 'walk'; readonly entries: StoreEntry[] }
  /** null where the file changed, shrank or vanished while it was read. */
  | { readonly kind: 'digest'; readonly digests: (ContentDigest | null)[] }
  | { readonly kind: 'seal'; readonly files: (SealedFile | { readonly failure: FsFailure })[] }
  /** null where the file was placed; every folder a file went into is synced before the answer. */
  | { readonly kind: 'place'; readonly files: (PlaceFailure | null)[] };

export interface FsRequestMessage {
  readonly id: number;
  readonly request: FsRequest;
}

export type FsReplyMessage = { readonly id: number; readonly result: FsResult } | { readonly id: number; readonly error: FsFailure };
