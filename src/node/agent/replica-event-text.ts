import type { ReplicaEvent } from '../../sync/replica/replica-events';
import { toHex } from '../../sync/util/bytes';
import { printable } from '../../sync/util/printable';
import type { FileRecord } from '../../sync/model/file-record';

/**
 * One log line for a replica event: records by author, size and short hash, not as byte arrays.
 * Paths and names come from peers, so their control characters are escaped (printable). `userOf`
 * names the user of a device: for a refused record the line says who sent it.
 */
export function describeReplicaEvent(event: ReplicaEvent, userOf: (device: string) => string | undefined = () => undefined): string {
  const p = printable;
  switch (event.kind) {
    case 'conflict':
      return `conflict in ${p(event.path)}: ${describeVersion(event.winner)} wins over ${describeVersion(event.loser)}${event.copyPath ? `, kept as ${p(event.copyPath)}` : ', copy made by the replica that holds it'}${event.base ? '' : ', no merge base'}`;
    case 'merged':
      return `merged ${describeVersion(event.loser)} into ${p(event.path)} (${describeVersion(event.winner)}); ${p(event.copyPath)} is no longer needed`;
    case 'reRooted':
      return event.reason === 'noIdentity'
        ? 'the folder has no identity of its own (new, or made by an older version): its files are taken as new, nothing is deleted'
        : "the folder is not the one this replica synced (its marker is another folder's): its files are taken as new, nothing is deleted";
    case 'error': {
      const user = event.peer === undefined ? undefined : userOf(event.peer);
      const from =
        event.peer === undefined ? '' : `, from ${user === undefined ? 'an unknown user' : printable(user)} on device ${event.peer}`;
      return `${p(event.path)}: ${event.problem.code} (${event.problem.source}${from}): ${p(event.problem.message)}`;
    }
    case 'paused':
      return `paused: a scan would delete ${event.deletes} of ${event.liveFiles} files`;
    case 'stopped':
      return 'stopped: the folder or its .shared-folder marker is gone (a disk unmounted, or the folder moved or deleted); syncing resumes when it is back';
    case 'resumed':
      return 'resumed';
    case 'unobtainable':
      return `${p(event.path)}: no online member has its blocks`;
    default: {
      // A new kind of event is a compile error here until it has its own line.
      const unknownKind: never = event;
      return `event ${String((unknownKind as { kind?: unknown }).kind)}`;
    }
  }
}

function describeVersion(r: FileRecord): string {
  const by = printable(r.modifiedBy);
  return r.deleted ? `a delete by ${by}` : `${r.size} bytes by ${by} (${toHex(r.hash).slice(0, 12)})`;
}
