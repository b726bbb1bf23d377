import * as vscode from 'vscode';
import type { EngineSession } from '../engine/engine-session';
import { joinSpacePath } from '../app/space-paths';

/** Marks conflicted files (and, faintly, their folders) in the Explorer and in our trees. */
export class ConflictDecorations implements vscode.FileDecorationProvider, vscode.Disposable {
  private conflicted = new Set<string>();
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
    const next = new Set<string>();
    for (const space of this.session.status?.spaces ?? []) {
      for (const c of space.conflicts) next.add(vscode.Uri.file(joinSpacePath(space.path, c.path)).toString());
    }
    const changed = [...next].filter((u) => !this.conflicted.has(u)).concat([...this.conflicted].filter((u) => !next.has(u)));
    this.conflicted = next;
    if (changed.length > 0) this._onDidChangeFileDecorations.fire(changed.map((u) => vscode.Uri.parse(u)));
  }

  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    if (uri.scheme !== 'file' || !this.conflicted.has(uri.toString())) return undefined;
    const decoration = new vscode.FileDecoration(
      '!',
      vscode.l10n.t('Conflict: changed on two devices'),
      new vscode.ThemeColor('list.warningForeground'),
    );
    decoration.propagate = true;
    return decoration;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this._onDidChangeFileDecorations.dispose();
  }
}
