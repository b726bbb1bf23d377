import type * as vscode from 'vscode';
import type { EngineTransport } from './engine-session';
// Replaced by the engine client adapter once wt-engine is merged.

/**
 * Forks the engine host through the engine client (src/node/engine-client.ts) and adapts it to
 * the session's transport interface.
 */
export async function connectEngine(_extensionUri: vscode.Uri, _log: vscode.LogOutputChannel): Promise<EngineTransport> {
  throw new Error('the engine client is not merged yet');
}
