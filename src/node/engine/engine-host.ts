/**
 * src/node/engine/: the engine host process (this file, bundled as dist/engine-host.js), its typed
 * RPC (engine-protocol.ts), the client that forks and restarts it (engine-client.ts, used by
 * src/vscode/engine) and the service behind each method (engine-service.ts).
 * Node layer: may import src/sync and the rest of src/node; never vscode, src/server or src/cli.
 *
 * The engine host: a child process the VS Code extension forks (see engine-client.ts), which
 * runs the device agent so that hashing, scanning and transfers stay off the extension host's
 * thread. Requests and events are the JSON messages of engine-protocol.ts over Node's IPC
 * channel; the requests go through the service's dispatcher (engine-dispatch.ts), as the ones a
 * daemon's control socket brings. When the channel closes (the extension went away), the host
 * stops the agent and exits.
 */
import '../workers/thread-pool';
import { ENGINE_PROTOCOL_VERSION, type EngineEvent, type HostMessage } from './engine-protocol';
import { EngineService } from './engine-service';
import { isRequest } from './engine-dispatch';

/** Resolves once the message is handed to the channel (or the channel is gone). */
function send(message: HostMessage): Promise<void> {
  if (!process.connected) return Promise.resolve();
  return new Promise((resolve) => process.send!(message, undefined, {}, () => resolve()));
}

function main(): void {
  if (!process.send) {
    process.stderr.write('engine-host: this is started by the Shared Folders extension over an IPC channel, not by hand\n');
    process.exit(2);
  }
  const service = new EngineService((event) => void send({ kind: 'event', ...event } as EngineEvent));
  let stopping = false;

  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    // An agent that cannot close (a hung disk) must not keep the process alive.
    setTimeout(() => process.exit(code), 10_000).unref();
    await service.close().catch(() => undefined);
    process.exit(code);
  };

  process.on('message', (raw: unknown) => {
    if (!isRequest(raw)) return;
    void service.dispatcher.answer(raw).then(async (response) => {
      await send(response);
      if (raw.method === 'stop' && response.ok) await stop(0);
    });
  });

  process.on('disconnect', () => void stop(0));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stop(0));
  process.on(
    'unhandledRejection',
    (reason) =>
      void send({ kind: 'event', event: 'log', level: 'error', message: `unhandled: ${(reason as Error)?.stack ?? String(reason)}` }),
  );
  process.on('uncaughtException', (err) => {
    // State may be broken: report, and let the client start a fresh host.
    void send({ kind: 'event', event: 'log', level: 'error', message: `engine host crashed: ${err.stack ?? String(err)}` });
    void stop(1);
  });
  void send({
    kind: 'event',
    event: 'log',
    level: 'info',
    message: `engine host ${process.pid} ready, protocol ${ENGINE_PROTOCOL_VERSION}`,
  });
}

main();
