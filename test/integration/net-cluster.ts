import * as crypto from 'node:crypto';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { DeviceHome } from '../../src/node/agent/device-home';
import { deviceIdOf } from '../../src/node/crypto/device-keys';
import { sleep, waitFor } from './disk-cluster';
import { LoadBalancer, pinnedSourceAddress } from './load-balancer';
import { createTestDatabase, NATS_URL, type TestDatabase } from './pg-database';

/** Preloaded into a cluster's device processes: they connect from the address their user is pinned by. */
const SOURCE_ADDRESS = nodePath.resolve(__dirname, 'source-address.js');

/**
 * Where test daemons accept direct links: loopback, so no test listens at a real interface or
 * broadcasts on a real LAN (a loopback listen address announces nothing on the LAN).
 */
export const LOOPBACK_LISTEN = '127.0.0.1:0';

/** The CLI as a user runs it. */
export const CLI = nodePath.resolve(__dirname, '../../src/cli/main.js');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The last line of stdout: codes and ids are printed there. */
  readonly last: string;
}

/**
 * `env` is added to this process's environment; `prefix` runs the command through another, as
 * `ip netns exec NS` runs it in a network namespace.
 */
export function cli(
  args: readonly string[],
  timeoutMs = 30_000,
  env: Readonly<Record<string, string>> = {},
  prefix: readonly string[] = [],
): Promise<CliResult> {
  const [file, ...words] = [...prefix, process.execPath, CLI, ...args];
  return new Promise((resolve) => {
    execFile(file!, words, { timeout: timeoutMs, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr, last: stdout.trim().split('\n').pop() ?? '' });
    });
  });
}

