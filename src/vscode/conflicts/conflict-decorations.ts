import * as vscode from 'vscode';
import type { ConflictView } from '../../node/engine/engine-protocol';
import type { EngineSession } from '../engine/engine-session';
import { joinSpacePath } from '../app/space-paths';
import { conflictTooltip, timeFormat } from './conflict-labels';

/**
 * Marks conflicted files (and, faintly, their folders) in the Explorer and in our trees; the
 * tooltip says who changed the file on each side, and when.
 */
export class ConflictDecorations implements vscode.FileDecorationProvider, vscode.Disposable {
  /** By file URI (as a string): the oldest open conflict of that file. */
  private conflicted = new Map<string, ConflictView>();
  private readonly _onDidChangeFileDecorations = new vscode.EventEmitter<vscode.Uri[]>();
  readonly onDidChangeFileDecorations = this._onDidChangeFileDecorations.event;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly session: EngineSession) {
    this.disposables.push(
      vscode.window.registerFileDecorationProvider(this),
      session.onDidChangeStatus(() => this.update()),
    );
    this.update();
  }

  private update(): void {
    const next = new Map<string, ConflictView>();
    for (const space of this.session.status?.spaces ?? []) {
      for (const c of space.conflicts) {
        const uri = vscode.Uri.file(joinSpacePath(space.path, c.path)).toString();
        if (!next.has(uri)) next.set(uri, c);
      }
    }
    // A conflict that changed (its authors arrived, another copy came first) gets its tooltip again.
    const changed = [...next.keys()]
      .filter((u) => JSON.stringify(this.conflicted.get(u)) !== JSON.stringify(next.get(u)))
      .concat([...this.conflicted.keys()].filter((u) => !next.has(u)));
    this.conflicted = next;
    if (changed.length > 0) this._onDidChangeFileDecorations.fire(changed.map((u) => vscode.Uri.parse(u)));
  }

  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    const conflict = uri.scheme === 'file' ? this.conflicted.get(uri.toString()) : undefined;
    if (!conflict) return undefined;
    const tooltip = conflictTooltip(conflict, this.session.identity?.name, vscode.l10n, timeFormat(vscode.env.language));
    const decoration = new vscode.FileDecoration('!', tooltip, new vscode.ThemeColor('list.warningForeground'));
    decoration.propagate = true;
    return decoration;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this._onDidChangeFileDecorations.dispose();
  }
}
