/**
 * src/node/engine/: the engine host process (this file, bundled as dist/engine-host.js), its typed
 * RPC (engine-protocol.ts), the client that forks and restarts it (engine-client.ts, used by
 * src/vscode/engine) and the service behind each method (engine-service.ts).
 * Node layer: may import src/sync and the rest of src/node; never vscode, src/server or src/cli.
 *
 * The engine host: a child process the VS Code extension forks (see engine-client.ts), which
 * runs the device agent so that hashing, scanning and transfers stay off the extension host's
 * thread. Requests and events are the JSON messages of engine-protocol.ts over Node's IPC
 * channel. When the channel closes (the extension went away), the host stops the agent and exits.
 */
import '../workers/thread-pool';
import { toEngineError } from './to-engine-error';
import { ENGINE_PROTOCOL_VERSION, type EngineEvent, type EngineMethod, type EngineResponse, type HostMessage } from './engine-protocol';
import { EngineService } from './engine-service';
import { SerialQueue } from '../../sync/util/serial-queue';

/**
 * Requests answered at once, not queued behind slower ones: reads, and live notices. The
 * co-editing ones run to completion synchronously, so they still leave in the order they came
 * (an open before the frames that follow it); a keystroke never waits for a share or a join.
 */
const AT_ONCE: ReadonlySet<EngineMethod> = new Set<EngineMethod>([
  'status',
  'chatHistory',
  'sendTyping',
  'setOpenFiles',
  'markSeen',
  'activityHistory',
  'setActiveEditor',
  'coeditOpen',
  'coeditClose',
  'coeditSend',
]);

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
  const queue = new SerialQueue();
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
    const request = raw as { kind?: unknown; id?: unknown; method?: unknown; params?: unknown };
    if (typeof request !== 'object' || request === null || request.kind !== 'request' || typeof request.id !== 'number') return;
    const id = request.id;
    const method = request.method as EngineMethod;
    const handler = Object.prototype.hasOwnProperty.call(service.handlers, method)
      ? (service.handlers[method] as (p: unknown) => Promise<unknown>)
      : undefined;
    const run = async (): Promise<void> => {
      let response: EngineResponse;
      try {
        if (!handler) throw Object.assign(new Error(`unknown method ${String(method)}`), { name: 'UnknownMethod' });
        response = { kind: 'response', id, ok: true, result: await handler(request.params ?? {}) };
      } catch (err) {
        const { code, message } =
          err instanceof Error && err.name === 'UnknownMethod' ? { code: 'usage' as const, message: err.message } : toEngineError(err);
        if (code === 'internal')
          void send({
            kind: 'event',
            event: 'log',
            level: 'error',
            message: `${String(method)} failed: ${(err as Error)?.stack ?? String(err)}`,
          });
        response = { kind: 'response', id, ok: false, code, message };
      }
      await send(response);
      if (method === 'stop' && response.ok) await stop(0);
    };
    if (AT_ONCE.has(method)) void run();
    else void queue.run(run);
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
