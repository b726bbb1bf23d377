import * as fs from 'node:fs/promises';
import * as vscode from 'vscode';
import type { ConflictView } from '../../node/engine/engine-protocol';
import type { EngineSession } from '../engine/engine-session';
import { joinSpacePath } from '../app/space-paths';
import { conflictUri } from './conflict-documents';
import { sideLabels, timeFormat } from './conflict-labels';
import { conflictKey } from './conflict-lookup';
import { conflictSides } from './conflict-sides';
import { CONFLICT_SCHEME, conflictFromUri } from './conflict-uri';

/** VS Code's command that opens its 3-way merge editor, as the built-in git extension calls it. */
const OPEN_MERGE_EDITOR = '_open.mergeEditor';
/** How much of each side is looked at for a NUL byte: the merge editor is for text. */
const TEXT_PROBE_BYTES = 8192;

/** A merge editor open on one conflict: `saved` once its result (the conflicted file) was saved. */
interface OpenMerge {
  readonly conflict: ConflictView;
  readonly result: string;
  saved: boolean;
}

/**
 * A text conflict in VS Code's 3-way merge editor: base = the version both sides started from
 * (the engine keeps it), input 1 = theirs, input 2 = the user's, result = the conflicted file.
 * "Complete Merge" saves the result and closes the editor; a merge editor of ours that closes
 * after its result was saved is a completed merge, and `onComplete` settles the conflict with the
 * file as saved. Closed without a save, the conflict stays as it was.
 */
export class ConflictMergeEditor implements vscode.Disposable {
  private readonly open = new Map<string, OpenMerge>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly session: EngineSession,
    private readonly onComplete: (conflict: ConflictView) => void,
  ) {
    this.disposables.push(
      vscode.workspace.onDidSaveTextDocument((doc) => {
        for (const merge of this.open.values()) if (merge.result === doc.uri.toString()) merge.saved = true;
      }),
      vscode.window.tabGroups.onDidChangeTabs((e) => {
        for (const tab of e.closed) this.closed(tab.input);
      }),
    );
  }

  /**
   * Whether the conflict opens in the merge editor here: the engine keeps its base, both sides
   * are text, and this VS Code has the merge editor (`getCommands` without filtering: the
   * command's name starts with an underscore, which the filtered list leaves out).
   */
  async canOpen(conflict: ConflictView): Promise<boolean> {
    const root = this.root(conflict);
    if (conflict.base === undefined || root === undefined) return false;
    if (!(await vscode.commands.getCommands(false)).includes(OPEN_MERGE_EDITOR)) return false;
    for (const path of [conflict.path, conflict.copy]) if (!(await isText(joinSpacePath(root, path)))) return false;
    return true;
  }

  async show(conflict: ConflictView): Promise<void> {
    const root = this.root(conflict);
    if (root === undefined) return;
    const myName = this.session.identity?.name;
    const { copyIsMine } = conflictSides(conflict, myName);
    const labels = sideLabels(conflict, myName, vscode.l10n, timeFormat(vscode.env.language));
    const result = vscode.Uri.file(joinSpacePath(root, conflict.path));
    const side = (which: 'copy' | 'file', label: { title: string; description: string }): object => ({
      uri: conflictUri(conflict, which),
      title: label.title,
      description: label.description,
      detail: which === 'copy' ? conflict.copy : conflict.path,
    });
    this.open.set(conflictKey(conflict), { conflict, result: result.toString(), saved: false });
    await vscode.commands.executeCommand(OPEN_MERGE_EDITOR, {
      base: conflictUri(conflict, 'base'),
      input1: side(copyIsMine ? 'file' : 'copy', labels.theirs),
      input2: side(copyIsMine ? 'copy' : 'file', labels.mine),
      output: result,
    });
  }

  /** Whether a merge editor of ours is open on this conflict. */
  isOpen(conflict: ConflictView): boolean {
    return this.open.has(conflictKey(conflict));
  }

  private closed(input: unknown): void {
    const base = mergeTabBase(input);
    if (!base || base.scheme !== CONFLICT_SCHEME) return;
    const ref = conflictFromUri(base.query);
    const merge = ref && this.open.get(conflictKey(ref));
    if (!ref || !merge) return;
    // Another merge editor on the same conflict may still be open (a second editor group).
    const stillOpen = vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => mergeTabBase(t.input)?.toString() === base.toString()));
    if (stillOpen) return;
    this.open.delete(conflictKey(ref));
    if (merge.saved) this.onComplete(merge.conflict);
  }

  private root(conflict: ConflictView): string | undefined {
    return this.session.status?.spaces.find((s) => s.id === conflict.space)?.path;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/**
 * The base of a merge editor's tab. `vscode.TabInputTextMerge` is a proposed API, so the class is
 * not ours to test against; the tab's input still carries its fields (base, input1, input2, result).
 */
function mergeTabBase(input: unknown): vscode.Uri | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const { base, result } = input as { base?: unknown; result?: unknown };
  return base instanceof vscode.Uri && result instanceof vscode.Uri ? base : undefined;
}

async function isText(path: string): Promise<boolean> {
  try {
    const handle = await fs.open(path, 'r');
    try {
      const probe = new Uint8Array(TEXT_PROBE_BYTES);
      const { bytesRead } = await handle.read(probe, 0, probe.length, 0);
      return !probe.subarray(0, bytesRead).includes(0);
    } finally {
      await handle.close();
    }
  } catch {
    return false;
  }
}
