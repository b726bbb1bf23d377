import type { ActivityView, EngineStatus } from '../../node/engine/engine-protocol';
import type { Localizer } from '../app/localizer';
import { parseConflictCopyPath } from '../../sync/model/conflict';
import type { TreeNode } from '../trees/tree-node';
import { UserNames, shortId } from '../app/user-names';
import { Commands } from '../app/commands';

/** One row of the feed: one or more engine activities of the same kind, by the same user, in the same space. */
export interface ActivityEntry {
  readonly id: string;
  readonly space: string;
  readonly kind: ActivityView['kind'];
  readonly user: string | undefined;
  readonly firstAt: number;
  readonly at: number;
  readonly paths: readonly string[];
  /** See `ActivityView.invitedMe`. */
  readonly invitedMe?: boolean;
  /** See `ActivityView.spaceName`. */
  readonly spaceName?: string;
}

export interface ActivityFeedOptions {
  /** Activities closer together than this join one row (a save burst, a checkout, a sync). */
  readonly coalesceWindowMs: number;
  readonly maxEntries: number;
}

const DEFAULT_OPTIONS: ActivityFeedOptions = { coalesceWindowMs: 5 * 60_000, maxEntries: 200 };

/** Kinds that say something about files, so that several of them read well as one row. */
const COALESCING_KINDS: ReadonlySet<ActivityView['kind']> = new Set(['changed', 'conflict', 'merged', 'error']);

/**
 * The recent activity, newest first. Coalescing merges an activity into the newest row only, so
 * the feed keeps its order: "bob changed 3 files", then "carol joined", then "bob changed 1 file".
 */
export class ActivityFeed {
  private readonly rows: ActivityEntry[] = [];
  private readonly options: ActivityFeedOptions;

  constructor(options: Partial<ActivityFeedOptions> = {}) {
    this.options = { ...DEFAULT_OPTIONS, ...options };
  }

  get entries(): readonly ActivityEntry[] {
    return this.rows;
  }

  entry(id: string): ActivityEntry | undefined {
    return this.rows.find((e) => e.id === id);
  }

  /** Adds an activity; returns the row it landed in, or undefined when there is nothing to show. */
  add(activity: ActivityView): ActivityEntry | undefined {
    if (activity.kind === 'changed') {
      // Conflict copies come and go with their conflict, which has its own row.
      const paths = activity.paths.filter((p) => parseConflictCopyPath(p) === undefined);
      if (paths.length === 0 && activity.paths.length > 0) return undefined;
      activity = { ...activity, paths };
    }
    const head = this.rows[0];
    if (head && canJoin(head, activity, this.options.coalesceWindowMs)) {
      const paths = [...head.paths];
      for (const p of activity.paths) if (!paths.includes(p)) paths.push(p);
      const merged: ActivityEntry = { ...head, at: Math.max(head.at, activity.at), firstAt: Math.min(head.firstAt, activity.at), paths };
      this.rows[0] = merged;
      return merged;
    }
    const entry: ActivityEntry = {
      id: activity.id,
      space: activity.space,
      kind: activity.kind,
      user: activity.user,
      firstAt: activity.at,
      at: activity.at,
      paths: [...new Set(activity.paths)],
      ...(activity.kind === 'invited' ? { invitedMe: activity.invitedMe === true } : {}),
      ...(activity.spaceName !== undefined ? { spaceName: activity.spaceName } : {}),
    };
    this.rows.unshift(entry);
    if (this.rows.length > this.options.maxEntries) this.rows.length = this.options.maxEntries;
    return entry;
  }

  clear(): void {
    this.rows.length = 0;
  }
}

function canJoin(head: ActivityEntry, activity: ActivityView, windowMs: number): boolean {
  return (
    COALESCING_KINDS.has(activity.kind) &&
    head.kind === activity.kind &&
    head.space === activity.space &&
    head.user === activity.user &&
    Math.abs(activity.at - head.at) <= windowMs
  );
}

function spaceName(entry: ActivityEntry, status: EngineStatus | undefined): string {
  return status?.spaces.find((s) => s.id === entry.space)?.name ?? entry.spaceName ?? shortId(entry.space);
}

