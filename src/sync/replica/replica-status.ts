/** Where a replica stands, as its host asks for it. */
export type ReplicaState = 'idle' | 'syncing' | 'paused' | 'stopped';

/** Who wrote one version of a conflicted file, and when (its mtime, by the author's clock). */
export interface ConflictAuthor {
  readonly name: string;
  readonly at: number;
}

export interface ConflictInfo {
  readonly path: string;
  readonly copyPath: string;
  readonly user: string;
  readonly stamp: string;
  /** The version now at `path`; absent while the path has no live file. */
  readonly fileAuthor?: ConflictAuthor;
  readonly copyAuthor: ConflictAuthor;
  /**
   * Content hash (hex) of the version both sides were edited from, when this replica keeps its
   * bytes as a merge base (`Replica.readBase`): the base of a three-way merge. Absent for binary
   * and large files, and once either side was edited again (its ancestor is then another version).
   */
  readonly base?: string;
}

export interface ScanReport {
  readonly changed: number;
  readonly state: ReplicaState;
}
