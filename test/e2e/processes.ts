import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs: number,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message.split('\n')[0]})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A port the OS says is free on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port from the OS'))));
    });
  });
}

interface Tracked {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

/**
 * Every process a test starts. Each is the leader of its own process group, so stopping it by its
 * PID also stops what it started (code-server's extension host, the engine host, file watchers).
 * An exit guard kills whatever is still running if the test process ends (or is interrupted)
 * without a clean stop.
 */
export class Processes {
  private readonly live = new Map<number, Tracked>();
  private readonly guard = (): void => {
    for (const pid of this.live.keys()) killGroup(pid, 'SIGKILL');
  };

  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.guard();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };

  constructor() {
    process.on('exit', this.guard);
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  /** Starts `command` with stdout and stderr appended to `logFile`. */
  start(
    name: string,
    command: string,
    args: readonly string[],
    options: { env?: NodeJS.ProcessEnv; logFile: string; cwd?: string },
  ): ChildProcess {
    const log = fs.openSync(options.logFile, 'a');
    fs.writeSync(log, `\n--- ${new Date().toISOString()} ${command} ${args.join(' ')}\n`);
    const child = spawn(command, args, {
      stdio: ['ignore', log, log],
      env: options.env ?? process.env,
      cwd: options.cwd,
      detached: true,
    });
    fs.closeSync(log);
    const pid = child.pid;
    if (pid === undefined) throw new Error(`${name} did not start`);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.live.set(pid, { name, child, exited });
    return child;
  }

  /** Tracks a process someone else started (Playwright's Chromium) so it is stopped with the rest. */
  adopt(name: string, child: ChildProcess): void {
    const pid = child.pid;
    if (pid === undefined) return;
    const exited =
      child.exitCode !== null || child.signalCode !== null
        ? Promise.resolve()
        : new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.live.set(pid, { name, child, exited });
  }

  isRunning(child: ChildProcess): boolean {
    return child.pid !== undefined && this.live.has(child.pid) && child.exitCode === null && child.signalCode === null;
  }

  /** SIGTERM to the process group, SIGKILL after `graceMs` if the leader has not exited. */
  async stop(child: ChildProcess, graceMs = 10_000): Promise<void> {
    const pid = child.pid;
    if (pid === undefined) return;
    const tracked = this.live.get(pid);
    if (!tracked) return;
    killGroup(pid, 'SIGTERM');
    const done = await Promise.race([tracked.exited.then(() => true), sleep(graceMs).then(() => false)]);
    // Whatever is left of the group (children that ignore SIGTERM) goes too.
    killGroup(pid, 'SIGKILL');
    if (!done) await Promise.race([tracked.exited, sleep(5_000)]);
    this.live.delete(pid);
  }

  async stopAll(): Promise<void> {
    const all = [...this.live.values()].reverse();
    await Promise.all(all.map((t) => this.stop(t.child)));
    process.removeListener('exit', this.guard);
    process.removeListener('SIGINT', this.onSignal);
    process.removeListener('SIGTERM', this.onSignal);
  }
}

/** Signals the process group led by `pid`, or the process alone if it leads none. */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
    return;
  } catch {
    // Not a group leader, or already gone.
  }
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}
