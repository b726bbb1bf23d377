import type { ConflictView } from './engine-protocol';

/**
 * Which conflicts went away between two listings of a space: resolved here or on another device
 * (their copy deleted or renamed). In memory only: a host that starts lists afresh, so what was
 * resolved while it was down is not news to a window that never showed it.
 */
export class ResolvedConflicts {
  private readonly listed = new Map<string, ReadonlyMap<string, ConflictView>>();

  /** The conflicts of `space` listed last time and not in `now`; `now` is what is listed from here on. */
  gone(space: string, now: readonly ConflictView[]): ConflictView[] {
    const before = this.listed.get(space);
    const current = new Map(now.map((c) => [c.copy, c]));
    this.listed.set(space, current);
    return before ? [...before.values()].filter((c) => !current.has(c.copy)) : [];
  }
}
