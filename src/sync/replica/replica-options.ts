import type { ChunkingParams } from '../model/chunker';
import type { Clock } from '../ports/clock';
import type { Hasher } from '../ports/hasher';
import type { Digester, FileStore, MessagePort, StateStore } from '../ports/ports';
import type { Random } from '../ports/random';
import type { ProtectedPathPolicy } from '../model/protected-paths';
import type { MassDeleteOptions } from './mass-delete-guard';
import type { ReplicaEvent } from './replica-events';

export interface ReplicaOptions {
  /** Name of the local user; conflict copies carry it. */
  readonly user: string;
  /**
   * The space this replica belongs to: a folder whose marker names another space is refused
   * (ForeignSpaceError), and a folder this replica claims is marked with it. Unchecked when absent.
   */
  readonly space?: string;
  readonly store: FileStore;
  readonly state: StateStore;
  readonly port: MessagePort;
  readonly clock: Clock;
  readonly random: Random;
  readonly hasher: Hasher;
  readonly chunking?: ChunkingParams;
  /**
   * Paths (relative) the user chose not to sync, in either direction. Internal paths are always
   * excluded. A path that becomes ignored keeps its last record: ignoring is not deleting.
   */
  readonly ignore?: (path: string, directory: boolean) => boolean;
  /** What this device lets through of the paths never synced by default (version-control folders). */
  readonly protectedPaths?: ProtectedPathPolicy;
  readonly massDelete?: MassDeleteOptions;
  readonly maxRequestsInFlight?: number;
  readonly requestTimeoutMs?: number;
  readonly resendIntervalMs?: number;
  /** Over this time a peer may have one index's worth of records sent to it again (ResendBudget). */
  readonly resendWindowMs?: number;
  /** The smallest allowance of records sent again per window, whatever the index's size (1,000). */
  readonly minResendRecords?: number;
  readonly antiEntropyMs?: number;
  readonly batchRecords?: number;
  readonly readPieceSize?: number;
  /** Hashes file contents; by default through the store on the engine's thread. */
  readonly digester?: Digester;
  /** Files digested at once during a scan. */
  readonly scanConcurrency?: number;
  /** First wait before a path that failed to write is tried again; doubles up to a minute. */
  readonly retryMs?: number;
  /** Text files up to this size keep merge bases. */
  readonly baseMaxSize?: number;
  /** Files the user has open (in an editor): they are fetched before everything else. */
  readonly isOpen?: (path: string) => boolean;
  /**
   * Whether this replica settles a text conflict it resolved by merging both edits (default
   * yes). Not on a reader: the others refuse its versions, so a merged version only it holds
   * would stand against every later edit of the file there.
   */
  readonly mergesEdits?: () => boolean;
  readonly onEvent?: (event: ReplicaEvent) => void;
}
