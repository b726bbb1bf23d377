import * as nodePath from 'node:path';
import { RendezvousServer } from '../../server/rendezvous-server';
import { flag, stringOption, type CommandSpec } from '../command-spec';
import { portNumber, positiveNumber } from '../cli-values';
import { DEFAULT_METRICS_PORT, hostAndPort, isListenError, metricsListenError, serverTls } from '../server-options';

export const serverCommand: CommandSpec = {
  name: 'server',
  summary: 'run the rendezvous server that devices sign in to',
  options: {
    host: { type: 'string', value: 'ADDRESS', description: 'address to listen on', default: '127.0.0.1' },
    port: { type: 'string', value: 'PORT', description: 'port to listen on', default: '7070' },
    data: { type: 'string', value: 'DIR', description: 'folder of its SQLite store', default: 'shared-folders-data' },
    'rate-limit': { type: 'string', value: 'MSGS_PER_S', description: 'messages per second a connection may send' },
    // ---- TLS, metrics and proxy (issue 15 points 10 and 12) ----
    'tls-cert': { type: 'string', value: 'FILE', description: 'PEM certificate chain: serve wss:// and https:// (with --tls-key)' },
    'tls-key': { type: 'string', value: 'FILE', description: 'PEM private key of --tls-cert' },
    'metrics-host': {
      type: 'string',
      value: 'HOST[:PORT]',
      description: `serve /metrics there, plain HTTP (port ${DEFAULT_METRICS_PORT} unless given); off without it`,
    },
    'trust-proxy': { type: 'boolean', description: "take clients' addresses from X-Forwarded-For (only behind a reverse proxy)" },
  },
  notes: [
    'Runs until stopped (Ctrl-C or SIGTERM). GET /healthz answers 200 while it runs.',
    'The public port serves only the WebSocket and /healthz; /metrics is served on --metrics-host alone.',
  ],
  run: async (args) => {
    const port = portNumber(stringOption(args, 'port')!);
    const rate = stringOption(args, 'rate-limit');
    const messagesPerSecond = rate === undefined ? undefined : positiveNumber(rate, '--rate-limit', 'messages per second', '50');
    // ---- TLS, metrics and proxy ----
    const tls = serverTls(stringOption(args, 'tls-cert'), stringOption(args, 'tls-key'));
    const metricsHost = stringOption(args, 'metrics-host');
    const metrics = metricsHost === undefined ? undefined : hostAndPort(metricsHost, '--metrics-host', DEFAULT_METRICS_PORT);
    const server = await RendezvousServer.start({
      host: stringOption(args, 'host')!,
      port,
      dataDir: nodePath.resolve(stringOption(args, 'data')!),
      ...(messagesPerSecond ? { limits: { messagesPerSecond } } : {}),
      ...(tls ? { tls } : {}),
      ...(metrics ? { metrics } : {}),
      trustProxy: flag(args, 'trust-proxy'),
    }).catch((err: unknown) => {
      throw metrics && isListenError(err, metrics) ? metricsListenError(err, metricsHost!) : err;
    });
    const expiry = setInterval(() => void server.expireMailbox().catch(() => undefined), 3600_000);
    await new Promise<void>((resolve) => {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
    });
    clearInterval(expiry);
    await server.close();
  },
};
