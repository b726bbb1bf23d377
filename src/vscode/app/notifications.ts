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
 * Notifications for what needs the user: invitations and new conflicts. Remote changes only when
 * `sharedFolders.notifyOnRemoteChanges` is on, and then coalesced, never one per file.
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
    const from = new UserNames(this.session.status).nameOf(invitation.from);
    const accept = vscode.l10n.t('Accept');
    const decline = vscode.l10n.t('Decline');
    void vscode.window
      .showInformationMessage(vscode.l10n.t('{0} wants to share a folder with you.', from), accept, decline)
      .then((choice) => {
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
    // An entry comes again when it is seen: that is no news.
    if (activity.kind !== 'changed' || activity.seen === true || !this.settings.notifyOnRemoteChanges) return;
    if (activity.user !== undefined && activity.user === this.session.identity?.user) return;
    this.pendingChanges.add(activity);
    if (this.changeTimer) clearTimeout(this.changeTimer);
    this.changeTimer = setTimeout(() => this.flushChanges(), REMOTE_CHANGE_DELAY_MS);
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
