import { conflictCopyRecord, pickWinner } from './conflict';
import { sameContent, sameRecord, type FileRecord } from './file-record';
import { compare, merge } from './version-vector';

/** What to do with a record from a peer, given the local record for the same path. */
export type Decision =
  /** The remote record is older than or equal to what we have. */
  | { readonly kind: 'ignore' }
  /** Adopt `record` as the new local record for the path. */
  | { readonly kind: 'adopt'; readonly record: FileRecord }
  /**
   * The versions are concurrent. `record` (the winner, with both vectors merged) becomes the
   * local record; `copy`, if present, keeps the loser's content under its conflict name.
   */
  | { readonly kind: 'conflict'; readonly record: FileRecord; readonly copy?: FileRecord; readonly loser: FileRecord };

/**
 * The heart of multi-master replication. Pure and symmetric: reconcile(a, b) and reconcile(b, a)
 * on two replicas lead to the same record, so replicas converge whatever order changes arrive in.
 */
export function reconcile(local: FileRecord | undefined, remote: FileRecord): Decision {
  if (local === undefined) return { kind: 'adopt', record: remote };
  switch (compare(remote.version, local.version)) {
    case 'equal': {
      // Equal vectors should mean equal records; if two ever differ, every replica still settles
      // on the same one instead of keeping its own.
      if (sameRecord(local, remote) || pickWinner(local, remote).winner === local) return { kind: 'ignore' };
      if (sameContent(local, remote)) return { kind: 'adopt', record: remote };
      return keepLoser(remote, local, remote.version);
    }
    case 'lesser':
      return { kind: 'ignore' };
    case 'greater':
      return { kind: 'adopt', record: remote };
    case 'concurrent': {
      const { winner, loser } = pickWinner(local, remote);
      const version = merge(local.version, remote.version);
      if (sameContent(local, remote)) return { kind: 'adopt', record: { ...winner, version } };
      return keepLoser(winner, loser, version);
    }
  }
}

function keepLoser(winner: FileRecord, loser: FileRecord, version: FileRecord['version']): Decision {
  const record: FileRecord = { ...winner, version };
  const keepsContent = !loser.deleted && loser.type !== 'directory';
  return keepsContent ? { kind: 'conflict', record, copy: conflictCopyRecord(loser), loser } : { kind: 'conflict', record, loser };
}
