import type * as net from 'node:net';
import type { EngineEvent, EngineResponse } from './engine-protocol';
import { isRequest, type EngineDispatcher } from './engine-dispatch';
import { readLines } from './line-reader';

/** Events a client does not read pile up in its socket; past this it is closed. */
const MAX_UNREAD = 16 * 1024 * 1024;
/** Not served over the socket: the daemon's own life is its process's business. */
const REFUSED: ReadonlySet<string> = new Set(['start', 'stop', 'createIdentity']);

/**
 * A daemon's control socket (the claim's server, see home-claim.ts): newline-delimited JSON of
 * the engine protocol's messages. Each request line is answered with a response line; every
 * engine event goes to every client. Whatever a client sends, only that client is closed.
 */
export class ControlServer {
  private readonly clients = new Set<net.Socket>();

  constructor(
    server: net.Server,
    private readonly dispatcher: EngineDispatcher,
    /** Requests wait for this: the service is started. */
    private readonly ready: Promise<unknown>,
  ) {
    server.on('connection', (socket) => this.serve(socket));
  }

  broadcast(event: EngineEvent): void {
    if (this.clients.size === 0) return;
    const line = JSON.stringify(event) + '\n';
    for (const socket of this.clients) this.write(socket, line);
  }

  close(): void {
    for (const socket of this.clients) socket.destroy();
    this.clients.clear();
  }

  private serve(socket: net.Socket): void {
    this.clients.add(socket);
    readLines(socket, (line) => this.onLine(socket, line));
    socket.on('close', () => this.clients.delete(socket));
  }

  private onLine(socket: net.Socket, line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      // Not this protocol: nothing to answer to.
      return void socket.destroy();
    }
    if (!isRequest(message)) return void socket.destroy();
    void this.ready
      .then(() => this.dispatcher.answer(message, REFUSED))
      .then(
        (response: EngineResponse) => this.write(socket, JSON.stringify(response) + '\n'),
        () =>
          this.write(
            socket,
            JSON.stringify({ kind: 'response', id: message.id, ok: false, code: 'internal', message: 'the daemon did not start' }) + '\n',
          ),
      );
  }

  private write(socket: net.Socket, line: string): void {
    if (socket.destroyed) return;
    if (socket.writableLength > MAX_UNREAD) return void socket.destroy();
    socket.write(line);
  }
}
