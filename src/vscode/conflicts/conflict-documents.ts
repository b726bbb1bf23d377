import * as fs from 'node:fs/promises';
import * as vscode from 'vscode';
import { CONFLICT_SCHEME, conflictFromUri, conflictSideFromUri, conflictUriParts, type ConflictSide } from './conflict-uri';
import type { ConflictView } from '../../node/engine/engine-protocol';
import type { EngineSession } from '../engine/engine-session';
import { joinSpacePath } from '../app/space-paths';

export function conflictUri(conflict: ConflictView, side: ConflictSide = 'copy'): vscode.Uri {
  const { path, query } = conflictUriParts(conflict, side);
  return vscode.Uri.from({ scheme: CONFLICT_SCHEME, path, query });
}

/**
 * Serves the versions of a conflict read-only: the other side for the diff (the copy, or the
 * file when the copy is the user's), both sides and their base for the merge editor. The diff's
 * left side and the merge editor's inputs cannot be edited or saved.
 */
export class ConflictDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly _onDidChange = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this._onDidChange.event;
  private readonly registration: vscode.Disposable;

  constructor(private readonly session: EngineSession) {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(CONFLICT_SCHEME, this);
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const conflict = conflictFromUri(uri.query);
    const space = conflict ? this.session.status?.spaces.find((s) => s.id === conflict.space) : undefined;
    if (!conflict || !space) return vscode.l10n.t('(This conflict is no longer open.)');
    const side = conflictSideFromUri(uri.query);
    if (side === 'base') return this.base(conflict);
    const file = side === 'copy' ? conflict.copy : conflict.path;
    try {
      return await fs.readFile(joinSpacePath(space.path, file), 'utf8');
    } catch {
      return vscode.l10n.t('(The other version, {0}, is no longer on disk.)', file);
    }
  }

  /** The version both sides started from, as the engine keeps it; empty when it keeps none (the merge then has no common lines). */
  private async base(conflict: ConflictView): Promise<string> {
    try {
      const { base } = await this.session.call('conflictBase', { space: conflict.space, copy: conflict.copy });
      return base === undefined ? '' : Buffer.from(base, 'base64').toString('utf8');
    } catch {
      return '';
    }
  }

  dispose(): void {
    this.registration.dispose();
    this._onDidChange.dispose();
  }
}
