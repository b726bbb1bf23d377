/**
 * src/vscode/app/: what the whole extension shares: the command runner (this file: one error
 * handling for every command), errors, settings, context keys, the status bar, notifications,
 * pickers, the identity store (SecretStorage) and localization.
 * Extension layer: may import vscode, src/sync and src/node/engine (the client and its protocol
 * types); never src/server, src/cli or native code. Its view models (VIEW_MODELS in
 * eslint.config.mjs) import no vscode, so unit tests run them in plain Node.
 */
import * as vscode from 'vscode';
import { Retryable, reportFor } from './errors';
import { Commands, type CommandId } from './commands';

/**
 * The one wrapper every command goes through: errors of any kind become one message, with
 * "Open Log" (and "Set Up" when that is the fix; "Open Settings" and "Retry" when the server
 * could not be reached), and the details go to the log.
 */
export class CommandRunner {
  constructor(private readonly log: vscode.LogOutputChannel) {}

  register(id: CommandId, handler: (...args: unknown[]) => unknown): vscode.Disposable {
    return vscode.commands.registerCommand(id, (...args: unknown[]) => this.run(id, () => handler(...args)));
  }

  /** Runs work outside a command (a notification's button, a webview message) with the same error handling. */
  async run<T>(label: string, work: () => T | Thenable<T>): Promise<T | undefined> {
    try {
      return await work();
    } catch (error) {
      // Retry runs the same work again, unless the failure names a narrower retry (Set Up keeps the typed name).
      this.show(label, error, error instanceof Retryable ? error.retry : work);
      return undefined;
    }
  }

  private show(label: string, error: unknown, retry: () => unknown): void {
    const report = reportFor(error, vscode.l10n);
    if (!report) return;
    const cause = error instanceof Retryable ? error.cause : error;
    this.log.error(`${label}: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`);
    const openLog = vscode.l10n.t('Open Log');
    const setUp = vscode.l10n.t('Set Up');
    const openSettings = vscode.l10n.t('Open Settings');
    const again = vscode.l10n.t('Retry');
    const actions = report.serverSetting ? [openSettings, again, openLog] : report.offerSetUp ? [setUp, openLog] : [openLog];
    const shown =
      report.severity === 'warning'
        ? vscode.window.showWarningMessage(report.message, ...actions)
        : vscode.window.showErrorMessage(report.message, ...actions);
    void shown.then((choice) => {
      if (choice === openLog) void vscode.commands.executeCommand(Commands.showLog);
      else if (choice === setUp) void vscode.commands.executeCommand(Commands.setUp);
      else if (choice === openSettings) void vscode.commands.executeCommand('workbench.action.openSettings', report.serverSetting);
      else if (choice === again) void this.run(label, retry);
    });
  }
}
