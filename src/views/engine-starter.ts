import * as vscode from 'vscode';
import type { EngineSession } from './engine-session';
import type { IdentityStore } from './identity-store';
import type { Settings } from './settings';

/** Restarts after a crash wait this long, doubling up to the cap, so a crash loop does not spin. */
const FIRST_RESTART_MS = 1_000;
const MAX_RESTART_MS = 60_000;
/** A host that ran this long without crashing resets the back-off. */
const HEALTHY_MS = 60_000;

/**
 * Starts the engine host when the workspace is trusted (sync reads and writes folders, so it is
 * off in Restricted Mode), restarts it with back-off when it crashes, and keeps its bandwidth
 * limits in line with the settings.
 */
export class EngineStarter implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private restartDelay = FIRST_RESTART_MS;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  private startedAt = 0;
  private disposed = false;

  private readonly _onDidChangeTrust = new vscode.EventEmitter<boolean>();
  readonly onDidChangeTrust = this._onDidChangeTrust.event;

  constructor(
    private readonly session: EngineSession,
    private readonly identities: IdentityStore,
    private readonly settings: Settings,
    private readonly home: string,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      this._onDidChangeTrust,
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        this._onDidChangeTrust.fire(true);
        this.start();
      }),
      session.onDidChangeRunning((running) => {
        if (!running) this.scheduleRestart();
      }),
      settings.onDidChangeLimits(() => {
        if (!session.running) return;
        session.call('setLimits', { limitUp: settings.limitUp ?? 0, limitDown: settings.limitDown ?? 0 })
          .catch((e: unknown) => log.warn(`setLimits failed: ${String(e)}`));
      }),
      settings.onDidChangeIgnorePatterns(() => {
        // The engine protocol has no way to take extra patterns yet; `.sharedignore` in each folder works.
        log.warn('sharedFolders.ignorePatterns is not applied yet: put the patterns in the folder\'s .sharedignore');
      }),
    );
  }

  get trusted(): boolean {
    return vscode.workspace.isTrusted;
  }

  /** Starts the host unless the workspace is untrusted; returns at once, the start runs after activation. */
  start(): void {
    if (this.disposed) return;
    this.session.restricted = !this.trusted;
    if (!this.trusted) {
      this.log.info('workspace not trusted: sync stays off until it is');
      return;
    }
    this.startedAt = Date.now();
    if (this.settings.ignorePatterns.length > 0) this.log.warn('sharedFolders.ignorePatterns is not applied yet: put the patterns in the folder\'s .sharedignore');
    this.session.start(async () => ({
      home: this.home,
      keys: await this.identities.keys(),
      limitUp: this.settings.limitUp,
      limitDown: this.settings.limitDown,
    })).catch(() => this.scheduleRestart());
  }

  private scheduleRestart(): void {
    if (this.disposed || this.restartTimer) return;
    if (Date.now() - this.startedAt > HEALTHY_MS) this.restartDelay = FIRST_RESTART_MS;
    const delay = this.restartDelay;
    this.restartDelay = Math.min(MAX_RESTART_MS, this.restartDelay * 2);
    this.log.info(`restarting the engine host in ${delay} ms`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.start();
    }, delay);
  }

  dispose(): void {
    this.disposed = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    for (const d of this.disposables) d.dispose();
  }
}
