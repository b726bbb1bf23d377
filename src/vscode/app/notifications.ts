import * as vscode from 'vscode';
import type { ActivityView, ConflictView, EngineStatus, InvitationView } from '../../node/engine/engine-protocol';
import { ActivityFeed, activityText } from '../activity/activity-feed';
import type { CommandRunner } from './command-runner';
import type { EngineSession } from '../engine/engine-session';
import type { Settings } from './settings';
import { UserNames } from './user-names';
import { Commands } from './commands';
import { ACTIVITY_VIEW } from '../activity/activity-tree';

/** Remote-change notices are held back this long, so a burst of saves becomes one notice. */
const REMOTE_CHANGE_DELAY_MS = 4_000;
/**
 * The folder's name comes in the sharer's space note, just after the invitation itself: the
 * invitation's notice waits this long for it, so that it can say which folder.
 */
const INVITATION_NAME_WAIT_MS = 5_000;

/**
 * Notifications for what needs the user: invitations, new conflicts, and a folder no longer
 * shared with them. Remote changes only when `sharedFolders.notifyOnRemoteChanges` is on, and
 * then coalesced, never one per file.
 */
export class Notifications implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly announcedConflicts = new Set<string>();
  private readonly announcedInvitations = new Set<string>();
  private readonly pendingChanges = new ActivityFeed();
  private changeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly session: EngineSession,
    private readonly settings: Settings,
    private readonly runner: CommandRunner,
  ) {
    this.disposables.push(
      session.onDidReceiveInvitation((i) => this.onInvitation(i)),
      session.onDidDetectConflict((c) => this.onConflict(c)),
      session.onDidReceiveActivity((a) => this.onActivity(a)),
      session.onDidChangeStatus((status) => this.onStatus(status)),
    );
  }

  private readonly massDeletes = new Set<string>();

  /** A folder the engine paused because many files vanished needs an answer: asked once per pause. */
  private onStatus(status: EngineStatus | undefined): void {
    for (const space of status?.spaces ?? []) {
      const waiting = space.state.kind === 'paused' && space.state.reason === 'massDelete';
      if (!waiting) {
        this.massDeletes.delete(space.id);
        continue;
      }
      if (this.massDeletes.has(space.id)) continue;
      this.massDeletes.add(space.id);
      const review = vscode.l10n.t('Review');
      void vscode.window
        .showWarningMessage(
          vscode.l10n.t('Sync of {0} is paused: many files were deleted at once. Restore them, or delete them for everyone?', space.name),
          review,
        )
        .then((choice) => {
          if (choice === review) void vscode.commands.executeCommand(Commands.resolveMassDelete, { kind: 'space', space: space.id });
        });
    }
  }

  private onInvitation(invitation: InvitationView): void {
    if (this.announcedInvitations.has(invitation.space)) return;
    this.announcedInvitations.add(invitation.space);
    void this.named(invitation).then((named) => {
      if (named) this.showInvitation(named);
    });
  }

  /** The invitation once its folder's name is known (or after a short wait); undefined once it is answered. */
  private named(invitation: InvitationView): Promise<InvitationView | undefined> {
    if (invitation.name) return Promise.resolve(invitation);
    return new Promise((resolve) => {
      const current = (): InvitationView | undefined => this.session.status?.invitations.find((i) => i.space === invitation.space);
      const done = (value: InvitationView | undefined): void => {
        clearTimeout(timer);
        listener.dispose();
        resolve(value);
      };
      const timer = setTimeout(() => done(current() ?? invitation), INVITATION_NAME_WAIT_MS);
      const listener = this.session.onDidChangeStatus((status) => {
        if (!status) return;
        const now = current();
        if (!now) done(undefined);
        else if (now.name) done(now);
      });
    });
  }

  private showInvitation(invitation: InvitationView): void {
    const from = new UserNames(this.session.status).nameOf(invitation.from);
    const accept = vscode.l10n.t('Accept');
    const decline = vscode.l10n.t('Decline');
    const text = invitation.name
      ? vscode.l10n.t("{0} wants to share the folder '{1}' with you.", from, invitation.name)
      : vscode.l10n.t('{0} wants to share a folder with you.', from);
    void vscode.window.showInformationMessage(text, accept, decline).then((choice) => {
      const ref = { kind: 'invitation', space: invitation.space };
      if (choice === accept) void vscode.commands.executeCommand(Commands.acceptFolder, ref);
      else if (choice === decline) void vscode.commands.executeCommand(Commands.declineFolder, ref);
    });
  }

  private onConflict(conflict: ConflictView): void {
    const key = `${conflict.space}\u0000${conflict.path}\u0000${conflict.copy}`;
    if (this.announcedConflicts.has(key)) return;
    this.announcedConflicts.add(key);
    const resolve = vscode.l10n.t('Resolve Conflict');
    void vscode.window
      .showWarningMessage(vscode.l10n.t('Conflict in {0}: it was changed on two devices. Both versions are kept.', conflict.path), resolve)
      .then((choice) => {
        if (choice === resolve) {
          void this.runner.run('resolveConflict', () =>
            vscode.commands.executeCommand(Commands.resolveConflict, {
              kind: 'conflict',
              space: conflict.space,
              path: conflict.path,
              copy: conflict.copy,
            }),
          );
        }
      });
  }

  private onActivity(activity: ActivityView): void {
    // An entry comes again when it is seen or grows: that is no news.
    if (activity.seen === true) return;
    if (activity.kind === 'stopped') return this.onStopped(activity);
    if (activity.kind !== 'changed' || !this.settings.notifyOnRemoteChanges) return;
    if (activity.user !== undefined && activity.user === this.session.identity?.user) return;
    this.pendingChanges.add(activity);
    if (this.changeTimer) clearTimeout(this.changeTimer);
    this.changeTimer = setTimeout(() => this.flushChanges(), REMOTE_CHANGE_DELAY_MS);
  }

  /** A folder is no longer shared with this user (its owner stopped sharing it, or removed them); their own Stop Sharing says so itself. */
  private onStopped(activity: ActivityView): void {
    if (activity.user !== undefined && activity.user === this.session.identity?.user) return;
    const folder = activity.spaceName ?? activity.space.slice(0, 8);
    const who = activity.user === undefined ? vscode.l10n.t('The owner') : new UserNames(this.session.status).nameOf(activity.user);
    void vscode.window.showInformationMessage(
      vscode.l10n.t("{0} stopped sharing '{1}' with you. Your copy stays where it is; it no longer syncs.", who, folder),
    );
  }

  private flushChanges(): void {
    this.changeTimer = undefined;
    const entries = [...this.pendingChanges.entries].reverse();
    this.pendingChanges.clear();
    if (entries.length === 0) return;
    const texts = entries.slice(0, 3).map((e) => activityText(e, this.session.status, vscode.l10n));
    const more = entries.length > 3 ? ` ${vscode.l10n.t('and {0} more', entries.length - 3)}` : '';
    const show = vscode.l10n.t('Show Activity');
    void vscode.window.showInformationMessage(texts.join('; ') + more, show).then((choice) => {
      if (choice === show) void vscode.commands.executeCommand(`${ACTIVITY_VIEW}.focus`);
    });
  }

  dispose(): void {
    if (this.changeTimer) clearTimeout(this.changeTimer);
    for (const d of this.disposables) d.dispose();
  }
}
