import * as crypto from 'node:crypto';
import type { ActivityView } from './engine-protocol';

/** Changes by one author in one space that arrive within this long of each other make one entry. */
const COALESCE_MS = 1500;
/** Entries kept for the UI to show when it (re)connects. */
const KEEP = 200;

export interface UnseenStore {
  load(): Record<string, number>;
  save(counts: Record<string, number>): void;
}

export interface RecentStore {
  load(): unknown;
  save(recent: readonly ActivityView[]): void;
}

interface Batch {
  readonly space: string;
  readonly user: string;
  readonly paths: Set<string>;
  timer: NodeJS.Timeout;
}

/**
 * What happened in the spaces, for people: remote changes coalesced per space and author
 * ("bob changed 3 files"), members joining and leaving, conflicts, errors. Counts what the user
 * has not seen per space until `markSeen`.
 */
export class ActivityLog {
  private readonly batches = new Map<string, Batch>();
  private readonly unseenBySpace = new Map<string, number>();
  private readonly recent: ActivityView[] = [];

  /** Unseen counts where they are kept (the home), so they survive a restart. */
  private store: UnseenStore | undefined;
  private recentStore: RecentStore | undefined;

  /** The folder name of a space, stamped on each entry; set by the owner of the log. */
  nameOf: (space: string) => string | undefined = () => undefined;

  constructor(
    private readonly onActivity: (activity: ActivityView) => void,
    private readonly coalesceMs = COALESCE_MS,
  ) {}

  keepUnseenIn(store: UnseenStore): void {
    this.store = store;
    for (const [space, n] of Object.entries(store.load())) this.unseenBySpace.set(space, n);
  }

  /** The recent entries where they are kept (the home), so a new window shows what happened before it. */
  keepRecentIn(store: RecentStore): void {
    this.recentStore = store;
    const kept = store.load();
    if (!Array.isArray(kept)) return;
    this.recent.splice(0, this.recent.length, ...kept.filter(isActivity).slice(-KEEP));
  }

  /** The last entries, oldest first. */
  recentActivity(): readonly ActivityView[] {
    return this.recent;
  }

  /** Remote changes to `paths`; reported once the author has been quiet for a moment. */
  changed(space: string, user: string, paths: readonly string[]): void {
    const key = `${space}\n${user}`;
    let batch = this.batches.get(key);
    if (batch) clearTimeout(batch.timer);
    else this.batches.set(key, (batch = { space, user, paths: new Set(), timer: undefined as unknown as NodeJS.Timeout }));
    for (const p of paths) batch.paths.add(p);
    batch.timer = setTimeout(() => this.flush(key), this.coalesceMs);
  }

  add(kind: ActivityView['kind'], space: string, paths: readonly string[], user?: string, about?: { readonly invitedMe?: true }): void {
    const spaceName = this.nameOf(space);
    const activity: ActivityView = {
      id: crypto.randomBytes(8).toString('hex'),
      at: Date.now(),
      space,
      kind,
      paths: [...paths],
      ...(user !== undefined ? { user } : {}),
      ...(about?.invitedMe ? { invitedMe: true as const } : {}),
      ...(spaceName !== undefined ? { spaceName } : {}),
    };
    this.recent.push(activity);
    if (this.recent.length > KEEP) this.recent.shift();
    this.recentStore?.save(this.recent);
    if (kind !== 'error') {
      this.unseenBySpace.set(space, (this.unseenBySpace.get(space) ?? 0) + Math.max(1, paths.length));
      this.saveUnseen();
    }
    this.onActivity(activity);
  }

  unseen(space: string): number {
    return this.unseenBySpace.get(space) ?? 0;
  }

  markSeen(space: string): void {
    if (this.unseenBySpace.delete(space)) this.saveUnseen();
  }

  private saveUnseen(): void {
    this.store?.save(Object.fromEntries(this.unseenBySpace));
  }

  /** Reports every batch still waiting (before the host stops). */
  flushAll(): void {
    for (const key of [...this.batches.keys()]) this.flush(key);
  }

  private flush(key: string): void {
    const batch = this.batches.get(key);
    if (!batch) return;
    clearTimeout(batch.timer);
    this.batches.delete(key);
    this.add('changed', batch.space, [...batch.paths].sort(), batch.user);
  }
}

const KINDS: ReadonlySet<string> = new Set<ActivityView['kind']>([
  'changed',
  'joined',
  'left',
  'conflict',
  'merged',
  'invited',
  'error',
  'stopped',
]);

/** A kept entry read back from the home: written by this code, but a file can be damaged. */
function isActivity(value: unknown): value is ActivityView {
  if (value === null || typeof value !== 'object') return false;
  const a = value as Record<string, unknown>;
  return (
    typeof a['id'] === 'string' &&
    typeof a['at'] === 'number' &&
    typeof a['space'] === 'string' &&
    typeof a['kind'] === 'string' &&
    KINDS.has(a['kind']) &&
    Array.isArray(a['paths']) &&
    a['paths'].every((p) => typeof p === 'string') &&
    (a['user'] === undefined || typeof a['user'] === 'string') &&
    (a['invitedMe'] === undefined || a['invitedMe'] === true) &&
    (a['spaceName'] === undefined || typeof a['spaceName'] === 'string')
  );
}
