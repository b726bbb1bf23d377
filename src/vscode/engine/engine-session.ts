/**
 * src/vscode/engine/: the extension's connection to the engine host. engine-connection.ts forks
 * it through src/node/engine/engine-client.ts; EngineSession (this file) forwards calls and turns
 * host events into VS Code events; EngineStarter starts it when the workspace is trusted and
 * restarts it after a crash.
 * Extension layer: may import vscode, src/sync and src/node/engine (the client and its protocol
 * types); never src/server, src/cli or native code. Its view models (VIEW_MODELS in
 * eslint.config.mjs) import no vscode, so unit tests run them in plain Node.
 */
import * as vscode from 'vscode';
import type {
  ActiveEditorView,
  ActivityView,
  ChatMessageView,
  CoeditPeerView,
  ConflictView,
  EngineEvent,
  EngineIdentity,
  EngineMethod,
  EngineParams,
  EngineResult,
  EngineStatus,
  InvitationView,
} from '../../node/engine/engine-protocol';
import { EngineNotReady } from '../app/errors';

/** What the session needs of the engine client: typed calls and pushed events. */
export interface EngineTransport {
  /** Stops the host cleanly (it flushes its journals), then ends it. */
  dispose(): Promise<void>;
  call<M extends EngineMethod>(method: M, params: EngineParams<M>): Promise<EngineResult<M>>;
  onEvent(listener: (event: EngineEvent) => void): vscode.Disposable;
  /** Fires when the host process ends; `restarting` when the client starts a new one (and replays `start`). */
  onExit(listener: (reason: string, restarting: boolean) => void): vscode.Disposable;
  /** Fires when a restarted host is up again. */
  onRestart(listener: () => void): vscode.Disposable;
}

export interface StartOptions {
  readonly home: string;
  readonly keys: string | undefined;
  readonly limitUp: number | undefined;
  readonly limitDown: number | undefined;
  /** A private CA's PEM file to trust for a wss:// server (sharedFolders.caFile). */
  readonly caFile?: string | undefined;
  /** Direct links to other devices (sharedFolders.directConnections), and where to accept them (sharedFolders.listenAddress). */
  readonly direct?: boolean | undefined;
  readonly listen?: string | undefined;
}

/** Methods after which the status has changed, so the views refresh without waiting for the host's next push. */
const MUTATING: ReadonlySet<EngineMethod> = new Set<EngineMethod>([
  'createIdentity',
  'openInvite',
  'acceptInvite',
  'declineInvite',
  'removeContact',
  'share',
  'join',
  'decline',
  'addMember',
  'removeMember',
  'changeRole',
  'leave',
  'stopSharing',
  'setPaused',
  'resolveConflict',
  'markSeen',
  'setServer',
]);

/**
 * The extension's side of the engine host: starts it, forwards calls, keeps the latest status and
 * re-emits the host's events as VS Code events. Everything else listens here, never to the host.
 */
export class EngineSession implements vscode.Disposable {
  private transport: EngineTransport | undefined;
  private starting: Promise<void> | undefined;
  private latest: EngineStatus | undefined;
  private state: 'idle' | 'starting' | 'running' | 'stopped' = 'idle';
  private readonly transportListeners: vscode.Disposable[] = [];

