import * as vscode from 'vscode';
import { busyMessage, isEngineFailure } from '../app/errors';
import type { EngineSession } from './engine-session';
import type { IdentityStore } from '../app/identity-store';
import type { Settings } from '../app/settings';

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
  private toldKeysMissing = false;
  private toldBusy = false;

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
        session
          .call('setLimits', { limitUp: settings.limitUp ?? 0, limitDown: settings.limitDown ?? 0 })
          .catch((e: unknown) => log.warn(`setLimits failed: ${String(e)}`));
      }),
      // Keys that were not readable at start (a locked keychain, a browser's secret store that
      // failed to load) start the host as soon as they are there.
      identities.onDidChangeKeys(() => {
        if (!session.running) this.start();
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
    this.session
      .start(async () => ({
        home: this.home,
        keys: await this.identities.keys(),
        limitUp: this.settings.limitUp,
        limitDown: this.settings.limitDown,
        caFile: this.settings.caFile,
        direct: this.settings.directConnections,
        listen: this.settings.listenAddress,
        ignorePatterns: this.settings.ignorePatterns,
      }))
      .catch((e: unknown) => {
        if (isEngineFailure(e) && e.code === 'notSetUp') this.tellKeysMissing();
        if (isEngineFailure(e) && e.code === 'busy') this.tellBusy(e.message);
        this.scheduleRestart();
      });
  }

  /**
   * The home has an identity but SecretStorage gave no keys. Said once: retrying goes on quietly
   * (with back-off, and at once when the secret changes), and a reload reads the store afresh.
   */
  private tellKeysMissing(): void {
    if (this.toldKeysMissing) return;
    this.toldKeysMissing = true;
    this.log.error("this device has an identity, but its keys could not be read from VS Code's secret storage");
    const reload = vscode.l10n.t('Reload Window');
    void vscode.window
      .showErrorMessage(
        vscode.l10n.t(
          "Shared Folders could not read this device's keys from VS Code's secret storage, so sync is off. Reload the window to try again.",
        ),
        reload,
      )
      .then((choice) => {
        if (choice === reload) void vscode.commands.executeCommand('workbench.action.reloadWindow');
      });
  }

  /**
   * Another process holds the home. Said once: the restarts with back-off go on quietly, and the
   * first one after that process stops starts sync here.
   */
  private tellBusy(detail: string): void {
    this.log.warn(`not syncing here: ${detail}`);
    if (this.toldBusy) return;
    this.toldBusy = true;
    void vscode.window.showWarningMessage(busyMessage(detail, vscode.l10n));
  }

  /** Stops the host, runs `work` while nothing holds the home, and starts a new host. */
  async restartAround(work: () => Promise<void>): Promise<void> {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    await this.session.stopForRestart();
    try {
      await work();
    } finally {
      this.start();
    }
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
