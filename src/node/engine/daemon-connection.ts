import * as fs from 'node:fs';
import * as net from 'node:net';
import type { DeviceHome } from '../agent/device-home';
import { EngineCallError, PendingCalls } from './pending-calls';
import type { EngineEvent, EngineMethod, EngineParams, EngineRequest, EngineResult, HostMessage } from './engine-protocol';
import { readHolder } from './home-claim';
import { readLines } from './line-reader';

/** A call the daemon does not answer in this long fails (a join waits for the server, and may scan). */
const CALL_TIMEOUT_MS = 120_000;
const CONNECT_TIMEOUT_MS = 5_000;

/** A running daemon of a home, reached over its control socket (control-server.ts). */
export interface DaemonConnection {
  readonly pid: number;
  /** Rejects with an `EngineCallError` carrying the daemon's error code and message. */
  call<M extends EngineMethod>(method: M, params: EngineParams<M>): Promise<EngineResult<M>>;
  onEvent(listener: (e: EngineEvent) => void): () => void;
  close(): void;
}

/** The daemon running this home, if one is; undefined when none is (or a one-shot command holds it). */
export async function connectDaemon(home: DeviceHome): Promise<DaemonConnection | undefined> {
  if (!fs.existsSync(home.dir)) return undefined;
  // Under the lock, daemon.json and the socket it names belong to the same holder.
  const unlock = home.lock();
  let found: { socket: net.Socket; pid: number } | undefined;
  try {
    const holder = readHolder(home);
    if (holder?.kind !== 'daemon') return undefined;
    const socket = await connect(holder.socket);
    found = socket && { socket, pid: holder.pid };
  } finally {
    unlock();
  }
  return found && new SocketConnection(found.socket, found.pid);
}

/** The connected socket, or undefined when nobody listens on it any more (its holder was killed). */
function connect(path: string): Promise<net.Socket | undefined> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new EngineCallError('internal', `the daemon did not answer on ${path}`));
    }, CONNECT_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(undefined);
      else reject(new EngineCallError('internal', `cannot reach the daemon on ${path}: ${err.message}`));
    });
  });
}

class SocketConnection implements DaemonConnection {
  private readonly pending: PendingCalls;
  private readonly listeners = new Set<(e: EngineEvent) => void>();
  private closed = false;

  constructor(
    private readonly socket: net.Socket,
    readonly pid: number,
  ) {
    this.pending = new PendingCalls(() => `the daemon (process ${pid})`);
    readLines(socket, (line) => this.onLine(line));
    socket.on('close', () => this.fail(`the daemon (process ${pid}) closed the connection`));
  }

  call<M extends EngineMethod>(method: M, params: EngineParams<M>): Promise<EngineResult<M>> {
    if (this.closed) return Promise.reject(new EngineCallError('internal', `the connection to the daemon (process ${this.pid}) is closed`));
    const { id, answer } = this.pending.open(method, CALL_TIMEOUT_MS);
    const request: EngineRequest<M> = { kind: 'request', id, method, params };
    this.socket.write(JSON.stringify(request) + '\n');
    return answer as Promise<EngineResult<M>>;
  }

  onEvent(listener: (e: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.socket.destroy();
    this.fail('the connection to the daemon was closed');
  }

  private onLine(line: string): void {
    let message: HostMessage;
    try {
      message = JSON.parse(line) as HostMessage;
    } catch {
      return;
    }
    if (message?.kind === 'response') this.pending.settle(message);
    else if (message?.kind === 'event') {
      for (const listener of [...this.listeners]) listener(message);
    }
  }

  private fail(reason: string): void {
    this.closed = true;
    this.listeners.clear();
    this.pending.failAll(reason);
  }
}
