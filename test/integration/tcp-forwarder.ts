import * as net from 'node:net';

/**
 * A loopback TCP forwarder in front of a real service (NATS, say): `cut` closes it and every
 * connection through it, as a network partition would, so one process loses the service while
 * the others keep it.
 */
export class TcpForwarder {
  private readonly sockets = new Set<net.Socket>();
  /** Bytes forwarded so far, both ways: a test cuts when a transfer through it is under way. */
  forwarded = 0;

  private server: net.Server;
  private listeningPort = 0;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {
    this.server = this.makeServer();
  }

  static async start(targetHost: string, targetPort: number): Promise<TcpForwarder> {
    const forwarder = new TcpForwarder(targetHost, targetPort);
    await forwarder.listen(0);
    return forwarder;
  }

  private makeServer(): net.Server {
    const server = net.createServer();
    server.on('connection', (client) => {
      const upstream = net.connect({ host: this.targetHost, port: this.targetPort });
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('data', (data: Buffer) => (this.forwarded += data.length));
        s.on('close', () => this.sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    return server;
  }

  private async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    this.listeningPort = (this.server.address() as net.AddressInfo).port;
  }

  get port(): number {
    return this.listeningPort;
  }

  /** Forwards again, on the same port, after `cut`. */
  async restore(): Promise<void> {
    this.server = this.makeServer();
    await this.listen(this.listeningPort);
  }

  /** Refuses new connections and drops the open ones. */
  async cut(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}
