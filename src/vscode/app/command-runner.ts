/**
 * src/vscode/app/: what the whole extension shares: the command runner (this file: one error
 * handling for every command), errors, settings, context keys, the status bar, notifications,
 * pickers, the identity store (SecretStorage) and localization.
 * Extension layer: may import vscode, src/sync and src/node/engine (the client and its protocol
 * types); never src/server, src/cli or native code. Its view models (VIEW_MODELS in
 * eslint.config.mjs) import no vscode, so unit tests run them in plain Node.
 */
import * as vscode from 'vscode';
import { reportFor } from './errors';
import { Commands, type CommandId } from './commands';

/**
 * The one wrapper every command goes through: errors of any kind become one message, with
 * "Open Log" (and "Set Up" when that is the fix), and the details go to the log.
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
      this.show(label, error);
      return undefined;
    }
  }

  private show(label: string, error: unknown): void {
    const report = reportFor(error, vscode.l10n);
    if (!report) return;
    this.log.error(`${label}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    const openLog = vscode.l10n.t('Open Log');
    const setUp = vscode.l10n.t('Set Up');
    const actions = report.offerSetUp ? [setUp, openLog] : [openLog];
    const shown =
      report.severity === 'warning'
        ? vscode.window.showWarningMessage(report.message, ...actions)
        : vscode.window.showErrorMessage(report.message, ...actions);
    void shown.then((choice) => {
      if (choice === openLog) void vscode.commands.executeCommand(Commands.showLog);
      else if (choice === setUp) void vscode.commands.executeCommand(Commands.setUp);
    });
  }
}
