import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { EngineClient } from '../../node/engine/engine-client';
import { ENGINE_EVENTS, type EngineEvent } from '../../node/engine/engine-protocol';
import type { EngineTransport } from './engine-session';

/**
 * Forks the engine host through the engine client (src/node/engine/engine-client.ts) and adapts it to
 * the session's transport. The host is the bundled dist/engine-host.js in a package; in a
 * development checkout without a bundle, the compiled one under out/.
 */
export async function connectEngine(extensionUri: vscode.Uri, log: vscode.LogOutputChannel): Promise<EngineTransport> {
  const bundled = vscode.Uri.joinPath(extensionUri, 'dist', 'engine-host.js').fsPath;
  const compiled = vscode.Uri.joinPath(extensionUri, 'out', 'src', 'node', 'engine', 'engine-host.js').fsPath;
  const hostScript = fs.existsSync(bundled) ? bundled : compiled;
  const client = new EngineClient({ hostScript, log: (line) => log.info(`[host] ${line}`) });
  log.info(`engine host forked: ${hostScript} (pid ${client.pid ?? '?'})`);
  return {
    call: (method, params) => client.call(method, params),
    onEvent: (listener) => {
      const subscriptions = ENGINE_EVENTS.map((event) => client.on(event, listener as (e: EngineEvent) => void));
      return new vscode.Disposable(() => subscriptions.forEach((s) => s.dispose()));
    },
    onExit: (listener) => {
      const s = client.on('exited', (e) => listener(e.signal ?? `code ${e.code}`, e.restarting));
      return new vscode.Disposable(() => s.dispose());
    },
    onRestart: (listener) => {
      const s = client.on('restarted', () => listener());
      return new vscode.Disposable(() => s.dispose());
    },
    dispose: () => client.dispose(),
  };
}
