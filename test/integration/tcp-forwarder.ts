import * as net from 'node:net';

/**
 * A loopback TCP forwarder in front of a real service (NATS, say): `cut` closes it and every
 * connection through it, as a network partition would, so one process loses the service while
 * the others keep it.
 */
export class TcpForwarder {
  private readonly sockets = new Set<net.Socket>();

  private constructor(private readonly server: net.Server) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpForwarder> {
    const server = net.createServer();
    const forwarder = new TcpForwarder(server);
    server.on('connection', (client) => {
      const upstream = net.connect({ host: targetHost, port: targetPort });
      for (const s of [client, upstream]) {
        forwarder.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => forwarder.sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return forwarder;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Refuses new connections and drops the open ones. */
  async cut(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}
