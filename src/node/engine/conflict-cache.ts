import type { Replica } from '../../sync/replica/replica';
import type { ConflictInfo } from '../../sync/replica/replica-status';

/** Indexes this far along (a sequence at least as large as the record count) are walked at most every `slowMs`. */
const LARGE = 20_000;

/**
 * Each replica's conflicts, listed again only when its index changed (its sequence moved): the
 * listing walks every record, too much to do four times a second for a large folder. Large
 * indexes are walked at most every few seconds even while they change.
 */
export class ConflictCache {
  private readonly bySpace = new Map<string, { sequence: number; at: number; list: readonly ConflictInfo[] }>();

  constructor(private readonly slowMs = 3000) {}

  conflicts(space: string, replica: Replica, now = Date.now()): readonly ConflictInfo[] {
    const cached = this.bySpace.get(space);
    if (cached && cached.sequence === replica.sequence) return cached.list;
    if (cached && replica.sequence > LARGE && now - cached.at < this.slowMs) return cached.list;
    const list = replica.conflicts();
    this.bySpace.set(space, { sequence: replica.sequence, at: now, list });
    return list;
  }

  /** Forgets a space's list (after resolving one of its conflicts, say). */
  invalidate(space: string): void {
    this.bySpace.delete(space);
  }
}