/** Runs a command that must succeed; its failure message carries the command's stderr. */
export async function ok(args: readonly string[], prefix: readonly string[] = []): Promise<string> {
  const r = await cli(args, 30_000, {}, prefix);
  if (r.code !== 0) throw new Error(`shared-folders ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.last;
}

/**
 * Where a world's processes run: all on this machine's loopback (the default), or each in a
 * network namespace of its own (network-namespaces.ts), reaching the server at its address there.
 */
export interface Placement {
  /** The address the server listens on and devices reach it at. */
  readonly serverHost: string;
  /**
   * The words run before a command of `who` (a user's name, or 'server'), so it runs where that
   * one lives: none on loopback, `ip netns exec NS` in a namespace.
   */
  prefix(who: string): readonly string[];
  /** Where daemons accept direct links (`run --listen`); undefined: the daemon's default, every address. */
  readonly directListen: string | undefined;
}

/** Every process on this machine's loopback. */
export const LOOPBACK: Placement = { serverHost: '127.0.0.1', prefix: () => [], directListen: LOOPBACK_LISTEN };

/**
 * How many server processes a NetWorld runs unless told: SF_TEST_CLUSTER (say '3') makes every
 * NetWorld a cluster of that many processes over PostgreSQL and NATS behind HAProxy, so the
 * network tests can run a second time against one; unset, 0: one process on SQLite, as `npm start`.
 */
export function clusterSizeFromEnvironment(): number {
  const text = process.env['SF_TEST_CLUSTER'];
  if (text === undefined || text === '') return 0;
  const size = Number(text);
  if (!Number.isInteger(size) || size < 1) throw new Error(`SF_TEST_CLUSTER must be a number of server processes, not "${text}"`);
  return size;
}

/** Users pinned to a process of a cluster by name: alice to the first, bob the second, carol the third. */
const PINNED = ['alice', 'bob', 'carol'];

/**
 * Figures a cluster's processes read from the shared database: each process reports the same
 * total, so it is taken once. Every other figure is the process's own and the cluster's is the sum.
 */
const SHARED_FIGURES = new Set(['sharedfolders_mailbox_items', 'sharedfolders_mailbox_bytes']);
/** Figures of one process's view of the others: neither the same everywhere nor a part of a sum. */
const VIEW_FIGURES = new Set(['sharedfolders_cluster_nodes_alive', 'sharedfolders_remote_sessions']);

/** One server process of a cluster. */
export interface ServerProcess {
  /** Its --node-id, and its name in HAProxy. */
  readonly name: string;
  port: number;
  metricsPort: number;
  /** Its own log: which devices signed in to it. */
  readonly logFile: string;
  readonly dataDir: string;
  child: ChildProcess | undefined;
}

/**
 * A temporary world: a server, device homes and folders under one directory. The server is one
 * process on SQLite, or, for a world made with a cluster size (SF_TEST_CLUSTER by default), that
 * many processes sharing a throwaway PostgreSQL database and NATS, behind a real HAProxy at one
 * address. A user's daemons are pinned to a process by the source address they connect from,
 * and fail over to the others when it dies; every other connection goes to the processes in turn.
 */
export class NetWorld {
  readonly dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-net-'));
  /** The server process; in a cluster, the first. */
  server: ChildProcess | undefined;
  readonly daemons = new Map<string, ChildProcess>();
  /** The port `url` is on: the server's, or a cluster's HAProxy's. */
  port = 0;
  /** Where the server serves /metrics (its --metrics-host); the public port does not. In a cluster, the first process's. */
  metricsPort = 0;
  /** A cluster's processes; empty for one process on SQLite. */
  readonly processes: ServerProcess[] = [];
  balancer: LoadBalancer | undefined;
  database: TestDatabase | undefined;
  /** The flags of the last startServer, so a process started again alone gets them too. */
  private serverExtra: readonly string[] = [];
  /** The process each user's daemons are pinned to. */
  private readonly pinned = new Map<string, number>();
  private spread = 0;

  /** Set for a server started with --tls-cert/--tls-key: devices then use wss:// and trust this CA file. */
  tls: { readonly cert: string; readonly key: string; readonly ca: string } | undefined;

  /**
   * `clusterSize` 0: one process on SQLite; n: n processes over PostgreSQL and NATS behind
   * HAProxy. `placement` puts each process somewhere else than loopback (one process on SQLite only).
   */
  constructor(
    readonly clusterSize = clusterSizeFromEnvironment(),
    readonly placement: Placement = LOOPBACK,
  ) {
    if (clusterSize > 0 && placement !== LOOPBACK) throw new Error('a cluster runs on loopback only');
  }

  get url(): string {
    return `${this.tls ? 'wss' : 'ws'}://${this.placement.serverHost}:${this.port}`;
  }

  /** Runs a command of `who` where it lives; it must succeed. */
  private ok(who: string, args: readonly string[]): Promise<string> {
    return ok(args, this.placement.prefix(who));
  }

  /** GET `path` of the server's port `port`, from where the server runs (its /metrics listens on loopback there). */
  private serverGet(port: number, path: string): Promise<string> {
    const prefix = this.placement.prefix('server');
    return prefix.length === 0 ? get(port, path) : getThrough(prefix, '127.0.0.1', port, path);
  }

  /**
   * The process of a cluster `who`'s daemons connect to while it is up: alice, bob and carol the
   * first three, other names in turn from the first.
   */
  pinnedProcess(who: string): number {
    let index = this.pinned.get(who);
    if (index === undefined) {
      const named = PINNED.indexOf(who);
      index = (named >= 0 ? named : this.spread++) % this.clusterSize;
      this.pinned.set(who, index);
    }
    return index;
  }

  /** What every device command that connects gets: the private CA of a TLS server. */
  private get caArgs(): string[] {
    return this.tls ? ['--ca', this.tls.ca] : [];
  }

  get dataDir(): string {
    return nodePath.join(this.dir, 'server-data');
  }

  /**
   * The server's log file. A cluster's processes each write their own; this file is then their
   * concatenation, made anew at each read of this property, so a test reading "the server's log"
   * reads every process's.
   */
  get serverLog(): string {
    const file = nodePath.join(this.dir, 'server.log');
    if (this.processes.length > 0) fs.writeFileSync(file, this.processes.map((p) => readText(p.logFile) ?? '').join(''));
    return file;
  }

  home(name: string): string {
    return nodePath.join(this.dir, 'homes', name);
  }

  folder(name: string): string {
    return nodePath.join(this.dir, 'folders', name);
  }

  async startServer(extra: readonly string[] = []): Promise<void> {
    if (this.clusterSize > 0) return this.startCluster(extra);
    if (this.port === 0) this.port = await freePort();
    if (this.metricsPort === 0) this.metricsPort = await freePort();
    const log = fs.openSync(this.serverLog, 'a');
    const tls = this.tls ? ['--tls-cert', this.tls.cert, '--tls-key', this.tls.key] : [];
    const metrics = ['--metrics-host', `127.0.0.1:${this.metricsPort}`];
    const host = this.placement.serverHost;
    const args = [CLI, 'server', '--host', host, '--port', String(this.port), '--data', this.dataDir, ...metrics, ...tls, ...extra];
    const [file, ...words] = [...this.placement.prefix('server'), process.execPath, ...args];
    const child = spawn(file!, words, { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.server = child;
    const ca = this.tls ? fs.readFileSync(this.tls.ca, 'utf8') : undefined;
    const answers = async (): Promise<boolean> => {
      if (this.placement === LOOPBACK) return (await health(this.port, ca)) === 200;
      if (child.exitCode !== null) throw new Error(`the server exited: ${readText(this.serverLog) ?? ''}`);
      return getThrough(this.placement.prefix('server'), host, this.port, '/healthz').then(
        () => true,
        () => false,
      );
    };
    await waitFor('the server to answer /healthz', answers, 20_000);
  }

  async stopServer(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.clusterSize > 0) return this.stopCluster(signal);
    await stop(this.server, signal);
    this.server = undefined;
  }

  /**
   * Starts every process of the cluster (the database is made at the first start and kept), then
   * HAProxy at the service's address, and waits until it sees each process up, so pinned daemons
   * reach their own.
   */
  private async startCluster(extra: readonly string[]): Promise<void> {
    this.database ??= await createTestDatabase();
    if (this.processes.length === 0) {
      for (let i = 1; i <= this.clusterSize; i++) {
        this.processes.push({
          name: `node${i}`,
          port: await freePort(),
          metricsPort: await freePort(),
          logFile: nodePath.join(this.dir, `server-node${i}.log`),
          dataDir: nodePath.join(this.dir, `server-data-node${i}`),
          child: undefined,
        });
      }
      this.port = await freePort();
    }
    this.serverExtra = extra;
    // All at once, as an operator's would: migrations must be safe when several processes start together.
    const portsMayChange = this.balancer === undefined;
    await Promise.all(this.processes.map((_, i) => (portsMayChange ? this.startProcessOnFreePorts(i) : this.startProcess(i))));
    this.metricsPort = this.processes[0]!.metricsPort;
    const backends = this.processes.map((p) => ({ name: p.name, port: p.port }));
    this.balancer ??= await LoadBalancer.start(this.dir, backends, this.port, this.tls !== undefined);
    await this.balancer.waitAllUp();
  }

  /**
   * Starts process `index` before HAProxy knows its ports, so they may change: a port freePort
   * found can be taken before the process binds it (outgoing connections take their ports from
   * the same range), and then the process is started on others.
   */
  private async startProcessOnFreePorts(index: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.startProcess(index);
      } catch (err) {
        if (attempt === 3 || !/already in use/.test((err as Error).message)) throw err;
        const p = this.processes[index]!;
        p.port = await freePort();
        p.metricsPort = await freePort();
      }
    }
  }

  /** Starts process `index` of the cluster (again, after killProcess) with the flags of the last startServer. */
  async startProcess(index: number): Promise<void> {
    const p = this.processes[index]!;
    if (p.child && p.child.exitCode === null && p.child.signalCode === null) return;
    const log = fs.openSync(p.logFile, 'a');
    const tls = this.tls ? ['--tls-cert', this.tls.cert, '--tls-key', this.tls.key] : [];
    const args = [
      CLI,
      'server',
      ...['--host', '127.0.0.1', '--port', String(p.port), '--data', p.dataDir],
      ...['--database', this.database!.url, '--bus', NATS_URL, '--node-id', p.name],
      ...['--metrics-host', `127.0.0.1:${p.metricsPort}`],
      ...tls,
      ...this.serverExtra,
    ];
    p.child = spawn(process.execPath, args, { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    if (index === 0) this.server = p.child;
    const child = p.child;
    const ca = this.tls ? fs.readFileSync(this.tls.ca, 'utf8') : undefined;
    await waitFor(
      `${p.name} to answer /healthz`,
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${p.name} exited: ${readText(p.logFile) ?? ''}`);
        return (await health(p.port, ca)) === 200;
      },
      20_000,
    );
  }

  /** Kills process `index` of the cluster (SIGKILL unless told): its daemons fail over through HAProxy. */
  async killProcess(index: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.processes[index]!;
    await stop(p.child, signal);
    p.child = undefined;
    if (index === 0) this.server = undefined;
  }

  /**
   * Stops the service: every process, and HAProxy, so nothing answers at its address, as when a
   * single server is stopped (a device is refused, not let in and cut). The database is kept for
   * the next start. It is dumped into `dataDir` then (bytea in escape form, so printable bytes
   * stay readable), so a test that looks through the server's data folder looks through what the
   * cluster stored.
   */
  private async stopCluster(signal: NodeJS.Signals): Promise<void> {
    await Promise.all(this.processes.map((_, i) => this.killProcess(i, signal)));
    await this.balancer?.stop();
    this.balancer = undefined;
    if (!this.database) return;
    fs.mkdirSync(this.dataDir, { recursive: true });
    const dump = nodePath.join(this.dataDir, 'database.sql');
    await new Promise<void>((resolve, reject) => {
      execFile(
        'pg_dump',
        ['--dbname', this.database!.url, '--file', dump],
        { timeout: 60_000, env: { ...process.env, PGOPTIONS: '-c bytea_output=escape' } },
        (err, _stdout, stderr) => (err ? reject(new Error(`pg_dump failed: ${stderr}`)) : resolve()),
      );
    });
  }

  /**
   * The process of the cluster `who`'s device is signed in to now: the one whose log has the
   * latest sign-in of the device. undefined before any.
   */
  processOf(who: string): number | undefined {
    const device = this.deviceOf(who);
    let latest: { index: number; time: string } | undefined;
    this.processes.forEach((p, index) => {
      for (const line of (readText(p.logFile) ?? '').split('\n')) {
        if (!line.startsWith('{') || !line.includes('"signedIn"') || !line.includes(device)) continue;
        const entry = parsedLine(line);
        if (entry?.['event'] === 'signedIn' && entry['device'] === device && (!latest || String(entry['time']) >= latest.time))
          latest = { index, time: String(entry['time']) };
      }
    });
    return latest?.index;
  }

  /** The id of `who`'s device, from its home. */
  deviceOf(who: string): string {
    return deviceIdOf(new DeviceHome(this.home(who)).identity().keys);
  }

  /** A new user with one device. */
  async user(name: string): Promise<string> {
    await this.ok(name, ['init', '--home', this.home(name), '--name', name, '--server', this.url, ...this.caArgs]);
    return this.home(name);
  }

  async contacts(a: string, b: string): Promise<void> {
    const code = await this.ok(a, ['invite', '--home', this.home(a), ...this.caArgs]);
    await this.ok(b, ['accept', '--home', this.home(b), ...this.caArgs, code]);
  }

  async share(owner: string, folder: string, withNames: readonly string[], role: 'editor' | 'reader' = 'editor'): Promise<string> {
    fs.mkdirSync(this.folder(folder), { recursive: true });
    return this.ok(owner, [
      'share',
      '--home',
      this.home(owner),
      '--path',
      this.folder(folder),
      '--with',
      withNames.join(','),
      '--role',
      role,
      ...this.caArgs,
    ]);
  }

  /** The server, and alice and bob set up as contacts. */
  async aliceAndBob(): Promise<void> {
    await this.startServer();
    await this.user('alice');
    await this.user('bob');
    await this.contacts('alice', 'bob');
  }

  /** alice and bob, contacts, sharing alice's folder `a` as bob's `b`; returns the space id. */
  async alicesFolderWithBob(): Promise<string> {
    await this.aliceAndBob();
    const space = await this.share('alice', 'a', ['bob']);
    await this.join('bob', space, 'b');
    return space;
  }

  async join(who: string, space: string, folder: string): Promise<void> {
    await this.ok(who, ['join', '--home', this.home(who), '--space', space, '--path', this.folder(folder), ...this.caArgs]);
  }

  /**
   * Starts `who`'s daemon. Direct links between daemons are on, at the placement's listen
   * address (loopback on loopback), unless `extra` says `--no-direct` (a test about the relay) or
   * its own `--listen`; `env` is added to its environment.
   */
  start(who: string, extra: readonly string[] = [], env: Readonly<Record<string, string>> = {}): ChildProcess {
    const log = fs.openSync(nodePath.join(this.dir, `${who}.log`), 'a');
    const listenAt = this.placement.directListen;
    const listen = extra.includes('--no-direct') || extra.includes('--listen') || listenAt === undefined ? [] : ['--listen', listenAt];
    const profile = process.env['PROFILE_DIR'] ? ['--cpu-prof', '--cpu-prof-dir', process.env['PROFILE_DIR']] : [];
    const command = [
      ...this.placement.prefix(who),
      process.execPath,
      ...profile,
      CLI,
      'run',
      '--home',
      this.home(who),
      ...this.caArgs,
      ...listen,
      ...extra,
    ];
    const child = spawn(command[0]!, command.slice(1), {
      stdio: ['ignore', log, log],
      env: { ...(this.clusterSize > 0 ? this.pinnedEnvironment(who) : process.env), ...env },
    });
    fs.closeSync(log);
    this.daemons.set(who, child);
    return child;
  }

  /** The environment of `who`'s daemon in a cluster: it connects from the address pinning it to its process. */
  private pinnedEnvironment(who: string): NodeJS.ProcessEnv {
    const preload = `--require ${SOURCE_ADDRESS}`;
    const options = process.env['NODE_OPTIONS'] ? `${process.env['NODE_OPTIONS']} ${preload}` : preload;
    return { ...process.env, NODE_OPTIONS: options, SF_TEST_SOURCE_ADDRESS: pinnedSourceAddress(this.pinnedProcess(who)) };
  }

  async stop(who: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await stop(this.daemons.get(who), signal);
    this.daemons.delete(who);
  }

  async status(who: string): Promise<StatusJson> {
    return JSON.parse(await statusText(this.home(who), this.placement.prefix(who))) as StatusJson;
  }

  /**
   * A figure of the server's /metrics. In a cluster, the sum over its running processes (a killed
   * process's counters died with it), except figures read from the shared database, taken once.
   */
  async metric(name: string): Promise<number> {
    if (this.processes.length === 0) return figureIn(await this.serverGet(this.metricsPort, '/metrics'), name);
    const running = this.processes.flatMap((p, i) => (p.child ? [i] : []));
    if (running.length === 0) throw new Error(`no server process is running to report ${name}`);
    if (VIEW_FIGURES.has(name)) throw new Error(`${name} is one process's view of the cluster: read it with processMetric`);
    if (SHARED_FIGURES.has(name)) return this.processMetric(running[0]!, name);
    let sum = 0;
    for (const i of running) sum += await this.processMetric(i, name);
    return sum;
  }

  /** A figure of one process of the cluster. */
  processMetric(index: number, name: string): Promise<number> {
    return metricAt(this.processes[index]!.metricsPort, name);
  }

  log(who: string): string {
    try {
      return fs.readFileSync(nodePath.join(this.dir, `${who}.log`), 'utf8');
    } catch {
      return '';
    }
  }

  async close(): Promise<void> {
    for (const who of [...this.daemons.keys()]) await this.stop(who, 'SIGKILL');
    if (this.clusterSize > 0) {
      try {
        await Promise.all(this.processes.map((_, i) => this.killProcess(i)));
        await this.balancer?.stop();
      } finally {
        await this.database?.drop();
      }
    } else await this.stopServer('SIGKILL');
    if (!process.env['KEEP']) fs.rmSync(this.dir, { recursive: true, force: true });
    else console.log(`kept ${this.dir}`);
  }
}

export interface StatusJson {
  peers?: { device: string; user: string; name: string; path: 'direct' | 'relay' }[];
  direct?: { enabled: boolean; listening: string[]; bytesSentDirect: number; bytesSentRelay: number };
  spaces: { id: string; path: string; inSync: boolean; members: { name: string; presence: string; role: string }[] }[];
  conflicts: { space: string; path: string }[];
  bytesSent: number;
  bytesReceived: number;
}

async function statusText(home: string, prefix: readonly string[]): Promise<string> {
  const r = await cli(['status', '--home', home, '--json'], 30_000, {}, prefix);
  if (r.code !== 0) throw new Error(`status failed: ${r.stderr}`);
  return r.stdout;
}

/** A JSON log line, or undefined for a line cut short (a process killed while writing it). */
function parsedLine(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

async function stop(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  await Promise.race([exited, sleep(10_000).then(() => child.kill('SIGKILL'))]);
  await exited;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = http.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function metricAt(port: number, name: string): Promise<number> {
  return figureIn(await get(port, '/metrics'), name);
}

function figureIn(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  if (!line) throw new Error(`no metric ${name}`);
  return Number(line.split(' ')[1]);
}

function get(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

/**
 * The body of a plain HTTP GET made by a child node run through `prefix` (in another network
 * namespace, say), which the test process cannot reach itself; an answer other than 200 is an error.
 */
function getThrough(prefix: readonly string[], host: string, port: number, path: string): Promise<string> {
  const script =
    "const [host,port,path]=process.argv.slice(1);const r=require('node:http').get({host,port:+port,path,timeout:5000},(s)=>{" +
    "s.setEncoding('utf8');let b='';s.on('data',(c)=>(b+=c));" +
    "s.on('end',()=>{process.stdout.write(b);process.exitCode=s.statusCode===200?0:1;});});" +
    "r.on('error',(e)=>{process.stderr.write(String(e));process.exitCode=1;});r.on('timeout',()=>r.destroy(new Error('timeout')));";
  const [file, ...words] = [...prefix, process.execPath, '-e', script, host, String(port), path];
  return new Promise((resolve, reject) => {
    execFile(file!, words, { timeout: 10_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`GET ${path} at ${host}:${port} through ${prefix.join(' ')}: ${stderr || err.message}`)) : resolve(stdout),
    );
  });
}

/**
 * The status of GET /healthz; 0 when there is no answer. Over https, trusting `ca`, when it is
 * given; any host name will do, so a server whose certificate is for another name still shows it is up.
 */
export function health(port: number, ca?: string): Promise<number> {
  return new Promise((resolve) => {
    const options = { host: '127.0.0.1', port, path: '/healthz', timeout: 2000 };
    const answered = (res: http.IncomingMessage): void => {
      res.resume();
      resolve(res.statusCode ?? 0);
    };
    const req =
      ca === undefined ? http.get(options, answered) : https.get({ ...options, ca, checkServerIdentity: () => undefined }, answered);
    req.on('error', () => resolve(0));
    req.on('timeout', () => {
      req.destroy();
      resolve(0);
    });
  });
}

/** Writes `bytes` random bytes to `path` in `folder` (making its parents) and returns them. */
export function writeRandom(world: NetWorld, folder: string, path: string, bytes: number): Uint8Array {
  const data = new Uint8Array(crypto.randomBytes(bytes));
  const abs = nodePath.join(world.folder(folder), path);
  fs.mkdirSync(nodePath.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, data);
  return data;
}

/** The file holds exactly `data` (compared by SHA-256); false while it is missing or still being written. */
export function sameFile(world: NetWorld, folder: string, path: string, data: Uint8Array): boolean {
  const abs = nodePath.join(world.folder(folder), path);
  if (fs.statSync(abs, { throwIfNoEntry: false })?.size !== data.length) return false;
  const sha = (b: Uint8Array): string => crypto.createHash('sha256').update(b).digest('hex');
  try {
    return sha(new Uint8Array(fs.readFileSync(abs))) === sha(data);
  } catch {
    return false;
  }
}
