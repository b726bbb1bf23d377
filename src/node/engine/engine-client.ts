import { fork, type ChildProcess } from 'node:child_process';
import { EngineCallError, PendingCalls } from './pending-calls';
import type { EngineEvent, EngineMethod, EngineParams, EngineRequest, EngineResult, HostMessage } from './engine-protocol';

/**
 * The extension's side of the engine host: forks the host script, sends typed requests over the
 * IPC channel and hands its events to listeners. No vscode import, so it is tested with plain
 * Node. When the host dies, pending calls fail, and a new host is started after a capped
 * backoff; the last successful `start` is replayed into it (with the keys `createIdentity`
 * returned, if that came later), so callers need not start it again.
 */

export interface EngineClientOptions {
  /** Absolute path of the bundled host (dist/engine-host.js) or the compiled one. */
  readonly hostScript: string;
  /** Defaults to `process.execPath`: Node, or Electron in desktop VS Code (run as Node through the environment). */
  readonly execPath?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Node flags for the host (`--inspect=9230` to debug it); none by default. */
  readonly execArgv?: readonly string[];
  /** A call not answered in this long fails; default 2 minutes. */
  readonly callTimeoutMs?: number;
  /** How long `dispose` waits for the host to stop by itself before killing it; default 10 s. */
  readonly stopTimeoutMs?: number;
  readonly firstBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Lines the host writes to stdout and stderr, and the client's own notes. */
  readonly log?: (line: string) => void;
}

export { EngineCallError };

export interface Disposable {
  dispose(): void;
}

type EventName = EngineEvent['event'];
type EventOf<E extends EventName> = Extract<EngineEvent, { event: E }>;

export interface HostLifecycle {
  /** The host exited; `restarting` tells whether a new one will be started. */
  readonly exited: { readonly code: number | null; readonly signal: string | null; readonly restarting: boolean };
  /** A new host is up and the last `start` was replayed into it. */
  readonly restarted: { readonly pid: number };
}

/** A host that lived this long before dying starts the backoff over. */
const STABLE_MS = 60_000;

export class EngineClient {
  private child: ChildProcess | undefined;
  private readonly pending = new PendingCalls(() => 'the engine host');
  private readonly listeners = new Map<string, Set<(value: never) => void>>();
  private disposed = false;
  private backoffMs: number;
  private restartTimer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  /** The `start` to replay into a restarted host. */
  private startParams: EngineParams<'start'> | undefined;
  /** Resolves when a restarted host has been started again; calls wait for it. */
  private ready: Promise<void> = Promise.resolve();

  constructor(private readonly options: EngineClientOptions) {
    this.backoffMs = options.firstBackoffMs ?? 500;
    this.spawn();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Calls a host method; rejects with an `EngineCallError` carrying the host's error code. */
  async call<M extends EngineMethod>(method: M, params: EngineParams<M>, timeoutMs?: number): Promise<EngineResult<M>> {
    if (method !== 'start') await this.ready;
    const result = (await this.send(method, params, timeoutMs)) as EngineResult<M>;
    if (method === 'start') this.startParams = params as EngineParams<'start'>;
    if (method === 'createIdentity' && this.startParams)
      this.startParams = { ...this.startParams, keys: (result as EngineResult<'createIdentity'>).keys };
    return result;
  }

  /** Listens to one kind of host event. */
  on<E extends EventName>(event: E, listener: (e: EventOf<E>) => void): Disposable;
  on<E extends keyof HostLifecycle>(event: E, listener: (e: HostLifecycle[E]) => void): Disposable;
  on(event: string, listener: (e: never) => void): Disposable {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return { dispose: () => set!.delete(listener) };
  }

  /** Stops the host (asking it to close its replicas first) and stops restarting it. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const stopMs = this.options.stopTimeoutMs ?? 10_000;
      // A host that does not answer `stop`, or answers and does not exit, is killed.
      const asked = this.send('stop', {}, stopMs).then(
        () => Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]),
        () => undefined,
      );
      await Promise.race([exited, asked]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
    this.pending.failAll('the engine host was stopped');
    this.listeners.clear();
  }

  private send(method: EngineMethod, params: unknown, timeoutMs?: number): Promise<unknown> {
    const child = this.child;
    if (!child || !child.connected) return Promise.reject(new EngineCallError('internal', 'the engine host is not running'));
    const { id, answer } = this.pending.open(method, timeoutMs ?? this.options.callTimeoutMs ?? 120_000);
    const request: EngineRequest = { kind: 'request', id, method, params: params as never };
    child.send(request, (err) => {
      if (err) this.pending.abandon(id, new EngineCallError('internal', `could not reach the engine host: ${err.message}`));
    });
    return answer;
  }

  private spawn(): void {
    const child = fork(this.options.hostScript, [], {
      execPath: this.options.execPath ?? process.execPath,
      // Inside desktop VS Code, process.execPath is Electron: this makes it behave as Node.
      env: { ...(this.options.env ?? process.env), ELECTRON_RUN_AS_NODE: '1' },
      // Not the extension host's own flags (an --inspect port while debugging it would clash).
      execArgv: [...(this.options.execArgv ?? [])],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    this.child = child;
    this.startedAt = Date.now();
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      let rest = '';
      stream?.on('data', (chunk: string) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop()!;
        for (const line of lines) if (line) this.options.log?.(line);
      });
    }
    child.on('message', (message: HostMessage) => this.onMessage(message));
    child.on('error', (err) => this.options.log?.(`engine host: ${err.message}`));
    child.on('exit', (code, signal) => this.onExit(child, code, signal));
  }

  private onMessage(message: HostMessage): void {
    if (message?.kind === 'response') this.pending.settle(message);
    else if (message?.kind === 'event') {
      this.fire(message.event, message);
    }
  }

  private fire(event: string, value: unknown): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        (listener as (v: unknown) => void)(value);
      } catch (err) {
        this.options.log?.(`listener for ${event} failed: ${(err as Error).stack ?? String(err)}`);
      }
    }
  }

  private onExit(child: ChildProcess, code: number | null, signal: string | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.pending.failAll(`the engine host exited (${signal ?? `code ${code}`})`);
    const restarting = !this.disposed;
    this.fire('exited', { code, signal, restarting });
    if (!restarting) return;
    if (Date.now() - this.startedAt > STABLE_MS) this.backoffMs = this.options.firstBackoffMs ?? 500;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 30_000);
    this.options.log?.(`engine host exited (${signal ?? `code ${code}`}); starting a new one in ${delay} ms`);
    let release!: () => void;
    this.ready = new Promise((resolve) => (release = resolve));
    this.restartTimer = setTimeout(() => {
      if (this.disposed) return release();
      this.spawn();
      const params = this.startParams;
      const replay = params ? this.send('start', params) : Promise.resolve();
      replay
        .then(() => this.fire('restarted', { pid: this.child?.pid ?? 0 }))
        .catch((err: unknown) => this.options.log?.(`restarting the engine host: ${(err as Error).message}`))
        .finally(release);
    }, delay);
  }
}
