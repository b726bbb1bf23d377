import type { FileRecord } from '../model/file-record';

/** What a replica tells its host as it happens (`ReplicaOptions.onEvent`). */
export type ReplicaEvent =
  | {
      readonly kind: 'conflict';
      readonly path: string;
      readonly copyPath?: string;
      readonly winner: FileRecord;
      readonly loser: FileRecord;
      readonly base?: Uint8Array;
    }
  /**
   * A conflict this replica settled by a three-way merge: `record`, the new version at `path`,
   * holds the edits of both `winner` and `loser`, and the copy at `copyPath` is deleted (unless
   * the user edited it meanwhile, which then stands).
   */
  | {
      readonly kind: 'merged';
      readonly path: string;
      readonly copyPath: string;
      readonly record: FileRecord;
      readonly winner: FileRecord;
      readonly loser: FileRecord;
    }
  /** A path that does not sync; `peer` is the device whose record was refused, for a remote problem. */
  | { readonly kind: 'error'; readonly path: string; readonly problem: PathProblem; readonly peer?: string }
  | { readonly kind: 'paused'; readonly reason: 'massDelete'; readonly deletes: number; readonly liveFiles: number }
  | { readonly kind: 'stopped'; readonly reason: 'rootMissing' }
  | { readonly kind: 'resumed' }
  /**
   * The state found belonged to another folder (the marker had no identity, or another one), so
   * it was set aside: the replica started over with a fresh index, and took what is on this disk
   * as new local files. Nothing was deleted.
   */
  | { readonly kind: 'reRooted'; readonly reason: 'noIdentity' | 'foreignMarker' }
  | { readonly kind: 'unobtainable'; readonly path: string };

/** Why one path does not sync; the rest of the folder goes on. */
export interface PathProblem {
  readonly code: string;
  readonly message: string;
  /** A local name we cannot sync, a peer's record we refused, or a write that failed. */
  readonly source: 'local' | 'remote' | 'apply';
}
