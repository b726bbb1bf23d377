import * as nodePath from 'node:path';
import { RendezvousServer } from '../../server/rendezvous-server';
import { DEFAULT_LIMITS } from '../../server/server-limits';
import { stringOption, type CommandSpec } from '../command-spec';
import { portNumber, positiveNumber } from '../cli-values';

export const serverCommand: CommandSpec = {
  name: 'server',
  summary: 'run the rendezvous server that devices sign in to',
  options: {
    host: { type: 'string', value: 'ADDRESS', description: 'address to listen on', default: '127.0.0.1' },
    port: { type: 'string', value: 'PORT', description: 'port to listen on', default: '7070' },
    data: { type: 'string', value: 'DIR', description: 'folder of its SQLite store', default: 'shared-folders-data' },
    'rate-limit': { type: 'string', value: 'MSGS_PER_S', description: 'messages per second a connection may send' },
    'connections-per-address': {
      type: 'string',
      value: 'N',
      description: 'open connections one IP address may hold; more are closed at once',
      default: String(DEFAULT_LIMITS.connectionsPerAddress),
    },
  },
  notes: ['Runs until stopped (Ctrl-C or SIGTERM). GET /healthz answers 200 while it runs; /metrics has its counters.'],
  run: async (args) => {
    const port = portNumber(stringOption(args, 'port')!);
    const rate = stringOption(args, 'rate-limit');
    const messagesPerSecond = rate === undefined ? undefined : positiveNumber(rate, '--rate-limit', 'messages per second', '50');
    const connectionsPerAddress = positiveNumber(
      stringOption(args, 'connections-per-address')!,
      '--connections-per-address',
      'connections',
      '1000',
    );
    const server = await RendezvousServer.start({
      host: stringOption(args, 'host')!,
      port,
      dataDir: nodePath.resolve(stringOption(args, 'data')!),
      limits: { connectionsPerAddress, ...(messagesPerSecond ? { messagesPerSecond } : {}) },
    });
    const expiry = setInterval(() => void server.expireMailbox().catch(() => undefined), 3600_000);
    await new Promise<void>((resolve) => {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
    });
    clearInterval(expiry);
    await server.close();
  },
};
