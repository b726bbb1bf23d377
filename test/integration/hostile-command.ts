import { spawn, type ChildProcess } from 'node:child_process';
import * as nodePath from 'node:path';
import * as readline from 'node:readline';
import { waitFor } from './disk-cluster';
import { NetWorld } from './net-cluster';

const SCRIPT = nodePath.resolve(__dirname, 'command-connection.js');

/**
 * A device's command connection in a child process of its own (command-connection.ts), driven
 * line by line: what a hostile client can do with a signed-in connection the CLI also opens.
 */
export class HostileCommand {
  readonly lines: string[] = [];
  private read = 0;
  user = '';
  device = '';

  private constructor(readonly child: ChildProcess) {
    readline.createInterface({ input: child.stdout! }).on('line', (line) => this.lines.push(line));
    // The child exits when the server closes its connection, maybe between two lines `answer`
    // writes: the second then meets a closed pipe (EPIPE), and the line printed says why.
    child.stdin!.on('error', () => undefined);
  }

  /** Signed in as the device of `home`. */
  static async open(home: string, url: string): Promise<HostileCommand> {
    const c = new HostileCommand(spawn(process.execPath, [SCRIPT, home, url], { stdio: ['pipe', 'pipe', 'inherit'] }));
    const ready = await c.next();
    const [word, user, device] = ready.split(' ');
    if (word !== 'ready') throw new Error(`the command connection did not sign in: ${ready}`);
    c.user = user!;
    c.device = device!;
    return c;
  }

  send(line: string): void {
    this.child.stdin!.write(line + '\n');
  }

  /** Sends `line`, then a request, and resolves with the first line printed after: "replied" when nothing went wrong. */
  async answer(line: string): Promise<string> {
    this.send(line);
    this.send('state');
    const first = await this.next();
    // A socket the server is closing refuses the request before the close arrives; the close says why.
    return first === 'failed not connected to the server' ? this.next() : first;
  }

  /** The next line the child prints. */
  async next(timeoutMs = 20_000): Promise<string> {
    await waitFor('a line from the command connection', () => this.lines.length > this.read, timeoutMs);
    return this.lines[this.read++]!;
  }

  close(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/**
 * Runs `attack` in a new NetWorld; `connect(name)` opens a command connection as that user's
 * device. Every connection and the world are closed afterwards, whatever happens.
 */
export async function inWorld(
  attack: (world: NetWorld, connect: (name: string) => Promise<HostileCommand>) => Promise<void>,
): Promise<void> {
  const world = new NetWorld();
  const open: HostileCommand[] = [];
  try {
    await attack(world, async (name) => {
      const c = await HostileCommand.open(world.home(name), world.url);
      open.push(c);
      return c;
    });
  } finally {
    for (const c of open) {
      c.child.kill('SIGCONT');
      c.close();
    }
    await world.close();
  }
}
