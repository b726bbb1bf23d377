import type { ActivityView, EngineStatus } from '../../node/engine/engine-protocol';
import type { Localizer } from '../app/localizer';
import type { TreeNode } from '../trees/tree-node';
import { UserNames, shortId } from '../app/user-names';
import { Commands } from '../app/commands';

/**
 * One row of the feed: one engine entry, as it is now. The engine groups changes (see
 * ActivityLog) and says what was seen; the feed shows exactly its entries, so the rows marked new
 * are the ones `SpaceView.unseen` counts.
 */
export type ActivityEntry = ActivityView;

export interface ActivityFeedOptions {
  /** The engine keeps as many (KEEP in activity-log.ts), so the feed never lists one it forgot. */
  readonly maxEntries: number;
}

const DEFAULT_OPTIONS: ActivityFeedOptions = { maxEntries: 200 };

/** The recent activity, newest first; an entry sent again (grown, or seen) replaces its row. */
export class ActivityFeed {
  private rows: ActivityEntry[] = [];
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

  /** The rows not seen yet: what the badge counts. */
  get unseen(): number {
    return this.rows.filter((e) => e.seen !== true).length;
  }

  /** Adds an entry or replaces the row with its id; returns the row. */
  add(activity: ActivityView): ActivityEntry {
    const rows = this.rows.filter((e) => e.id !== activity.id);
    // Newest first; among equal times, the one sent last first.
    const at = rows.findIndex((e) => e.at <= activity.at);
    rows.splice(at === -1 ? rows.length : at, 0, activity);
    if (rows.length > this.options.maxEntries) rows.length = this.options.maxEntries;
    this.rows = rows;
    return activity;
  }

  clear(): void {
    this.rows = [];
  }
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
    const when = relativeTime(entry.at, now, l10n);
    const fresh = entry.seen !== true;
    const listed = entry.paths.slice(0, 20).join('\n');
    const more = entry.paths.length > 20 ? `\n${l10n.t('and {0} more', entry.paths.length - 20)}` : '';
    const ref = { kind: 'activity', entry: entry.id } as const;
    // A change to several files lists them, most recent first, each opening its own diff.
    const files =
      entry.kind === 'changed' && entry.paths.length > 1
        ? entry.paths.map((path): TreeNode => ({
            id: `activity:${entry.id}:${path}`,
            ref: { ...ref, path },
            label: path,
            tooltip: l10n.t('Show what changed in {0}', path),
            icon: { id: 'file' },
            contextValue: 'activityFile',
            command: { command: Commands.openActivity, title: l10n.t('Open'), arguments: [{ ...ref, path }] },
          }))
        : undefined;
    return {
      id: `activity:${entry.id}`,
      ref,
      label: text,
      description: fresh ? l10n.t('new · {0}', when) : when,
      tooltip: `${text}\n${new Date(entry.at).toLocaleString()}${listed ? `\n\n${listed}${more}` : ''}`,
      icon: activityIcon(entry.kind),
      contextValue: `activity ${entry.kind}${fresh ? ' unseen' : ''}`,
      ...(files ? { children: files } : { command: { command: Commands.openActivity, title: l10n.t('Open'), arguments: [ref] } }),
    };
  });
}
