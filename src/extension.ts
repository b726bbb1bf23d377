import type * as vscode from 'vscode';

/**
 * Composition root. The sidebar, chat and sync services are composed here as they land; until
 * then the extension only activates, so packaging and activation can be tested end to end.
 */
export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push({ dispose: () => undefined });
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
