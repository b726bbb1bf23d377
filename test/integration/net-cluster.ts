import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { sleep, waitFor } from './disk-cluster';

/** The CLI as a user runs it. */
export const CLI = nodePath.resolve(__dirname, '../../src/cli/main.js');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The last line of stdout: codes and ids are printed there. */
  readonly last: string;
}

/** `env` is added to this process's environment. */
export function cli(args: readonly string[], timeoutMs = 30_000, env: Readonly<Record<string, string>> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: timeoutMs, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr, last: stdout.trim().split('\n').pop() ?? '' });
    });
  });
}

/** Runs a command that must succeed; its failure message carries the command's stderr. */
export async function ok(args: readonly string[]): Promise<string> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`shared-folders ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.last;
}

/** A temporary world: a server process, device homes and folders under one directory. */
export class NetWorld {
  readonly dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'sf-net-'));
  server: ChildProcess | undefined;
  readonly daemons = new Map<string, ChildProcess>();
  port = 0;
  /** Where the server serves /metrics (its --metrics-host); the public port does not. */
  metricsPort = 0;
  /** Set for a server started with --tls-cert/--tls-key: devices then use wss:// and trust this CA file. */
  tls: { readonly cert: string; readonly key: string; readonly ca: string } | undefined;

  get url(): string {
    return `${this.tls ? 'wss' : 'ws'}://127.0.0.1:${this.port}`;
  }

  /** What every device command that connects gets: the private CA of a TLS server. */
  private get caArgs(): string[] {
    return this.tls ? ['--ca', this.tls.ca] : [];
  }

  get dataDir(): string {
    return nodePath.join(this.dir, 'server-data');
  }

  get serverLog(): string {
    return nodePath.join(this.dir, 'server.log');
  }

  home(name: string): string {
    return nodePath.join(this.dir, 'homes', name);
  }

  folder(name: string): string {
    return nodePath.join(this.dir, 'folders', name);
  }

  async startServer(extra: readonly string[] = []): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    if (this.metricsPort === 0) this.metricsPort = await freePort();
    const log = fs.openSync(this.serverLog, 'a');
    const tls = this.tls ? ['--tls-cert', this.tls.cert, '--tls-key', this.tls.key] : [];
    const metrics = ['--metrics-host', `127.0.0.1:${this.metricsPort}`];
    const args = [CLI, 'server', '--host', '127.0.0.1', '--port', String(this.port), '--data', this.dataDir, ...metrics, ...tls, ...extra];
    const child = spawn(process.execPath, args, { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.server = child;
    const ca = this.tls ? fs.readFileSync(this.tls.ca, 'utf8') : undefined;
    await waitFor('the server to answer /healthz', async () => (await health(this.port, ca)) === 200, 20_000);
  }

  async stopServer(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await stop(this.server, signal);
    this.server = undefined;
  }

  /** A new user with one device. */
  async user(name: string): Promise<string> {
    await ok(['init', '--home', this.home(name), '--name', name, '--server', this.url, ...this.caArgs]);
    return this.home(name);
  }

  async contacts(a: string, b: string): Promise<void> {
    const code = await ok(['invite', '--home', this.home(a), ...this.caArgs]);
    await ok(['accept', '--home', this.home(b), ...this.caArgs, code]);
  }

  async share(owner: string, folder: string, withNames: readonly string[], role: 'editor' | 'reader' = 'editor'): Promise<string> {
    fs.mkdirSync(this.folder(folder), { recursive: true });
    return ok([
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
    await ok(['join', '--home', this.home(who), '--space', space, '--path', this.folder(folder), ...this.caArgs]);
  }

  start(who: string, extra: readonly string[] = []): ChildProcess {
    const log = fs.openSync(nodePath.join(this.dir, `${who}.log`), 'a');
    const profile = process.env['PROFILE_DIR'] ? ['--cpu-prof', '--cpu-prof-dir', process.env['PROFILE_DIR']] : [];
    const child = spawn(process.execPath, [...profile, CLI, 'run', '--home', this.home(who), ...this.caArgs, ...extra], {
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    this.daemons.set(who, child);
    return child;
  }

  async stop(who: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await stop(this.daemons.get(who), signal);
    this.daemons.delete(who);
  }

  async status(who: string): Promise<StatusJson> {
    return JSON.parse(await statusText(this.home(who))) as StatusJson;
  }

  async metric(name: string): Promise<number> {
    const text = await get(this.metricsPort, '/metrics');
    const line = text.split('\n').find((l) => l.startsWith(name + ' '));
    if (!line) throw new Error(`no metric ${name}`);
    return Number(line.split(' ')[1]);
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
    await this.stopServer('SIGKILL');
    if (!process.env['KEEP']) fs.rmSync(this.dir, { recursive: true, force: true });
    else console.log(`kept ${this.dir}`);
  }
}

export interface StatusJson {
  spaces: { id: string; path: string; inSync: boolean; members: { name: string; presence: string; role: string }[] }[];
  conflicts: { space: string; path: string }[];
  bytesSent: number;
  bytesReceived: number;
}

async function statusText(home: string): Promise<string> {
  const r = await cli(['status', '--home', home, '--json']);
  if (r.code !== 0) throw new Error(`status failed: ${r.stderr}`);
  return r.stdout;
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
