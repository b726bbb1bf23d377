import * as vscode from 'vscode';
import type { ConflictView } from '../node/engine-protocol';
import type { CommandRunner } from './command-runner';
import { conflictUri } from './conflict-documents';
import { copyIsMine, engineChoice, type ConflictChoice } from './conflict-sides';
import { CONFLICT_SCHEME, conflictFromUri } from './conflict-uri';
import type { ContextKeys } from './context-keys';
import type { EngineSession } from './engine-session';
import { UserFacingError } from './errors';
import { pickConflict, requireStatus } from './pickers';
import { joinSpacePath } from './space-paths';
import { refOfKind } from './tree-node';

type Choice = ConflictChoice;

/**
 * Resolve Conflict: a native diff of the other version (left, read-only) against the local file
 * (right), with Keep Mine, Take Theirs and Keep Both in the diff's title bar and in a notification.
 */
export class ConflictResolver implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly session: EngineSession,
    private readonly runner: CommandRunner,
    private readonly contextKeys: ContextKeys,
  ) {
    const track = (): void => this.contextKeys.set('sharedFolders.inConflictDiff', this.activeDiffConflict() !== undefined);
    this.disposables.push(
      vscode.window.tabGroups.onDidChangeTabs(track),
      vscode.window.tabGroups.onDidChangeTabGroups(track),
      vscode.window.onDidChangeActiveTextEditor(track),
    );
  }

  register(): vscode.Disposable[] {
    const r = this.runner;
    return [
      r.register('sharedFolders.resolveConflict', (arg?: unknown) => this.open(arg)),
      r.register('sharedFolders.keepMine', (arg?: unknown) => this.resolveFrom(arg, 'mine')),
      r.register('sharedFolders.takeTheirs', (arg?: unknown) => this.resolveFrom(arg, 'theirs')),
      r.register('sharedFolders.keepBoth', (arg?: unknown) => this.resolveFrom(arg, 'both')),
    ];
  }

  private find(space: string, path: string): ConflictView | undefined {
    return this.session.status?.spaces.find((s) => s.id === space)?.conflicts.find((c) => c.path === path);
  }

  private async conflictFrom(arg: unknown, placeHolder: string): Promise<ConflictView> {
    const status = requireStatus(await this.session.readyStatus());
    const ref = refOfKind(arg, 'conflict');
    if (ref) {
      const found = this.find(ref.space, ref.path);
      if (!found) throw new UserFacingError(vscode.l10n.t('The conflict in {0} is already resolved.', ref.path));
      return found;
    }
    return this.activeDiffConflict() ?? pickConflict(status, placeHolder);
  }

  /** The conflict whose diff is the active editor tab, if it is one of ours. */
  private activeDiffConflict(): ConflictView | undefined {
    const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    if (!(input instanceof vscode.TabInputTextDiff) || input.original.scheme !== CONFLICT_SCHEME) return undefined;
    return conflictFromUri(input.original.query);
  }

  async open(arg: unknown): Promise<void> {
    const conflict = await this.conflictFrom(arg, vscode.l10n.t('Conflict to resolve'));
    const space = this.session.status?.spaces.find((s) => s.id === conflict.space);
    if (!space) throw new UserFacingError(vscode.l10n.t('The conflict in {0} is already resolved.', conflict.path));
    const local = vscode.Uri.file(joinSpacePath(space.path, conflict.path));
    const name = conflict.path.split('/').pop() ?? conflict.path;
    // Left is always the copy, right the file; which of them is the user's depends on who lost the automatic pick.
    const mine = this.copyIsMine(conflict);
    const title = mine ? vscode.l10n.t('{0}: your version ↔ theirs', name) : vscode.l10n.t('{0}: their version ↔ yours', name);
    await vscode.commands.executeCommand('vscode.diff', conflictUri(conflict), local, title, { preview: false });
    this.offerChoices(conflict, mine);
  }

  private copyIsMine(conflict: ConflictView): boolean {
    return copyIsMine(conflict, this.session.identity?.name);
  }

  private offerChoices(conflict: ConflictView, copyMine: boolean): void {
    const mine = vscode.l10n.t('Keep Mine');
    const theirs = vscode.l10n.t('Take Theirs');
    const both = vscode.l10n.t('Keep Both');
    void vscode.window.showInformationMessage(
      copyMine
        ? vscode.l10n.t('{0} was changed on two devices. Left: your version; right: theirs. Which should stay?', conflict.path)
        : vscode.l10n.t('{0} was changed on two devices. Left: their version; right: yours. Which should stay?', conflict.path),
      mine, theirs, both,
    ).then((picked) => {
      const choice: Choice | undefined = picked === mine ? 'mine' : picked === theirs ? 'theirs' : picked === both ? 'both' : undefined;
      if (choice && this.find(conflict.space, conflict.path)) void this.runner.run('resolveConflict', () => this.resolve(conflict, choice));
    });
  }

  private async resolveFrom(arg: unknown, choice: Choice): Promise<void> {
    const conflict = await this.conflictFrom(arg, vscode.l10n.t('Conflict to resolve'));
    await this.resolve(conflict, choice);
  }

  private async resolve(conflict: ConflictView, choice: Choice): Promise<void> {
    await this.session.call('resolveConflict', { space: conflict.space, path: conflict.path, choice: engineChoice(choice, this.copyIsMine(conflict)) });
    await this.closeDiffs(conflict);
    const text = choice === 'mine' ? vscode.l10n.t('Kept your version of {0}.', conflict.path)
      : choice === 'theirs' ? vscode.l10n.t('Took their version of {0}.', conflict.path)
        : vscode.l10n.t('Kept both versions of {0}; theirs is in {1}.', conflict.path, conflict.copy);
    void vscode.window.setStatusBarMessage(text, 5_000);
  }

  private async closeDiffs(conflict: ConflictView): Promise<void> {
    const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => {
      if (!(t.input instanceof vscode.TabInputTextDiff) || t.input.original.scheme !== CONFLICT_SCHEME) return false;
      const c = conflictFromUri(t.input.original.query);
      return c?.space === conflict.space && c.path === conflict.path;
    });
    if (tabs.length > 0) await vscode.window.tabGroups.close(tabs);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
