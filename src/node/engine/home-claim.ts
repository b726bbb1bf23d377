import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { HomeError, type DeviceHome } from '../agent/device-home';
import { writeAtomic } from '../disk/durable-write';

/**
 * One process at a time works a home: a daemon (`shared-folders run`, or the extension's engine
 * host) or a one-shot CLI command. The claim is a Unix socket the holder listens on, so a holder
 * that was killed leaves nothing that blocks the next one (a socket nobody listens on is stale),
 * and a daemon's socket is also where commands reach it (control-server.ts).
 */

export type ClaimKind = 'daemon' | 'command';

/** Who holds a home, as HOME/daemon.json says. */
export interface ClaimHolder {
  readonly pid: number;
  readonly kind: ClaimKind;
  readonly socket: string;
}

export interface HomeClaim {
  readonly socketPath: string;
  /** Listening on `socketPath`; a 'command' claim turns every connection away. */
  readonly server: net.Server;
  release(): Promise<void>;
}

export interface ClaimOptions {
  /** How long to wait for a one-shot command holding the home to end; default 60 s. */
  readonly waitMs?: number;
}

/** The home is held by another live process. A HomeError, so the CLI prints it as one line. */
export class HomeBusyError extends HomeError {
  constructor(
    readonly home: string,
    readonly pid: number | undefined,
    readonly kind: ClaimKind,
  ) {
    super(
      kind === 'daemon'
        ? `${home} is already running as process ${pid ?? '?'}`
        : `${home} is busy with a shared-folders command (process ${pid ?? '?'}); try again once it has finished`,
    );
    this.name = 'HomeBusyError';
  }
}

const WAIT_MS = 60_000;
const POLL_MS = 100;
const PROBE_MS = 2_000;
/** Unix socket paths are limited to 104 (macOS) or 108 (Linux) bytes, with the terminator. */
const MAX_SOCKET_PATH = 100;

/** Where the holder of `homeDir` listens: in the home, or a private folder of this user when that path is too long for a socket. */
export function controlSocketPath(homeDir: string): string {
  const hash = crypto.createHash('sha256').update(nodePath.resolve(homeDir)).digest('hex').slice(0, 24);
  if (process.platform === 'win32') return `\\\\.\\pipe\\shared-folders-${hash}`;
  const inHome = nodePath.join(homeDir, 'daemon.sock');
  if (Buffer.byteLength(inHome) <= MAX_SOCKET_PATH) return inHome;
  return nodePath.join(privateTmpDir(), `${hash}.sock`);
}

/** Claims the home or throws HomeBusyError; waits (bounded) for a one-shot command that holds it. */
export async function claimHome(home: DeviceHome, kind: ClaimKind, options: ClaimOptions = {}): Promise<HomeClaim> {
  fs.mkdirSync(home.dir, { recursive: true, mode: 0o700 });
  const socketPath = controlSocketPath(home.dir);
  const deadline = Date.now() + (options.waitMs ?? WAIT_MS);
  for (;;) {
    const outcome = await tryClaim(home, kind, socketPath);
    if ('server' in outcome) return outcome;
    const holder = outcome.busy;
    if (holder.kind === 'daemon' || Date.now() >= deadline) throw new HomeBusyError(home.dir, holder.pid, holder.kind);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** The holder HOME/daemon.json names, if the file is there (it may be stale: probe its socket). */
export function readHolder(home: DeviceHome): ClaimHolder | undefined {
  try {
    const o = JSON.parse(fs.readFileSync(home.file('daemon.json'), 'utf8')) as Partial<ClaimHolder>;
    if (typeof o.pid !== 'number' || (o.kind !== 'daemon' && o.kind !== 'command') || typeof o.socket !== 'string') return undefined;
    return { pid: o.pid, kind: o.kind, socket: o.socket };
  } catch {
    return undefined;
  }
}

/**
 * Under the home's lock, so that two claimers never both find a stale socket and both bind: the
 * second one's probe then reaches the first one's live socket.
 */
async function tryClaim(
  home: DeviceHome,
  kind: ClaimKind,
  socketPath: string,
): Promise<HomeClaim | { busy: Partial<ClaimHolder> & { kind: ClaimKind } }> {
  const unlock = home.lock();
  try {
    for (let attempt = 0; ; attempt++) {
      let server: net.Server;
      try {
        server = await listen(socketPath);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt > 0) throw err;
        if (await answers(socketPath)) {
          const holder = readHolder(home);
          return { busy: holder ?? { kind: 'daemon' } };
        }
        // Its holder was killed: nothing listens on it any more.
        fs.rmSync(socketPath, { force: true });
        continue;
      }
      if (kind === 'command') server.on('connection', (socket) => socket.destroy());
      const holder: ClaimHolder = { pid: process.pid, kind, socket: socketPath };
      writeAtomic(home.file('daemon.json'), JSON.stringify(holder), 0o600);
      return { socketPath, server, release: once(() => release(home, server, socketPath)) };
    }
  } finally {
    unlock();
  }
}

async function release(home: DeviceHome, server: net.Server, socketPath: string): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const unlock = home.lock();
  try {
    if (readHolder(home)?.pid === process.pid) fs.rmSync(home.file('daemon.json'), { force: true });
    if (process.platform !== 'win32') fs.rmSync(socketPath, { force: true });
  } finally {
    unlock();
  }
  // Resolves once the connections still open are gone; their owners close them.
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1_000))]);
}

function listen(socketPath: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    // The socket is created by bind, synchronously in listen: a umask makes it private from the start.
    const umask = process.platform === 'win32' ? undefined : process.umask(0o177);
    try {
      server.listen(socketPath, () => {
        server.off('error', reject);
        if (process.platform !== 'win32') fs.chmodSync(socketPath, 0o600);
        resolve(server);
      });
    } finally {
      if (umask !== undefined) process.umask(umask);
    }
  });
}

/** Whether a process listens on the socket: refused or missing means its holder is gone. */
function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    const timer = setTimeout(() => done(true), PROBE_MS);
    socket.once('connect', () => done(true));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') done(false);
      else {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      }
    });
    function done(alive: boolean): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(alive);
    }
  });
}

/** A folder only this user can enter, for sockets of homes whose own path is too long. */
function privateTmpDir(): string {
  const uid = process.getuid?.() ?? 0;
  const dir = nodePath.join(os.tmpdir(), `shared-folders-${uid}`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = fs.lstatSync(dir);
  // Another user could have made it first, to listen in our place.
  if (!stat.isDirectory() || stat.uid !== uid || (stat.mode & 0o077) !== 0)
    throw new HomeError(`${dir} is not a private folder of this user: remove it and try again`);
  return dir;
}

function once(run: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= run());
}
