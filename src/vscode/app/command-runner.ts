import * as vscode from 'vscode';
import { reportFor } from './errors';

export const SHOW_LOG_COMMAND = 'sharedFolders.showLog';
export const SET_UP_COMMAND = 'sharedFolders.setUp';

/**
 * The one wrapper every command goes through: errors of any kind become one message, with
 * "Open Log" (and "Set Up" when that is the fix), and the details go to the log.
 */
export class CommandRunner {
  constructor(private readonly log: vscode.LogOutputChannel) {}

  register(id: string, handler: (...args: unknown[]) => unknown): vscode.Disposable {
    return vscode.commands.registerCommand(id, (...args: unknown[]) => this.run(id, () => handler(...args)));
  }

  /** Runs work outside a command (a notification's button, a webview message) with the same error handling. */
  async run<T>(label: string, work: () => T | Thenable<T>): Promise<T | undefined> {
    try {
      return await work();
    } catch (error) {
      this.show(label, error);
      return undefined;
    }
  }

  private show(label: string, error: unknown): void {
    const report = reportFor(error, vscode.l10n);
    if (!report) return;
    this.log.error(`${label}: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    const openLog = vscode.l10n.t('Open Log');
    const setUp = vscode.l10n.t('Set Up');
    const actions = report.offerSetUp ? [setUp, openLog] : [openLog];
    const shown = report.severity === 'warning'
      ? vscode.window.showWarningMessage(report.message, ...actions)
      : vscode.window.showErrorMessage(report.message, ...actions);
    void shown.then((choice) => {
      if (choice === openLog) void vscode.commands.executeCommand(SHOW_LOG_COMMAND);
      else if (choice === setUp) void vscode.commands.executeCommand(SET_UP_COMMAND);
    });
  }
}
