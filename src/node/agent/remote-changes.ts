import type { Replica } from '../../sync/replica/replica';
import { printable } from '../../sync/util/printable';
import { sameRecord, type FileRecord } from '../../sync/model/file-record';

/** Reports the records of an index batch that change something here, by author, once per version. */
export class RemoteChanges {
  /** The version last reported per space and path, so a change forwarded by several peers counts once. */
  private readonly reported = new Map<string, string>();

  constructor(private readonly onChanges: (space: string, author: string, paths: readonly string[]) => void) {}

  note(space: string, replica: Replica, records: readonly FileRecord[]): void {
    const byAuthor = new Map<string, string[]>();
    for (const r of records) {
      if (r.type === 'directory' && !r.deleted) continue;
      const local = replica.record(r.path);
      if (local && sameRecord(local, r)) continue;
      const key = `${space}/${r.path}`;
      const version = r.version.map((e) => `${e.id}:${e.counter}`).join(',');
      if (this.reported.get(key) === version) continue;
      if (this.reported.size > 100_000) this.reported.clear();
      this.reported.set(key, version);
      const paths = byAuthor.get(r.modifiedBy) ?? [];
      paths.push(r.path);
      byAuthor.set(r.modifiedBy, paths);
    }
    for (const [author, paths] of byAuthor) this.onChanges(space, author, paths);
  }
}

/** How many paths a log line names before it says how many more there are. */
const NAMED_PATHS = 5;

/** One log line for changes that arrived: who made them, and to which files. */
export function describeRemoteChanges(author: string, paths: readonly string[]): string {
  const named = paths
    .slice(0, NAMED_PATHS)
    .map((p) => `"${printable(p)}"`)
    .join(', ');
  const more = paths.length > NAMED_PATHS ? ` and ${paths.length - NAMED_PATHS} more` : '';
  return `changes from ${printable(author)} to ${paths.length === 1 ? '1 file' : `${paths.length} files`}: ${named}${more}`;
}