/** The sentence a row shows: "bob changed 3 files in design-notes", "carol joined design-notes", "conflict in src/app.ts". */
export function activityText(entry: ActivityEntry, status: EngineStatus | undefined, l10n: Localizer): string {
  const names = new UserNames(status);
  const who = entry.user === undefined ? undefined : names.nameOf(entry.user);
  const where = spaceName(entry, status);
  const count = entry.paths.length;
  const only = entry.paths[0] ?? '';
  switch (entry.kind) {
    case 'changed':
      if (who === undefined) {
        return count === 1 ? l10n.t('{0} changed in {1}', only, where) : l10n.t('{0} files changed in {1}', count, where);
      }
      return count === 1 ? l10n.t('{0} changed {1} in {2}', who, only, where) : l10n.t('{0} changed {1} files in {2}', who, count, where);
    case 'joined':
      return l10n.t('{0} joined {1}', who ?? l10n.t('someone'), where);
    case 'left':
      return l10n.t('{0} left {1}', who ?? l10n.t('someone'), where);
    case 'conflict':
      return count === 1 ? l10n.t('conflict in {0}', only) : l10n.t('{0} conflicts in {1}', count, where);
    case 'merged':
      return count === 1
        ? l10n.t('concurrent edits merged in {0}', only)
        : l10n.t('concurrent edits merged in {0} files in {1}', count, where);
    case 'invited':
      return entry.invitedMe
        ? l10n.t('{0} invited you to a shared folder', who ?? l10n.t('someone'))
        : l10n.t('{0} was invited to {1}', who ?? l10n.t('someone'), where);
    case 'error':
      return count <= 1 ? l10n.t('sync error in {0}', only || where) : l10n.t('{0} sync errors in {1}', count, where);
    case 'stopped':
      if (entry.user !== undefined && entry.user === status?.identity?.user) return l10n.t('You stopped sharing {0}', where);
      return l10n.t('{0} stopped sharing {1} with you', who ?? l10n.t('someone'), where);
  }
}

/** "just now", "5 min ago", "3 h ago", "2 d ago": short enough for a row's description. */
export function relativeTime(at: number, now: number, l10n: Localizer): string {
  const seconds = Math.max(0, Math.round((now - at) / 1000));
  if (seconds < 45) return l10n.t('just now');
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return l10n.t('{0} min ago', minutes);
  const hours = Math.round(minutes / 60);
  if (hours < 24) return l10n.t('{0} h ago', hours);
  return l10n.t('{0} d ago', Math.round(hours / 24));
}

function activityIcon(kind: ActivityEntry['kind']): TreeNode['icon'] {
  switch (kind) {
    case 'changed':
      return { id: 'edit' };
    case 'joined':
      return { id: 'person-add', color: 'charts.green' };
    case 'left':
      return { id: 'person', color: 'disabledForeground' };
    case 'conflict':
      return { id: 'warning', color: 'list.warningForeground' };
    case 'merged':
      return { id: 'git-merge', color: 'charts.green' };
    case 'invited':
      return { id: 'mail', color: 'charts.blue' };
    case 'error':
      return { id: 'error', color: 'list.errorForeground' };
    case 'stopped':
      return { id: 'debug-disconnect', color: 'disabledForeground' };
  }
}

export function activityNodes(feed: ActivityFeed, status: EngineStatus | undefined, now: number, l10n: Localizer): TreeNode[] {
  return feed.entries.map((entry) => {
    const text = activityText(entry, status, l10n);
    const listed = entry.paths.slice(0, 20).join('\n');
    const more = entry.paths.length > 20 ? `\n${l10n.t('and {0} more', entry.paths.length - 20)}` : '';
    return {
      id: `activity:${entry.id}`,
      ref: { kind: 'activity', entry: entry.id },
      label: text,
      description: relativeTime(entry.at, now, l10n),
      tooltip: `${text}\n${new Date(entry.at).toLocaleString()}${listed ? `\n\n${listed}${more}` : ''}`,
      icon: activityIcon(entry.kind),
      contextValue: `activity ${entry.kind}`,
      command: { command: Commands.openActivity, title: l10n.t('Open'), arguments: [{ kind: 'activity', entry: entry.id }] },
    };
  });
}