  private readonly _onDidChangeStatus = new vscode.EventEmitter<EngineStatus | undefined>();
  readonly onDidChangeStatus = this._onDidChangeStatus.event;
  private readonly _onDidReceiveChat = new vscode.EventEmitter<ChatMessageView>();
  readonly onDidReceiveChat = this._onDidReceiveChat.event;
  private readonly _onDidReceiveTyping = new vscode.EventEmitter<{ conversation: string; user: string; name: string }>();
  readonly onDidReceiveTyping = this._onDidReceiveTyping.event;
  private readonly _onDidReceiveActivity = new vscode.EventEmitter<ActivityView>();
  readonly onDidReceiveActivity = this._onDidReceiveActivity.event;
  private readonly _onDidDetectConflict = new vscode.EventEmitter<ConflictView>();
  readonly onDidDetectConflict = this._onDidDetectConflict.event;
  /** A conflict this host listed is gone (resolved here or elsewhere); `by` names who resolved it, when known. */
  private readonly _onDidResolveConflict = new vscode.EventEmitter<{ conflict: ConflictView; by: string | undefined }>();
  readonly onDidResolveConflict = this._onDidResolveConflict.event;
  private readonly _onDidReceiveInvitation = new vscode.EventEmitter<InvitationView>();
  readonly onDidReceiveInvitation = this._onDidReceiveInvitation.event;
  private readonly _onDidReportProgress = new vscode.EventEmitter<{ space: string; files: number; bytes: number; totalBytes: number }>();
  readonly onDidReportProgress = this._onDidReportProgress.event;
  private readonly _onDidChangeRunning = new vscode.EventEmitter<boolean>();
  readonly onDidChangeRunning = this._onDidChangeRunning.event;
  /** A restarted host is up: it knows nothing of what this window announced (open files, co-editing). */
  private readonly _onDidRestartHost = new vscode.EventEmitter<void>();
  readonly onDidRestartHost = this._onDidRestartHost.event;
  private readonly _onDidChangeCoeditPeers = new vscode.EventEmitter<{ space: string; path: string; peers: readonly CoeditPeerView[] }>();
  readonly onDidChangeCoeditPeers = this._onDidChangeCoeditPeers.event;
  private readonly _onDidReceiveCoeditFrame = new vscode.EventEmitter<{
    space: string;
    path: string;
    session: string;
    from: string;
    frame: string;
  }>();
  readonly onDidReceiveCoeditFrame = this._onDidReceiveCoeditFrame.event;
  private readonly _onDidChangeActiveEditor = new vscode.EventEmitter<ActiveEditorView>();
  readonly onDidChangeActiveEditor = this._onDidChangeActiveEditor.event;

