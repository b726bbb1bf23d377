import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as nodePath from 'node:path';
import { sleep, waitFor } from './disk-cluster';

/** One server process behind the load balancer: its name in HAProxy, and the port it listens on. */
export interface Backend {
  readonly name: string;
  readonly port: number;
}

/**
 * The loopback address a device pinned to backends[index] connects from (source-address.ts):
 * 127.0.0.11 for the first, 127.0.0.12 for the second, ...
 */
export function pinnedSourceAddress(index: number): string {
  return `127.0.0.${11 + index}`;
}

/**
 * A real HAProxy in front of a cluster's server processes, as an operator would run one: one
 * address for the whole service (devices compare the server address in invite and link codes
 * with their own, so a service has one), plain TCP so WebSocket upgrades and TLS pass through
 * untouched. A connection from pinnedSourceAddress(i) goes to process i while its /healthz
 * answers, and to the others (`backup`) when it does not, so a test can pin a user to a process
 * and still see the user fail over when it dies; any other connection goes to the processes in
 * turn. HAProxy runs as a child of the test, from a config file in `dir`, never as the
 * machine's service.
 */
export class LoadBalancer {
  private child: ChildProcess | undefined;
  private readonly config: string;
  private readonly statsSocket: string;
  private readonly logFile: string;

  private constructor(
    dir: string,
    private readonly backends: readonly Backend[],
    /** The service's port, on 127.0.0.1. */
    readonly port: number,
    private readonly tls: boolean,
  ) {
    this.config = nodePath.join(dir, 'haproxy.cfg');
    this.statsSocket = nodePath.join(dir, 'haproxy.sock');
    this.logFile = nodePath.join(dir, 'haproxy.log');
  }

  /** Starts HAProxy on 127.0.0.1:port and waits until it reports every backend up. */
  static async start(dir: string, backends: readonly Backend[], port: number, tls = false): Promise<LoadBalancer> {
    const lb = new LoadBalancer(dir, backends, port, tls);
    fs.writeFileSync(lb.config, lb.configText());
    lb.launch();
    await lb.waitAllUp();
    return lb;
  }

  /**
   * Timeouts: `tunnel` governs an upgraded WebSocket, which may sit idle between heartbeats far
   * longer than a request would. Health checks every 200 ms, out after 2 failures and back after 1
   * success, so a killed process stops getting connections within about half a second. Each
   * process is checked once, in the backend it is primary of; everywhere else its state tracks
   * that check (`track`).
   */
  private configText(): string {
    const check = this.tls ? 'check check-ssl verify none' : 'check';
    const lines = [
      'global',
      `  stats socket ${this.statsSocket} mode 600 level admin`,
      'defaults',
      '  mode tcp',
      '  timeout connect 2s',
      '  timeout client 1h',
      '  timeout server 1h',
      '  timeout tunnel 1h',
      '  timeout check 1s',
      // A connection to a process that just died goes to another at once, not back to the device.
      '  retries 2',
      '  option redispatch',
      '  timeout client-fin 5s',
      '  timeout server-fin 5s',
      'frontend service',
      `  bind 127.0.0.1:${this.port}`,
      ...this.backends.map((b, i) => `  use_backend ${b.name}_first if { src ${pinnedSourceAddress(i)} }`),
      '  default_backend in_turn',
      'backend in_turn',
      '  balance roundrobin',
      ...this.backends.map((b) => `  server ${b.name} 127.0.0.1:${b.port} track ${b.name}_first/${b.name}`),
    ];
    this.backends.forEach((primary, i) => {
      lines.push(`backend ${primary.name}_first`, '  option httpchk GET /healthz', '  default-server inter 200ms fall 2 rise 1');
      lines.push(`  server ${primary.name} 127.0.0.1:${primary.port} ${check}`);
      // Backups in turn from the next process: HAProxy uses the first one up, so when the second
      // process dies its users move to the third, not in with the first's.
      for (let k = 1; k < this.backends.length; k++) {
        const other = this.backends[(i + k) % this.backends.length]!;
        lines.push(`  server ${other.name} 127.0.0.1:${other.port} backup track ${other.name}_first/${other.name}`);
      }
    });
    return lines.join('\n') + '\n';
  }

  private launch(): void {
    const log = fs.openSync(this.logFile, 'a');
    this.child = spawn('haproxy', ['-f', this.config, '-db'], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.child.on('error', () => undefined);
  }

  /** What HAProxy wrote: its own errors and warnings (it logs no traffic here). */
  log(): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** The state HAProxy gives each process (`UP`, `DOWN`, ...), from its stats socket. */
  async states(): Promise<Map<string, string>> {
    const csv = await this.command('show stat');
    const header = csv.split('\n')[0]?.replace(/^# /, '').split(',') ?? [];
    const [px, sv, status] = ['pxname', 'svname', 'status'].map((col) => header.indexOf(col));
    const states = new Map<string, string>();
    for (const line of csv.split('\n').slice(1)) {
      const cells = line.split(',');
      const backend = this.backends.find((b) => cells[px!] === `${b.name}_first` && cells[sv!] === b.name);
      if (backend) states.set(backend.name, cells[status!] ?? '');
    }
    return states;
  }

  /** Waits until HAProxy has seen every process answer /healthz, so pinned devices reach their own. */
  async waitAllUp(timeoutMs = 20_000): Promise<void> {
    await waitFor(
      `HAProxy to see ${this.backends.map((b) => b.name).join(', ')} up`,
      async () => {
        if (this.child?.exitCode !== null) throw new Error(`HAProxy exited: ${this.log()}`);
        const states = await this.states().catch(() => new Map<string, string>());
        return this.backends.every((b) => states.get(b.name) === 'UP');
      },
      timeoutMs,
    );
  }

  /** Waits until HAProxy has taken `name` out: new connections pinned to it go to a backup. */
  async waitDown(name: string, timeoutMs = 10_000): Promise<void> {
    await waitFor(`HAProxy to see ${name} down`, async () => (await this.states()).get(name)?.startsWith('DOWN') === true, timeoutMs);
  }

  private command(text: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection(this.statsSocket);
      let out = '';
      socket.setEncoding('utf8');
      socket.setTimeout(3000, () => socket.destroy(new Error(`HAProxy's stats socket did not answer "${text}"`)));
      socket.on('connect', () => socket.write(text + '\n'));
      socket.on('data', (chunk: string) => (out += chunk));
      socket.on('end', () => resolve(out));
      socket.on('error', reject);
    });
  }

  /** Stops HAProxy at once (SIGTERM: a hard stop that closes its tunnels), bounded; SIGKILL if it lingers. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(5000).then(() => child.kill('SIGKILL'))]);
    await exited;
  }
}
