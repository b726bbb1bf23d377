import type * as http from 'node:http';
import type * as https from 'node:https';
import type { Socket } from 'node:net';
import type { BurstLog } from './burst-log';
import type { ServerMetrics } from './server-metrics';

export interface GateLimits {
  readonly connectionsPerAddress: number;
  /** Time from TCP connect to a complete HTTP request (upgrade or plain). */
  readonly requestTimeoutMs: number;
}

/**
 * Every TCP connection before HTTP sees it: caps the connections one address holds open, and
 * closes those that have not completed their HTTP request (a WebSocket upgrade included) in
 * time, so half-sent requests cannot hold the server's file descriptors.
 */
export class ConnectionGate {
  private readonly perAddress = new Map<string, number>();

  constructor(
    private readonly limits: GateLimits,
    private readonly metrics: ServerMetrics,
    private readonly bursts: BurstLog,
  ) {}

  attach(server: http.Server | https.Server): void {
    server.on('connection', (socket: Socket) => this.onSocket(socket));
    // A complete request: from here the sign-in limit (upgrades) or Node's keep-alive timeout (plain requests) applies.
    server.on('upgrade', (req: http.IncomingMessage) => this.completed(req.socket));
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => res.once('finish', () => this.completed(req.socket)));
  }

  /**
   * Keyed by the peer's address and port, not by socket: with TLS the request arrives on the
   * TLSSocket wrapped around the TCP socket this gate saw, and both report the same peer.
   */
  private readonly timers = new Map<string, NodeJS.Timeout>();

  private onSocket(socket: Socket): void {
    const address = socket.remoteAddress ?? '?';
    const open = (this.perAddress.get(address) ?? 0) + 1;
    if (open > this.limits.connectionsPerAddress) {
      this.metrics.connectionsRefused++;
      this.bursts.note('connectionsRefused', address, {
        remote: address,
        limit: this.limits.connectionsPerAddress,
        reason: 'too many connections from one address',
      });
      socket.destroy();
      return;
    }
    this.perAddress.set(address, open);
    const timer = setTimeout(() => {
      this.metrics.requestsTimedOut++;
      this.bursts.note('requestTimedOut', address, {
        remote: address,
        limitMs: this.limits.requestTimeoutMs,
        reason: 'HTTP request not complete in time',
      });
      socket.destroy();
    }, this.limits.requestTimeoutMs);
    const key = peerKey(socket);
    this.timers.set(key, timer);
    socket.once('close', () => {
      clearTimeout(timer);
      this.timers.delete(key);
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
    });
  }

  private completed(socket: Socket): void {
    const key = peerKey(socket);
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
  }
}

function peerKey(socket: Socket): string {
  return `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
}