  constructor(
    private readonly connect: () => Promise<EngineTransport>,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  get status(): EngineStatus | undefined {
    return this.latest;
  }

  get identity(): EngineIdentity | undefined {
    return this.latest?.identity;
  }

  get running(): boolean {
    return this.state === 'running';
  }

  /** Set while the workspace is not trusted: the host is not started, and calls say why. */
  restricted = false;

  /**
   * Starts the host once; later calls wait for the same start. The fork happens after the current
   * turn (activation returns first); the options are read then, since reading secrets is async.
   */
  start(options: () => Promise<StartOptions>): Promise<void> {
    this.state = this.state === 'running' ? 'running' : 'starting';
    this.starting ??= this.startHost(options).catch((e: unknown) => {
      this.state = 'stopped';
      this.starting = undefined;
      this._onDidChangeRunning.fire(false);
      this.log.error(`engine host did not start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      throw e;
    });
    return this.starting;
  }

  private async startHost(readOptions: () => Promise<StartOptions>): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    const options = await readOptions();
    const started = Date.now();
    const transport = await this.connect();
    this.transport = transport;
    this.transportListeners.push(
      transport.onEvent((e) => this.onEvent(e)),
      transport.onExit((reason, restarting) => this.onExit(reason, restarting)),
      transport.onRestart(() => {
        this.log.info('engine host restarted');
        void this.refresh();
        this._onDidRestartHost.fire();
      }),
    );
    const params: EngineParams<'start'> = {
      home: options.home,
      ...(options.keys ? { keys: options.keys } : {}),
      ...(options.limitUp ? { limitUp: options.limitUp } : {}),
      ...(options.limitDown ? { limitDown: options.limitDown } : {}),
      ...(options.caFile ? { caFile: options.caFile } : {}),
      ...(options.direct === false ? { direct: false } : {}),
      ...(options.listen ? { listen: options.listen } : {}),
    };
    try {
      await transport.call('start', params);
    } catch (e) {
      this.transport = undefined;
      for (const d of this.transportListeners.splice(0)) d.dispose();
      // Not awaited: stopping the host can take seconds, and the caller gets the start error now.
      void transport.dispose();
      throw e;
    }
    this.state = 'running';
    this.log.info(`engine host started in ${Date.now() - started} ms`);
    this._onDidChangeRunning.fire(true);
    await this.refresh();
  }

  /** Waits for a start in progress; throws when the host is not running or starting. */
  async whenStarted(): Promise<void> {
    if (this.starting) await this.starting;
    if (this.state !== 'running') throw this.notReady();
  }

  /** The status once the host runs; what commands read before acting. */
  async readyStatus(): Promise<EngineStatus | undefined> {
    await this.whenStarted();
    if (!this.latest) await this.refresh();
    return this.latest;
  }

  private notReady(): EngineNotReady {
    if (this.restricted) return new EngineNotReady('untrusted');
    return new EngineNotReady(this.state === 'stopped' ? 'stopped' : 'starting');
  }

  async call<M extends EngineMethod>(method: M, params: EngineParams<M>): Promise<EngineResult<M>> {
    if (this.state === 'starting' && this.starting) await this.starting;
    const transport = this.transport;
    if (!transport || this.state !== 'running') throw this.notReady();
    this.log.trace(`→ ${method}`);
    const result = await transport.call(method, params);
    if (MUTATING.has(method)) void this.refresh();
    return result;
  }

  /** Fetches the status now (the host also pushes it on every change). */
  async refresh(): Promise<void> {
    if (!this.transport || this.state !== 'running') return;
    try {
      this.setStatus(await this.transport.call('status', {}));
    } catch (e) {
      this.log.warn(`status failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private setStatus(status: EngineStatus): void {
    this.latest = status;
    this._onDidChangeStatus.fire(status);
  }

  private onEvent(e: EngineEvent): void {
    switch (e.event) {
      case 'status':
        this.setStatus(e.status);
        break;
      case 'chat':
        this._onDidReceiveChat.fire(e.message);
        break;
      case 'typing':
        this._onDidReceiveTyping.fire({ conversation: e.conversation, user: e.user, name: e.name });
        break;
      case 'activity':
        this._onDidReceiveActivity.fire(e.activity);
        break;
      case 'conflict':
        this._onDidDetectConflict.fire(e.conflict);
        break;
      case 'conflictResolved':
        this._onDidResolveConflict.fire({ conflict: e.conflict, by: e.by });
        break;
      case 'invitation':
        this._onDidReceiveInvitation.fire(e.invitation);
        break;
      case 'progress':
        this._onDidReportProgress.fire({ space: e.space, files: e.files, bytes: e.bytes, totalBytes: e.totalBytes });
        break;
      case 'coeditPeers':
        this._onDidChangeCoeditPeers.fire({ space: e.space, path: e.path, peers: e.peers });
        break;
      case 'coeditFrame':
        this._onDidReceiveCoeditFrame.fire({ space: e.space, path: e.path, session: e.session, from: e.from, frame: e.frame });
        break;
      case 'activeEditor':
        this._onDidChangeActiveEditor.fire(e.editor);
        break;
      case 'log':
        this.writeLog(e.level, e.message);
        break;
    }
  }

  private writeLog(level: 'trace' | 'info' | 'warn' | 'error', message: string): void {
    switch (level) {
      case 'trace':
        this.log.trace(message);
        break;
      case 'info':
        this.log.info(message);
        break;
      case 'warn':
        this.log.warn(message);
        break;
      case 'error':
        this.log.error(message);
        break;
    }
  }

  private onExit(reason: string, restarting: boolean): void {
    if (this.state === 'stopped') return;
    if (restarting) {
      // The client forks a new host and replays `start`; calls wait for it. The last status stays on screen meanwhile.
      this.log.warn(`engine host exited (${reason}); the client is restarting it`);
      return;
    }
    this.log.error(`engine host exited: ${reason}`);
    this.state = 'stopped';
    this.starting = undefined;
    this.transport = undefined;
    for (const d of this.transportListeners.splice(0)) d.dispose();
    this.latest = undefined;
    this._onDidChangeRunning.fire(false);
    this._onDidChangeStatus.fire(undefined);
  }

  /** Asks the host to stop cleanly (flushes journals), then ends it. */
  async stop(): Promise<void> {
    const transport = this.transport;
    if (!transport) return;
    this.state = 'stopped';
    this.transport = undefined;
    for (const d of this.transportListeners.splice(0)) d.dispose();
    // The client asks the host to stop (it flushes its journals), then ends it.
    await transport.dispose();
  }

  /**
   * Stops the host on purpose, to start it again afresh (after the identity was reset): the next
   * `start` forks a new host, and the views forget the old status meanwhile.
   */
  async stopForRestart(): Promise<void> {
    if (this.starting) await this.starting.catch(() => undefined);
    await this.stop();
    this.state = 'idle';
    this.starting = undefined;
    this.latest = undefined;
    this._onDidChangeStatus.fire(undefined);
  }

  dispose(): void {
    void this.stop();
    this._onDidChangeStatus.dispose();
    this._onDidReceiveChat.dispose();
    this._onDidReceiveTyping.dispose();
    this._onDidReceiveActivity.dispose();
    this._onDidDetectConflict.dispose();
    this._onDidResolveConflict.dispose();
    this._onDidReceiveInvitation.dispose();
    this._onDidReportProgress.dispose();
    this._onDidChangeRunning.dispose();
    this._onDidRestartHost.dispose();
    this._onDidChangeCoeditPeers.dispose();
    this._onDidReceiveCoeditFrame.dispose();
    this._onDidChangeActiveEditor.dispose();
  }
}
