/** Where a replica stands, as its host asks for it. */
export type ReplicaState = 'idle' | 'syncing' | 'paused' | 'stopped';

export interface ConflictInfo {
  readonly path: string;
  readonly copyPath: string;
  readonly user: string;
  readonly stamp: string;
}

export interface ScanReport {
  readonly changed: number;
  readonly state: ReplicaState;
}
