#!/usr/bin/env node
/**
 * src/cli/: the `shared-folders` command (package.json "bin"). `server` starts the rendezvous
 * server; the other commands use the same account functions and device agent as the engine host
 * (src/node/agent), through the home's running daemon when there is one (via-daemon.ts).
 * The commands are a table (command-table.ts, one file per group under commands/); parsing,
 * usage texts and error lines are derived from it. May import src/sync, src/node and src/server;
 * nothing imports it.
 */
import '../node/workers/thread-pool';
import { COMMANDS } from './command-table';
import { readCommandLine } from './command-line';
import { DEBUG_VARIABLE, presentError } from './cli-errors';
import { PROGRAM } from './usage';
import { printable } from '../sync/util/printable';

/** Runs one command line; resolves with the exit status. Nothing it throws reaches the user as a stack. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const line = readCommandLine(argv, COMMANDS);
    if (line.kind === 'usage') {
      (line.status === 0 ? process.stdout : process.stderr).write(line.text + '\n');
      return line.status;
    }
    return (await line.command.run(line.args)) ?? 0;
  } catch (err) {
    return report(err);
  }
}

/** One line on stderr; the stack only when asked for with SHARED_FOLDERS_DEBUG=1. */
function report(err: unknown): number {
  const presented = presentError(err);
  // A server's or a peer's words can be part of the line.
  process.stderr.write(`${PROGRAM}: ${printable(presented.line)}\n`);
  if (process.env[DEBUG_VARIABLE] === '1' && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return presented.status;
}

if (require.main === module) {
  // A failure outside the command's own promise (a timer, a socket) ends the process the same way: one line.
  for (const event of ['uncaughtException', 'unhandledRejection'] as const)
    process.on(event, (err: unknown) => {
      process.exitCode = report(err);
      process.exit();
    });
  // A reader that went away (`shared-folders --help | head -1`) is not this command's failure.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit();
  });
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
