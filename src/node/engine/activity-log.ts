import * as crypto from 'node:crypto';
import { parseConflictCopyPath } from '../../sync/model/conflict';
import type { ActivityView } from './engine-protocol';

/**
 * Remote changes by one author in one space that come within this long of the entry's last one
 * join that entry; a change that comes later is an entry of its own.
 */
export const DEFAULT_GROUP_WITHIN_MS = 60_000;
/** Entries kept for the UI to show when it (re)connects. */
export const KEEP = 200;
/** The shape of the kept file; a bare list is what versions before it kept. */
const STORE_VERSION = 2;

export interface RecentStore {
  load(): unknown;
  save(recent: unknown): void;
}

/**
 * What a file held before the first change an entry reports for it: `null` when it did not
 * exist, otherwise the time the change was noted (the old bytes reach the versions folder at
 * or after it) and the inode the old bytes had, which their version shares when it is a link.
 */
export type PriorVersion = { readonly notedAt: number; readonly inode?: number } | null;

interface Kept {
  view: ActivityView;
  /** Per path of a 'changed' entry, when known. */
  readonly prior: Record<string, PriorVersion>;
}

/**
 * What happened in the spaces, for people: remote changes grouped per space and author ("bob
 * changed 3 files"), members joining and leaving, conflicts, errors. Each entry is news until
 * `markSeen`; `unseen` counts exactly the kept entries not seen yet, which are the ones the
 * Activity view marks as new, so the badge and the view cannot disagree.
 *
 * An entry that grows (another change within the window) is emitted again with the same id; so
 * is an entry marked seen. Listeners replace what they have by id.
 */
export class ActivityLog {
  /** Oldest first by `at` (an entry that grows moves to the end). */
  private readonly recent: Kept[] = [];
  private recentStore: RecentStore | undefined;

  /** The folder name of a space, stamped on each entry; set by the owner of the log. */
  nameOf: (space: string) => string | undefined = () => undefined;

