/**
 * src/vscode/decorations/: the Explorer's marks on files other members changed since the user
 * last opened them. changed-files.ts decides which files (a view model, no vscode);
 * remote-change-decorations.ts shows them and learns what the user opens.
 */
import type { ActivityView } from '../../node/engine/engine-protocol';

/** Who changed a file last, and when (ms). */
export interface FileChange {
  readonly user: string;
  readonly at: number;
}

/** What is kept between window reloads. */
export interface ChangedFilesState {
  readonly changed: Record<string, FileChange>;
  readonly opened: Record<string, number>;
}

/** Files remembered at most, each map; the oldest go first. */
const KEEP = 1000;

/**
 * Files changed by others since the user last opened them, by absolute path. A change counts
 * when it came after the file's last opening, so an entry sent again (grown or seen) never brings
 * back the mark of a file opened since.
 */
export class ChangedFiles {
  private readonly changed = new Map<string, FileChange>();
  private readonly opened = new Map<string, number>();

  constructor(kept?: unknown) {
    const state = kept as Partial<ChangedFilesState> | undefined;
    for (const [path, c] of Object.entries(state?.changed ?? {})) {
      if (typeof c?.user === 'string' && typeof c?.at === 'number') this.changed.set(path, { user: c.user, at: c.at });
    }
    for (const [path, at] of Object.entries(state?.opened ?? {})) if (typeof at === 'number') this.opened.set(path, at);
  }

  /**
   * Notes a 'changed' entry; `absolute` maps its space-relative paths to files here (undefined
   * when the space is not on this device). Returns the files whose mark appeared or changed.
   */
  note(entry: ActivityView, absolute: (path: string) => string | undefined): string[] {
    if (entry.kind !== 'changed' || entry.user === undefined) return [];
    const marked: string[] = [];
    entry.paths.forEach((path, i) => {
      const file = absolute(path);
      const at = entry.changedAt?.[i] ?? entry.at;
      if (file === undefined || (this.opened.get(file) ?? -Infinity) >= at) return;
      const now = this.changed.get(file);
      if (now && now.at >= at) return;
      this.changed.delete(file);
      this.changed.set(file, { user: entry.user!, at });
      marked.push(file);
    });
    trim(this.changed);
    return marked;
  }

  /** The user opened `file` at `at`: its mark goes. Returns whether it had one. */
  open(file: string, at: number): boolean {
    this.opened.delete(file);
    this.opened.set(file, at);
    trim(this.opened);
    return this.changed.delete(file);
  }

  change(file: string): FileChange | undefined {
    return this.changed.get(file);
  }

  get files(): readonly string[] {
    return [...this.changed.keys()];
  }

  toJSON(): ChangedFilesState {
    return { changed: Object.fromEntries(this.changed), opened: Object.fromEntries(this.opened) };
  }
}

function trim<V>(map: Map<string, V>): void {
  while (map.size > KEEP) map.delete(map.keys().next().value!);
}
