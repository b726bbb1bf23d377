import * as vscode from 'vscode';
import type { EngineSession } from '../engine/engine-session';
import { TransferTracker, formatBytes, type TransferState } from './transfer-tracker';

/** A transfer that sends no progress for this long is considered over (the host may have lost the peer). */
const STALE_MS = 15_000;

interface OpenProgress {
  report(state: TransferState): void;
  finish(): void;
}

/** Long transfers get a progress notification (window.withProgress); short ones stay silent. */
export class TransferProgress implements vscode.Disposable {
  private readonly tracker = new TransferTracker();
  private readonly open = new Map<string, OpenProgress>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly session: EngineSession) {
    this.disposables.push(session.onDidReportProgress((p) => this.onProgress(p)));
  }

  private onProgress(p: { space: string; files: number; bytes: number; totalBytes: number }): void {
    const now = Date.now();
    const state = this.tracker.update(p, now);
    const shown = this.open.get(p.space);
    if (state.done) {
      shown?.finish();
      this.open.delete(p.space);
      return;
    }
    if (shown) shown.report(state);
    else if (this.tracker.isLong(state, now)) this.show(state);
  }

  private show(first: TransferState): void {
    const name = this.session.status?.spaces.find((s) => s.id === first.space)?.name ?? first.space.slice(0, 8);
    let finish!: () => void;
    let last = first.fraction;
    let stale: ReturnType<typeof setTimeout> | undefined;
    let progress: vscode.Progress<{ message?: string; increment?: number }> | undefined;
    const message = (s: TransferState): string =>
      vscode.l10n.t('{0} files, {1} of {2}', s.files, formatBytes(s.bytes), formatBytes(s.totalBytes));
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const arm = (): void => {
      if (stale) clearTimeout(stale);
      stale = setTimeout(() => entry.finish(), STALE_MS);
    };
    const entry: OpenProgress = {
      report: (s) => {
        arm();
        progress?.report({ message: message(s), increment: Math.max(0, (s.fraction - last) * 100) });
        last = s.fraction;
      },
      finish: () => {
        if (stale) clearTimeout(stale);
        this.open.delete(first.space);
        finish();
      },
    };
    this.open.set(first.space, entry);
    arm();
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Syncing {0}', name), cancellable: false },
      (p) => {
        progress = p;
        p.report({ message: message(first), increment: first.fraction * 100 });
        return done;
      },
    );
  }

  dispose(): void {
    for (const p of [...this.open.values()]) p.finish();
    for (const d of this.disposables) d.dispose();
  }
}
