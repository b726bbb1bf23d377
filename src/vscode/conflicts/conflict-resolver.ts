/**
 * src/vscode/conflicts/: conflicts in the editor: a native diff with Keep Mine, Take Theirs and
 * Keep Both (this file), the 3-way merge editor (conflict-merge-editor.ts), read-only documents
 * for the versions (conflict-documents.ts), which conflict the active editor shows
 * (conflict-focus.ts) and Explorer decorations.
 * Extension layer: may import vscode, src/sync and src/node/engine (the client and its protocol
 * types); never src/server, src/cli or native code. Its view models (VIEW_MODELS in
 * eslint.config.mjs) import no vscode, so unit tests run them in plain Node.
 */
import * as vscode from 'vscode';
import type { ConflictView } from '../../node/engine/engine-protocol';
import type { CommandRunner } from '../app/command-runner';
import { conflictUri } from './conflict-documents';
import type { ConflictFocus } from './conflict-focus';
import { conflictKey, currentConflict } from './conflict-lookup';
import { ConflictMergeEditor } from './conflict-merge-editor';
import { conflictSides, engineChoice, type UserChoice } from './conflict-sides';
import { CONFLICT_SCHEME, conflictFromUri } from './conflict-uri';
import type { EngineSession } from '../engine/engine-session';
import { UserFacingError } from '../app/errors';
import { pickConflict, requireStatus } from '../app/pickers';
import { joinSpacePath } from '../app/space-paths';
import { refOfKind } from '../trees/tree-node';
import { Commands } from '../app/commands';

/**
 * Resolve Conflict: a native diff of the other version (left, read-only) against the local file
 * (right), with Keep Mine, Take Theirs and Keep Both in the diff's title bar and in a notification.
 * Merge…: the 3-way merge editor where the conflict has a base, else the same diff.
 */
export class ConflictResolver implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly mergeEditor: ConflictMergeEditor;
  /** Conflicts this window is settling: their going away is no news here. */
  private readonly settling = new Set<string>();

  constructor(
    private readonly session: EngineSession,
    private readonly runner: CommandRunner,
    private readonly focus: ConflictFocus,
  ) {
    this.mergeEditor = new ConflictMergeEditor(
      session,
      (conflict) => void this.runner.run('mergeConflict', () => this.completeMerge(conflict)),
    );
    this.disposables.push(
      this.mergeEditor,
      session.onDidResolveConflict(({ conflict, by }) => void this.resolvedElsewhere(conflict, by)),
    );
  }

  register(): vscode.Disposable[] {
    const r = this.runner;
    return [
      r.register(Commands.resolveConflict, (arg?: unknown) => this.open(arg)),
      r.register(Commands.mergeConflict, (arg?: unknown) => this.merge(arg)),
      r.register(Commands.keepMine, (arg?: unknown) => this.resolveFrom(arg, 'keepMine')),
      r.register(Commands.takeTheirs, (arg?: unknown) => this.resolveFrom(arg, 'takeTheirs')),
      r.register(Commands.keepBoth, (arg?: unknown) => this.resolveFrom(arg, 'keepBoth')),
    ];
  }

  private async conflictFrom(arg: unknown, placeHolder: string): Promise<ConflictView> {
    const status = requireStatus(await this.session.readyStatus());
    const ref = refOfKind(arg, 'conflict');
    if (ref) {
      const found = currentConflict(status, ref);
      if (!found) throw new UserFacingError(vscode.l10n.t('The conflict in {0} is already resolved.', ref.path));
      return found;
    }
    return this.focus.activeConflict() ?? pickConflict(status, placeHolder);
  }

  async open(arg: unknown): Promise<void> {
    const conflict = await this.conflictFrom(arg, vscode.l10n.t('Conflict to resolve'));
    await this.showDiff(conflict);
  }

  private async showDiff(conflict: ConflictView): Promise<void> {
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

  /** Merge…: the 3-way merge editor; binary conflicts and those without a base open the two-way diff. */
  async merge(arg: unknown): Promise<void> {
    const conflict = await this.conflictFrom(arg, vscode.l10n.t('Conflict to merge'));
    if (!(await this.mergeEditor.canOpen(conflict))) {
      void vscode.window.setStatusBarMessage(
        vscode.l10n.t('{0} is binary, or has no common version to merge from: showing both versions side by side.', conflict.path),
        8_000,
      );
      await this.showDiff(conflict);
      return;
    }
    await this.saveSides(conflict);
    await this.mergeEditor.show(conflict);
  }

  /** Complete Merge saved the file: it is the version that supersedes both, and the copy goes, on every replica. */
  private async completeMerge(conflict: ConflictView): Promise<void> {
    if (!currentConflict(this.session.status, conflict)) return;
    await this.settle(conflict, 'mine');
    void vscode.window.setStatusBarMessage(vscode.l10n.t('Merged both versions of {0}.', conflict.path), 5_000);
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
        if (choice && currentConflict(this.session.status, conflict))
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
    await this.settle(conflict, engineChoice(choice, sides));
    const text =
      choice === 'keepMine'
        ? vscode.l10n.t('Kept your version of {0}.', conflict.path)
        : choice === 'takeTheirs'
          ? vscode.l10n.t('Took their version of {0}.', conflict.path)
          : vscode.l10n.t('Kept both versions of {0}.', conflict.path);
    void vscode.window.setStatusBarMessage(text, 5_000);
  }

  private async settle(conflict: ConflictView, choice: 'mine' | 'theirs' | 'both'): Promise<void> {
    const key = conflictKey(conflict);
    this.settling.add(key);
    try {
      // The copy's path names this very conflict, also when the file has several.
      await this.session.call('resolveConflict', { space: conflict.space, path: conflict.copy, choice });
    } catch (err) {
      this.settling.delete(key);
      throw err;
    }
    await this.closeDiffs(conflict);
  }

  /**
   * A conflict went away. Settled here, that was expected; settled by someone else (or on another
   * device), its diff closes and the user is told who did it. A merge editor stays open: closing
   * it would drop the user's unfinished result without asking.
   */
  private async resolvedElsewhere(conflict: ConflictView, by: string | undefined): Promise<void> {
    if (this.settling.delete(conflictKey(conflict))) return;
    const hadDiff = await this.closeDiffs(conflict);
    const inMerge = this.mergeEditor.isOpen(conflict);
    const me = this.session.identity?.name;
    const text =
      by === undefined || by === me
        ? vscode.l10n.t('The conflict on {0} was resolved on another device.', conflict.path)
        : vscode.l10n.t('{0} resolved the conflict on {1}.', by, conflict.path);
    if (hadDiff || inMerge) void vscode.window.showInformationMessage(text);
    else void vscode.window.setStatusBarMessage(text, 10_000);
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

  /** Closes the conflict's diff tabs; says whether there were any. */
  private async closeDiffs(conflict: ConflictView): Promise<boolean> {
    const tabs = vscode.window.tabGroups.all
      .flatMap((g) => g.tabs)
      .filter((t) => {
        if (!(t.input instanceof vscode.TabInputTextDiff) || t.input.original.scheme !== CONFLICT_SCHEME) return false;
        const c = conflictFromUri(t.input.original.query);
        return c?.space === conflict.space && c.copy === conflict.copy;
      });
    if (tabs.length > 0) await vscode.window.tabGroups.close(tabs);
    return tabs.length > 0;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
