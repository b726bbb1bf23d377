/**
 * src/vscode/conflicts/: conflicts in the editor: a native diff with Keep Mine, Take Theirs and
 * Keep Both (this file), a read-only document for the other side (conflict-documents.ts) and
 * Explorer decorations.
 * Extension layer: may import vscode, src/sync and src/node/engine (the client and its protocol
 * types); never src/server, src/cli or native code. Its view models (VIEW_MODELS in
 * eslint.config.mjs) import no vscode, so unit tests run them in plain Node.
 */
import * as vscode from 'vscode';
import type { ConflictView } from '../../node/engine/engine-protocol';
import type { CommandRunner } from '../app/command-runner';
import { conflictUri } from './conflict-documents';
import { conflictSides, engineChoice, type UserChoice } from './conflict-sides';
import { CONFLICT_SCHEME, conflictFromUri } from './conflict-uri';
import type { ContextKeys } from '../app/context-keys';
import type { EngineSession } from '../engine/engine-session';
import { UserFacingError } from '../app/errors';
import { pickConflict, requireStatus } from '../app/pickers';
import { joinSpacePath } from '../app/space-paths';
import { refOfKind } from '../trees/tree-node';
import { Commands } from '../app/commands';

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
      r.register(Commands.resolveConflict, (arg?: unknown) => this.open(arg)),
      r.register(Commands.keepMine, (arg?: unknown) => this.resolveFrom(arg, 'keepMine')),
      r.register(Commands.takeTheirs, (arg?: unknown) => this.resolveFrom(arg, 'takeTheirs')),
      r.register(Commands.keepBoth, (arg?: unknown) => this.resolveFrom(arg, 'keepBoth')),
    ];
  }

  private find(space: string, path: string, copy?: string): ConflictView | undefined {
    return this.session.status?.spaces
      .find((s) => s.id === space)
      ?.conflicts.find((c) => c.path === path && (copy === undefined || c.copy === copy));
  }

  private async conflictFrom(arg: unknown, placeHolder: string): Promise<ConflictView> {
    const status = requireStatus(await this.session.readyStatus());
    const ref = refOfKind(arg, 'conflict');
    if (ref) {
      const found = this.find(ref.space, ref.path, ref.copy);
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
    // Left: the other person's version, read-only; right: the user's own, editable, so "Keep Mine" keeps any touch-ups.
    const sides = conflictSides(conflict, this.session.identity?.name);
    const other = conflictUri(conflict, sides.copyIsMine ? 'file' : 'copy');
    const mine = vscode.Uri.file(joinSpacePath(space.path, sides.copyIsMine ? conflict.copy : conflict.path));
    const name = conflict.path.split('/').pop() ?? conflict.path;
    // The tree row names the other author; the title stays short and always says which side is whose.
    const title = vscode.l10n.t('{0}: their version ↔ yours', name);
    await vscode.commands.executeCommand('vscode.diff', other, mine, title, { preview: false });
    this.offerChoices(conflict);
  }

  private offerChoices(conflict: ConflictView): void {
    const mine = vscode.l10n.t('Keep Mine');
    const theirs = vscode.l10n.t('Take Theirs');
    const both = vscode.l10n.t('Keep Both');
    void vscode.window
      .showInformationMessage(
        vscode.l10n.t('{0} was changed on two devices. Left: their version; right: yours. Which should stay?', conflict.path),
        mine,
        theirs,
        both,
      )
      .then((picked) => {
        const choice: UserChoice | undefined =
          picked === mine ? 'keepMine' : picked === theirs ? 'takeTheirs' : picked === both ? 'keepBoth' : undefined;
        if (choice && this.find(conflict.space, conflict.path, conflict.copy))
          void this.runner.run('resolveConflict', () => this.resolve(conflict, choice));
      });
  }

  private async resolveFrom(arg: unknown, choice: UserChoice): Promise<void> {
    const conflict = await this.conflictFrom(arg, vscode.l10n.t('Conflict to resolve'));
    await this.resolve(conflict, choice);
  }

  private async resolve(conflict: ConflictView, choice: UserChoice): Promise<void> {
    await this.saveSides(conflict);
    const sides = conflictSides(conflict, this.session.identity?.name);
    // The copy's path names this very conflict, also when the file has several.
    await this.session.call('resolveConflict', { space: conflict.space, path: conflict.copy, choice: engineChoice(choice, sides) });
    await this.closeDiffs(conflict);
    const text =
      choice === 'keepMine'
        ? vscode.l10n.t('Kept your version of {0}.', conflict.path)
        : choice === 'takeTheirs'
          ? vscode.l10n.t('Took their version of {0}.', conflict.path)
          : vscode.l10n.t('Kept both versions of {0}.', conflict.path);
    void vscode.window.setStatusBarMessage(text, 5_000);
  }

  /** Edits made on the right side of the diff count: they are saved before the engine reads the files. */
  private async saveSides(conflict: ConflictView): Promise<void> {
    const space = this.session.status?.spaces.find((s) => s.id === conflict.space);
    if (!space) return;
    const sides = new Set([conflict.path, conflict.copy].map((p) => vscode.Uri.file(joinSpacePath(space.path, p)).toString()));
    for (const doc of vscode.workspace.textDocuments) {
      if (doc.isDirty && sides.has(doc.uri.toString())) await doc.save();
    }
  }

  private async closeDiffs(conflict: ConflictView): Promise<void> {
    const tabs = vscode.window.tabGroups.all
      .flatMap((g) => g.tabs)
      .filter((t) => {
        if (!(t.input instanceof vscode.TabInputTextDiff) || t.input.original.scheme !== CONFLICT_SCHEME) return false;
        const c = conflictFromUri(t.input.original.query);
        return c?.space === conflict.space && c.copy === conflict.copy;
      });
    if (tabs.length > 0) await vscode.window.tabGroups.close(tabs);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
