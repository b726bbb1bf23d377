import type { ReplicaEvent } from '../../sync/replica/replica-events';
import { toHex } from '../../sync/util/bytes';
import type { FileRecord } from '../../sync/model/file-record';

/** One log line for a replica event: records by author, size and short hash, not as byte arrays. */
export function describeReplicaEvent(event: ReplicaEvent): string {
  switch (event.kind) {
    case 'conflict':
      return `conflict in ${event.path}: ${describeVersion(event.winner)} wins over ${describeVersion(event.loser)}${event.copyPath ? `, kept as ${event.copyPath}` : ', copy made by the replica that holds it'}${event.base ? '' : ', no merge base'}`;
    case 'error':
      return `${event.path}: ${event.problem.code} (${event.problem.source}): ${event.problem.message}`;
    case 'paused':
      return `paused: a scan would delete ${event.deletes} of ${event.liveFiles} files`;
    case 'stopped':
      return `stopped: ${event.reason}`;
    case 'resumed':
      return 'resumed';
    case 'unobtainable':
      return `${event.path}: no online member has its blocks`;
    default:
      return JSON.stringify(event, (_key, value: unknown) => (value instanceof Uint8Array ? toHex(value) : value));
  }
}

function describeVersion(r: FileRecord): string {
  return r.deleted ? `a delete by ${r.modifiedBy}` : `${r.size} bytes by ${r.modifiedBy} (${toHex(r.hash).slice(0, 12)})`;
}