  constructor(
    private readonly onActivity: (activity: ActivityView) => void,
    private groupWithinMs = DEFAULT_GROUP_WITHIN_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** How long after an entry's last change another change by the same author still joins it. */
  groupWithin(ms: number): void {
    if (Number.isFinite(ms) && ms >= 0) this.groupWithinMs = ms;
  }

  /** The recent entries where they are kept (the home), so a new window shows what happened before it. */
  keepRecentIn(store: RecentStore): void {
    this.recentStore = store;
    const kept = store.load();
    // A bare list comes from a version that counted unseen changes elsewhere: its entries are old news.
    const legacy = Array.isArray(kept);
    const list: unknown = legacy ? kept : (kept as { entries?: unknown } | null)?.entries;
    if (!Array.isArray(list)) return;
    const entries = list
      .map(toKept)
      .filter((k): k is Kept => k !== undefined)
      .slice(-KEEP)
      .map((k) => (legacy ? { view: { ...k.view, seen: true as const }, prior: k.prior } : k));
    this.recent.splice(0, this.recent.length, ...entries);
  }

  /** The last entries, oldest first. */
  recentActivity(): readonly ActivityView[] {
    return this.recent.map((k) => k.view);
  }

  entry(id: string): ActivityView | undefined {
    return this.find(id)?.view;
  }

  /** What `path` held before the first change entry `id` reports for it; undefined when not known. */
  priorVersion(id: string, path: string): PriorVersion | undefined {
    return this.find(id)?.prior[path];
  }

  /**
   * Remote changes to `paths` by `user`, reported at once. They join the author's newest unseen
   * entry in the space when it changed within the window; the entry lists its files most
   * recently changed first. Conflict copies are left out: their conflict has its own entry.
   */
  changed(space: string, user: string, paths: readonly string[], priorOf: (path: string) => PriorVersion = () => null): void {
    const files = [...new Set(paths.filter((p) => parseConflictCopyPath(p) === undefined))];
    if (files.length === 0) return;
    const at = this.now();
    const index = this.findGroupable(space, user, at);
    if (index === undefined) {
      const prior: Record<string, PriorVersion> = {};
      for (const p of files) prior[p] = priorOf(p);
      this.push({ view: { ...this.view('changed', space, files, user, at), changedAt: files.map(() => at) }, prior });
      return;
    }
    const kept = this.recent[index]!;
    for (const p of files) if (!(p in kept.prior)) kept.prior[p] = priorOf(p);
    const before = kept.view.paths.map((path, i) => ({ path, at: kept.view.changedAt?.[i] ?? kept.view.at }));
    // A set: a first sync merges batches of a thousand paths into an entry of thousands.
    const fresh = new Set(files);
    const rest = before.filter((b) => !fresh.has(b.path));
    kept.view = {
      ...kept.view,
      at,
      paths: [...files, ...rest.map((b) => b.path)],
      changedAt: [...files.map(() => at), ...rest.map((b) => b.at)],
    };
    this.recent.splice(index, 1);
    this.push(kept);
  }

  add(kind: ActivityView['kind'], space: string, paths: readonly string[], user?: string, about?: { readonly invitedMe?: true }): void {
    const view = this.view(kind, space, paths, user, this.now(), about);
    // Errors are listed with the folder's state already; they are never news to count.
    this.push({ view: kind === 'error' ? { ...view, seen: true } : view, prior: {} });
  }

  /** Entries of the space not seen yet: the number the badge shows for it. */
  unseen(space: string): number {
    return this.recent.filter((k) => k.view.space === space && k.view.seen !== true).length;
  }

  /** The user looked: at one entry, or at the whole space. Each entry that changes is emitted again. */
  markSeen(space: string, entry?: string): void {
    let changed = false;
    for (const kept of this.recent) {
      if (kept.view.space !== space || kept.view.seen === true) continue;
      if (entry !== undefined && kept.view.id !== entry) continue;
      kept.view = { ...kept.view, seen: true };
      changed = true;
      this.onActivity(kept.view);
    }
    if (changed) this.save();
  }

  private findGroupable(space: string, user: string, at: number): number | undefined {
    for (let i = this.recent.length - 1; i >= 0; i--) {
      const v = this.recent[i]!.view;
      if (at - v.at > this.groupWithinMs) return undefined;
      if (v.kind === 'changed' && v.space === space && v.user === user) return v.seen === true ? undefined : i;
    }
    return undefined;
  }

  private view(
    kind: ActivityView['kind'],
    space: string,
    paths: readonly string[],
    user: string | undefined,
    at: number,
    about?: { readonly invitedMe?: true },
  ): ActivityView {
    const spaceName = this.nameOf(space);
    return {
      id: crypto.randomBytes(8).toString('hex'),
      at,
      space,
      kind,
      paths: [...paths],
      ...(user !== undefined ? { user } : {}),
      ...(about?.invitedMe ? { invitedMe: true as const } : {}),
      ...(spaceName !== undefined ? { spaceName } : {}),
    };
  }

  private push(kept: Kept): void {
    this.recent.push(kept);
    if (this.recent.length > KEEP) this.recent.shift();
    this.save();
    this.onActivity(kept.view);
  }

  private find(id: string): Kept | undefined {
    return this.recent.find((k) => k.view.id === id);
  }

  private save(): void {
    this.recentStore?.save({ version: STORE_VERSION, entries: this.recent });
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

/** A kept entry read back from the home (a bare view in the old list): written by this code, but a file can be damaged. */
function toKept(value: unknown): Kept | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const wrapped = 'view' in value;
  const view = wrapped ? (value as { view: unknown }).view : value;
  const prior = wrapped ? (value as { prior?: unknown }).prior : {};
  if (!isActivity(view) || prior === null || typeof prior !== 'object' || !Object.values(prior).every(isPrior)) return undefined;
  return { view, prior: { ...(prior as Record<string, PriorVersion>) } };
}

function isPrior(value: unknown): value is PriorVersion {
  if (value === null) return true;
  if (typeof value !== 'object') return false;
  const p = value as Record<string, unknown>;
  return typeof p['notedAt'] === 'number' && (p['inode'] === undefined || typeof p['inode'] === 'number');
}

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
    (a['seen'] === undefined || a['seen'] === true) &&
    (a['spaceName'] === undefined || typeof a['spaceName'] === 'string') &&
    (a['changedAt'] === undefined ||
      (Array.isArray(a['changedAt']) && a['changedAt'].length === a['paths'].length && a['changedAt'].every((t) => typeof t === 'number')))
  );
}
