import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { createTestDatabase, NATS_URL, type TestDatabase } from '../test/integration/pg-database';
import { CLI, freePort } from '../test/integration/net-cluster';
import { memoryOf } from '../test/integration/hostile-client';

/** One configuration of the rendezvous server that bench/scale.ts measures. */
export interface ServerConfig {
  readonly name: string;
  readonly processes: number;
  readonly store: 'sqlite' | 'postgres';
}

/**
 * The limits that would refuse a benchmark's thousands of accounts and connections from one
 * address, and its senders' message rates, raised: the point is the servers' own capacity.
 */
export function benchLimits(connectionsPerProcess: number): string[] {
  return [
    '--rate-limit',
    '10000000',
    '--accounts-per-address',
    '10000000',
    '--accounts-per-hour',
    '10000000',
    '--connections-per-address',
    String(connectionsPerProcess + 1000),
  ];
}

/**
 * The server processes of one configuration, each started as a user starts it: the CLI's
 * `server` command, one process per node, all on one fresh database and NATS for a cluster.
 */
export class ServerGroup {
  private constructor(
    readonly config: ServerConfig,
    readonly dir: string,
    readonly processes: readonly ChildProcess[],
    readonly ports: readonly number[],
    readonly metricsPorts: readonly number[],
    readonly database: TestDatabase | undefined,
  ) {}

  static async start(config: ServerConfig, limits: readonly string[]): Promise<ServerGroup> {
    const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-bench-scale-'));
    const database = config.store === 'postgres' ? await createTestDatabase() : undefined;
    const processes: ChildProcess[] = [];
    const ports: number[] = [];
    const metricsPorts: number[] = [];
    const group = new ServerGroup(config, dir, processes, ports, metricsPorts, database);
    try {
      for (let i = 0; i < config.processes; i++) {
        const port = await freePort();
        const metricsPort = await freePort();
        const store = database
          ? ['--database', database.url, '--bus', NATS_URL, '--node-id', `bench-${i + 1}`]
          : ['--data', nodePath.join(dir, 'data')];
        const args = ['server', '--host', '127.0.0.1', '--port', String(port), '--metrics-host', `127.0.0.1:${metricsPort}`];
        const log = fs.openSync(group.logOf(i), 'a');
        // PROFILE_DIR=DIR: each server writes a CPU profile there when it stops, as in bench:net.
        const profile = process.env['PROFILE_DIR'] ? ['--cpu-prof', '--cpu-prof-dir', process.env['PROFILE_DIR']] : [];
        processes.push(spawn(process.execPath, [...profile, CLI, ...args, ...store, ...limits], { stdio: ['ignore', log, log] }));
        fs.closeSync(log);
        ports.push(port);
        metricsPorts.push(metricsPort);
      }
      // Started together, as a cluster's processes may be: their migrations must not trip over each other.
      await Promise.all(metricsPorts.map((port, i) => group.healthy(port, i)));
      return group;
    } catch (err) {
      await group.stop();
      throw err;
    }
  }

  get urls(): string[] {
    return this.ports.map((p) => `ws://127.0.0.1:${p}`);
  }

  logOf(i: number): string {
    return nodePath.join(this.dir, `server-${i + 1}.log`);
  }

  /** Each process's value of a metric, from its /metrics. */
  async metric(name: string): Promise<number[]> {
    return Promise.all(
      this.metricsPorts.map(async (port) => {
        const text = await get(port, '/metrics');
        const line = text.split('\n').find((l) => l.startsWith(name + ' '));
        if (!line) throw new Error(`no metric ${name}`);
        return Number(line.split(' ')[1]);
      }),
    );
  }

  /** Each process's resident memory, in MiB. */
  rssMiB(): number[] {
    return this.processes.map((p) => memoryOf(p.pid!).rss / 1024 / 1024);
  }

  /** Stops every process as systemd would (SIGTERM), and drops the database. */
  async stop(): Promise<void> {
    await Promise.all(this.processes.map((p) => exited(p)));
    await this.database?.drop();
    // KEEP=1 keeps the servers' logs, as NetWorld does.
    if (process.env['KEEP']) console.log(`kept ${this.dir}`);
    else fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private async healthy(port: number, i: number): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const child = this.processes[i]!;
      if (child.exitCode !== null) throw new Error(`server ${i + 1} exited (${child.exitCode}): ${tail(this.logOf(i))}`);
      if (
        await get(port, '/healthz').then(
          () => true,
          () => false,
        )
      )
        return;
      if (Date.now() > deadline) throw new Error(`server ${i + 1} did not answer /healthz in 60 s: ${tail(this.logOf(i))}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** SIGTERM, then SIGKILL if the process has not exited within 20 s. */
async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await done;
  clearTimeout(timer);
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}

/** A GET that resolves with the body of a 200 and rejects otherwise. */
export function get(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${path}: ${res.statusCode} ${body}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`${path}: no answer in 10 s`)));
    req.on('error', reject);
  });
}
